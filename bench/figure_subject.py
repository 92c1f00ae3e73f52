"""Experiment (not adopted): a figure asked must be stated about the asked quantity.

The content words just before the figure question (陪产假 in 陪产假有几天; the N nearest)
must occur in the clause's best sentences, or a policy word the question was expanded with
must; otherwise the gate refuses. Measured 2026-12-02: on dev, N = 1 / 2 / 3 cost answer
accuracy (0.820 → 0.792 / 0.801 / 0.803) and raised false refusals (0.035 → 0.063 / 0.054 /
0.052) with no refusal gained.

Usage: .venv/bin/python bench/figure_subject.py
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tune

import policyqa.gate as gate
from policyqa.gate import rules
from policyqa.gate.model import Case, Context, Refusal
from policyqa.lexicon import FigureKind
from policyqa.service import PolicyQA
from policyqa.settings import Settings

SETS = ["questions", "holdout", "holdout2", "holdout3", "holdout4"]
_PUNCT = re.compile(r"[，,。；;？?！!]")


def subject(q: str, kinds: Sequence[FigureKind], words: Callable[[str], list[str]], n: int
            ) -> list[str]:
    for k in kinds:
        m = k.asked.search(q) if k.asked is not None else None
        if m:
            return words(_PUNCT.split(q[:m.start()])[-1])[-n:]
    return []


def with_subject(n: int) -> Callable[[Case, Context], Case | Refusal]:
    def rule(case: Case, ctx: Context) -> Case | Refusal:
        out = rules.states_figure(case, ctx)
        if isinstance(out, Refusal) or out.figure != "stated":
            return out
        evidence = ctx.clauses.evidence(case.hit)
        policy_words = set(ctx.words(case.expanded)) - set(ctx.words(case.q))
        subj = subject(case.q, case.kinds, ctx.words, n)
        if subj and not any(w in evidence for w in [*subj, *policy_words]):
            return Refusal("subject", "")
        return out
    return rule


def main() -> None:
    qa = PolicyQA.open(Settings().resolved())
    sets = tune.gold_signals(qa, SETS)
    base = gate.CHECKS
    for n in (0, 1, 2, 3):  # 0: the rule as served
        gate.CHECKS = base if n == 0 else tuple(  # type: ignore[misc]
            with_subject(n) if c is rules.states_figure else c for c in base)
        row = []
        for name, data in sets.items():
            s = tune.score(qa, data, qa.retriever.params, qa.answerer.params)
            row.append(f"{name} acc {s['acc']:.3f} ref {s['refusal']:.3f} fr {s['frr']:.3f}")
        print(f"N={n}", " | ".join(row), flush=True)
    gate.CHECKS = base  # type: ignore[misc]


if __name__ == "__main__":
    main()
