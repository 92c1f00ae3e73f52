"""The evaluation as pictures: one self-contained HTML page (and its PNGs) from the JSON
report of ``policyqa eval`` — what a table of numbers hides at once: which documents and
kinds of question fail, which document is cited instead of the expected one, where the
gate's scores of answerable and unanswerable questions overlap around its thresholds, and
the latency distribution.

matplotlib draws (Agg, no screen); the page embeds each PNG as a data URI, so it opens
anywhere with nothing to load. Labels are doc ids and kinds (ASCII): a machine without CJK
fonts draws them all the same.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

FIGURES = ("by_document", "by_kind", "confusion", "gate_scores", "latency")
PERCENTILES = (50, 90, 95, 99)


def write_report(report: Mapping[str, Any], out_dir: Path, title: str = "policyqa eval"
                 ) -> Path:
    """Write ``index.html`` and one PNG per figure into ``out_dir``; the page's path.
    Each file is written to a temporary name and renamed (a reader never sees half)."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir.mkdir(parents=True, exist_ok=True)
    drawers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        "by_document": lambda r: _bars(r["by_document"], "Handled correctly, by document "
                                       "(answerable: first expected document)"),
        "by_kind": lambda r: _bars(r["by_kind"], "Handled correctly, by kind of question"),
        "confusion": _confusion, "gate_scores": _gate_scores, "latency": _latency}
    pngs = {}
    for name in FIGURES:
        fig = drawers[name](report)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        _close(fig)
        pngs[name] = buf.getvalue()
        _atomic(out_dir / f"{name}.png", pngs[name])
    page = out_dir / "index.html"
    _atomic(page, _html(report, pngs, title).encode("utf-8"))
    return page


def _atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _bars(groups: Mapping[str, Mapping[str, Any]], title: str) -> Any:
    """Per group: share handled correctly, answer accuracy and refusal recall, with n."""
    import matplotlib.pyplot as plt

    names = list(groups)
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(names) + 1.4))
    y = np.arange(len(names))
    for off, key, label in ((-0.27, "correct", "handled correctly"),
                            (0.0, "answer_accuracy", "answer accuracy"),
                            (0.27, "refusal_recall", "refusal recall")):
        vals = [groups[g][key] if groups[g][key] is not None else np.nan for g in names]
        ax.barh(y + off, vals, height=0.26, label=label)
    ax.set_yticks(y, [f"{g} (n={groups[g]['n']})" for g in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.9, color="grey", lw=0.8, ls="--")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _confusion(report: Mapping[str, Any]) -> Any:
    """Answerable questions: the expected document (rows) against the one cited first,
    or refused (columns); the diagonal is the right document."""
    import matplotlib.pyplot as plt

    pairs: Counter[tuple[str, str]] = Counter()
    for q in report["per_question"]:
        if q["answerable"] and q["expected"]:
            got = q["citations"][0]["doc_id"] if q["status"] == "answered" and q[
                "citations"] else "(refused)"
            pairs[(q["expected"][0]["doc_id"], got)] += 1
    rows = sorted({e for e, _ in pairs})
    cols = rows + sorted({g for _, g in pairs} - set(rows))
    m = np.array([[pairs[(r, c)] for c in cols] for r in rows] or [[0]])
    fig, ax = plt.subplots(figsize=(0.45 * len(cols) + 3, 0.4 * len(rows) + 2.5))
    ax.imshow(np.log1p(m), cmap="Blues", aspect="auto")
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > m.max() / 2 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("cited first (or refused)")
    ax.set_ylabel("expected")
    ax.set_title("Which document answered, for each expected one", fontsize=10)
    return fig


def _gate_scores(report: Mapping[str, Any]) -> Any:
    """The gate's decisive scores (top cosine, question coverage), answerable against
    unanswerable questions, with its thresholds."""
    import matplotlib.pyplot as plt

    gate = report.get("gate", {})
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, feat, lines in ((axes[0], "dense", ("dense_min", "dense_sure")),
                            (axes[1], "coverage", ("coverage_min",))):
        for answerable, label in ((True, "answerable"), (False, "unanswerable")):
            vals = [q["features"][feat] for q in report["per_question"]
                    if q["answerable"] is answerable and feat in (q.get("features") or {})]
            if vals:
                ax.hist(vals, bins=30, alpha=0.55, label=f"{label} (n={len(vals)})")
        for key in lines:
            if key in gate:
                ax.axvline(gate[key], color="black", ls="--", lw=1)
                ax.text(gate[key], ax.get_ylim()[1] * 0.95, f" {key}={gate[key]}", fontsize=7,
                        va="top")
        ax.set_xlabel({"dense": "top clause cosine", "coverage": "question bigrams in clause"
                       }[feat])
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle("The gate's decisive scores (questions the gate scored)", fontsize=10)
    return fig


def _latency(report: Mapping[str, Any]) -> Any:
    """Per-question latency (in-process, warm), with its percentiles."""
    import matplotlib.pyplot as plt

    lat = [q["latency_ms"] for q in report["per_question"] if q.get("latency_ms") is not None]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    if lat:
        ax.hist(lat, bins=40, color="tab:green", alpha=0.7)
        for p in PERCENTILES:
            v = float(np.percentile(lat, p))
            ax.axvline(v, color="black", ls=":", lw=1)
            ax.text(v, ax.get_ylim()[1] * 0.9, f" p{p} {v:.1f}", fontsize=7, rotation=90,
                    va="top")
    ax.set_xlabel("ms per question")
    ax.set_title(f"Latency ({len(lat)} questions)", fontsize=10)
    return fig


def latency_percentiles(report: Mapping[str, Any]) -> dict[str, float]:
    lat = [q["latency_ms"] for q in report["per_question"] if q.get("latency_ms") is not None]
    return {f"p{p}": round(float(np.percentile(lat, p)), 2) for p in PERCENTILES} if lat else {}


SUMMARY = (("n", "questions"), ("recall_at_1", "Recall@1"), ("recall_at_3", "Recall@3"),
           ("answer_accuracy", "answer accuracy"), ("refusal_recall", "refusal recall"),
           ("refused_or_not_fixed", "refused or figure not fixed"),
           ("false_refusal_rate", "false refusal rate"), ("quote_exact_rate", "quotes exact"))


def _html(report: Mapping[str, Any], pngs: Mapping[str, bytes], title: str) -> str:
    cells = "".join(f"<tr><th>{html.escape(label)}</th><td>{report.get(key, '–')}</td></tr>"
                    for key, label in SUMMARY)
    cells += "".join(f"<tr><th>latency {k}</th><td>{v} ms</td></tr>"
                     for k, v in latency_percentiles(report).items())
    figs = "".join(
        f'<figure id="{name}"><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"><figcaption>{name}.png</figcaption>'
        f"</figure>" for name, data in pngs.items())
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            f"max-width:1100px;margin:1em auto}}img{{max-width:100%}}th{{text-align:left;"
            f"padding-right:1em}}figure{{margin:1.5em 0}}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{cells}</table>{figs}</body></html>")
