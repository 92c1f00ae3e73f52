"""The officers' statistics as pictures over time: questions per day (answered and
refused), the refusal and 差评 rates per day, and the most asked unanswered questions.

Drawn on the server by matplotlib as SVG with its text kept as text (``svg.fonttype``
none), so the officer's browser sets the Chinese in its own fonts: the server needs no CJK
font, and nothing loads from anywhere else. Citizens' questions in the labels are escaped
by the SVG writer; the desk shows the picture in an <img>, where an SVG runs no script.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

CHARTS = ("questions", "rates", "unanswered")
LABEL_CHARS = 22  # an unanswered question's label, cut to this many characters


def render(name: str, daily: Sequence[Mapping[str, Any]],
           unanswered: Sequence[Mapping[str, Any]]) -> bytes:
    """The SVG of chart ``name`` (one of CHARTS) from the stats' series."""
    drawers: dict[str, Callable[[], Any]] = {
        "questions": lambda: _questions(daily), "rates": lambda: _rates(daily),
        "unanswered": lambda: _unanswered(unanswered)}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(), matplotlib.rc_context({"svg.fonttype": "none",
                                                          "svg.hashsalt": "policyqa"}):
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        fig = drawers[name]()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        plt.close(fig)
    return buf.getvalue()


def _days(daily: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(d["day"])[5:] for d in daily]  # mm-dd


def _axes(width: float = 8.0, height: float = 2.8) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _ticks(ax: Any, labels: list[str]) -> None:
    step = max(1, len(labels) // 10)
    ax.set_xticks(range(0, len(labels), step), labels[::step], fontsize=8)


def _questions(daily: Sequence[Mapping[str, Any]]) -> Any:
    fig, ax = _axes()
    x = range(len(daily))
    answered = [d["answered"] for d in daily]
    ax.bar(x, answered, color="#3b7dd8", label="已回答")
    ax.bar(x, [d["refused"] for d in daily], bottom=answered, color="#e8833a", label="未能回答")
    _ticks(ax, _days(daily))
    ax.set_title("每日咨询量", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _rates(daily: Sequence[Mapping[str, Any]]) -> Any:
    """Refusal rate (refused / questions) and 差评 rate (差评 / rated) per day; a day
    without questions (or ratings) has no point."""
    fig, ax = _axes()
    x = list(range(len(daily)))

    def rate(num: str, den: str) -> list[float]:
        return [d[num] / d[den] if d[den] else float("nan") for d in daily]

    ax.plot(x, rate("refused", "questions"), marker="o", ms=3, color="#e8833a",
            label="未能回答率")
    ax.plot(x, rate("bad", "rated"), marker="s", ms=3, color="#c0392b", label="差评率")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    _ticks(ax, _days(daily))
    ax.set_title("每日未能回答率与差评率", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _unanswered(top: Sequence[Mapping[str, Any]]) -> Any:
    fig, ax = _axes(8.0, 0.32 * max(1, len(top)) + 1.0)
    labels = [_cut(str(t["question"])) for t in top]
    ax.barh(range(len(top)), [t["count"] for t in top], color="#e8833a")
    ax.set_yticks(range(len(top)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title("未能回答的高频问题" if top else "未能回答的高频问题（暂无）", fontsize=10)
    ax.set_xlabel("次数", fontsize=8)
    return fig


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
