"""Small domain lexicons used by the answer gate: HR topics and places.

Both are plain text resources (see ``resources/``) so officers can extend them
without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from policyqa.text import normalize


def _lines(name: str) -> list[list[str]]:
    text = resources.files("policyqa").joinpath(f"resources/{name}").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append([normalize(w.replace("_", " ")) for w in line.split()])
    return rows


@dataclass(frozen=True)
class Topic:
    name: str
    forms: tuple[str, ...]


class Lexicon:
    """Finds named topics and places in normalised text (longest forms first)."""

    def __init__(self, topics: list[list[str]] | None = None,
                 places: list[list[str]] | None = None) -> None:
        self.topics = [Topic(row[0], tuple(sorted(row, key=len, reverse=True)))
                       for row in (topics if topics is not None else _lines("topics.txt"))]
        self.place_of: dict[str, str] = {}
        for row in places if places is not None else _lines("places.txt"):
            for form in row:
                self.place_of.setdefault(form, row[0])
        self._place_forms = sorted(self.place_of, key=len, reverse=True)

    def topics_in(self, norm_text: str) -> list[Topic]:
        return [t for t in self.topics if any(f in norm_text for f in t.forms)]

    @staticmethod
    def covers(topic: Topic, norm_text: str) -> bool:
        return any(f in norm_text for f in topic.forms)

    def places_in(self, norm_text: str) -> list[tuple[str, str]]:
        """(form, jurisdiction) pairs, longest match first, non-overlapping."""
        found: list[tuple[str, str]] = []
        taken = [False] * len(norm_text)
        for form in self._place_forms:
            start = norm_text.find(form)
            while start >= 0:
                if not any(taken[start : start + len(form)]):
                    found.append((form, self.place_of[form]))
                    for i in range(start, start + len(form)):
                        taken[i] = True
                start = norm_text.find(form, start + 1)
        return found

    def jurisdictions(self, norm_text: str) -> set[str]:
        return {j for _, j in self.places_in(norm_text)}


class Thesaurus:
    """Citizen wording -> policy wording, for query expansion (``resources/synonyms.txt``)."""

    def __init__(self, rows: list[tuple[str, list[str]]] | None = None) -> None:
        if rows is None:
            text = resources.files("policyqa").joinpath("resources/synonyms.txt").read_text("utf-8")
            rows = []
            for line in text.splitlines():
                line = line.split("#", 1)[0].strip()
                if "|" in line:
                    official, forms = line.split("|", 1)
                    rows.append((normalize(official),
                                 [normalize(f.replace("_", " ")) for f in forms.split()]))
        self.rows = rows  # (official, citizen forms) in file order, normalised
        self._pairs = sorted(((f, off) for off, forms in rows for f in forms),
                             key=lambda p: len(p[0]), reverse=True)

    def expansions(self, norm_text: str) -> list[str]:
        """Official terms for the citizen forms found (longest forms first, no overlaps)."""
        out: list[str] = []
        taken = [False] * len(norm_text)
        for form, official in self._pairs:
            start = norm_text.find(form)
            while start >= 0:
                span = range(start, start + len(form))
                if not any(taken[i] for i in span):
                    for i in span:
                        taken[i] = True
                    if official not in norm_text and official not in out:
                        out.append(official)
                start = norm_text.find(form, start + 1)
        return out

    def expand(self, norm_text: str) -> str:
        extra = self.expansions(norm_text)
        return f"{norm_text} {' '.join(extra)}" if extra else norm_text
