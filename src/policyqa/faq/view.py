"""The 问答库 as one process serves it: an immutable view, rebuilt cheaply on each change.

A view is built from the view before it, so a change costs what changed, not the size of
the base: an entry whose wordings are the same keeps its question keys (normalising
~50,000 wordings of a full-size base took seconds), a wording already searched keeps its
vector row, and the search reuses the previous approximate index (see
:mod:`policyqa.faq.search`). What is left per change is a few passes over plain lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policyqa.faq.model import question_key
from policyqa.faq.search import VectorSearch

# wordings -> the vectors of those that have one now (stored, or encoded when few)
VectorsFor = Callable[[list[str]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Item:
    """One servable entry and its wordings' question keys."""

    entry: dict[str, Any]
    forms: tuple[tuple[str, str], ...]  # (wording, question key), question first

    @property
    def wordings(self) -> tuple[str, ...]:
        return tuple(w for w, _ in self.forms)


def item_of(entry: dict[str, Any], previous: Item | None = None) -> Item:
    words = (entry["question"], *entry["paraphrases"])
    if previous is not None and previous.wordings == words:
        return Item(entry, previous.forms)
    return Item(entry, tuple((w, question_key(w)) for w in words))


@dataclass(frozen=True)
class View:
    items: dict[str, Item] = field(default_factory=dict)  # by entry id
    entries: list[dict[str, Any]] = field(default_factory=list)
    forms: list[tuple[int, str, str]] = field(default_factory=list)  # (entry row, wording, key)
    exact: dict[str, int] = field(default_factory=dict)  # question key -> its first form
    search: VectorSearch = field(
        default_factory=lambda: VectorSearch([], np.zeros((0, 1), dtype=np.float32)))
    owner: dict[int, int] = field(default_factory=dict)  # search row -> entry row
    by_article: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    waiting: int = 0  # wordings without a vector yet (not served until they have one)


def items_for(entries: Iterable[dict[str, Any]], previous: Mapping[str, Item]) -> dict[str, Item]:
    return {e["id"]: item_of(e, previous.get(e["id"])) for e in entries}


def changed_items(previous: Mapping[str, Item], changed: Sequence[dict[str, Any]],
                  gone: Iterable[str]) -> dict[str, Item]:
    """``previous`` without the entries ``gone`` (or changed), with ``changed`` put in."""
    items = dict(previous)
    for i in gone:
        items.pop(i, None)
    items.update(items_for(changed, previous))
    return items


def build(items: Mapping[str, Item], previous: View, vectors_for: VectorsFor) -> View:
    """The view of ``items`` (in entry-id order), reusing ``previous``'s vectors."""
    ordered = [items[i] for i in sorted(items)]
    old = previous.search
    wanted = list(dict.fromkeys(w for it in ordered for w, _ in it.forms))
    new_words = [w for w in wanted if w not in old.row]
    found = vectors_for(new_words) if new_words else {}
    wanted_set = set(wanted)
    keep = [w for w in old.words if w in wanted_set]  # in the previous rows' order
    added = [w for w in new_words if w in found]
    words = keep + added
    have = set(words)
    if len(keep) == len(old.words):  # nothing taken out: the rows as they are
        parts = [old.vecs] if keep else []
    else:
        parts = [old.vecs[[old.row[w] for w in keep]]] if keep else []
    if added:
        parts.append(np.vstack([found[w] for w in added]).astype(np.float32))
    vecs = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
    search = VectorSearch(words, vecs, previous=old)
    forms = [(i, w, k) for i, it in enumerate(ordered) for w, k in it.forms if w in have]
    exact: dict[str, int] = {}
    owner: dict[int, int] = {}
    for j, (i, w, k) in enumerate(forms):
        exact.setdefault(k, j)
        owner.setdefault(search.row[w], i)
    by_article: dict[tuple[str, int], list[str]] = {}
    for it in ordered:
        if it.entry["citations"]:
            c = it.entry["citations"][0]
            by_article.setdefault((c["doc_id"], int(c["article"])), []).append(
                it.entry["question"])
    return View(dict(items), [it.entry for it in ordered], forms, exact, search, owner,
                by_article, waiting=len(wanted) - len(words))
