"""Small domain lexicons used by the answer gate: HR concepts, places, kinds of figures.

All are plain text resources (see ``resources/``), general knowledge of the field true of
any document, so officers can extend them without touching code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from policyqa.text import cn_to_int, normalize

BROADEST = "figure"  # the kind of figures.txt that any other kind asked replaces
_SENTENCE_END = re.compile(r"[。；;！？!?\n]")
# A negation just before a form (还没退休 / 不是被公司辞退的 / 也没交社保) tells the story, it
# does not name what is asked; 有没有 / 是不是 ask, and plain 不 is too common to read.
_NEGATED = re.compile(r"(?:(?<!有)没有?|(?<!是)不是|未|并非)[^，,。；;！？!?、\s]{0,3}$")


def resource_lines(name: str) -> list[str]:
    """The non-comment lines of a resource file: the one reading of every resource."""
    text = resources.files("policyqa").joinpath(f"resources/{name}").read_text("utf-8")
    return [ln for ln in (raw.split("#", 1)[0].strip() for raw in text.splitlines()) if ln]


def _lines(name: str) -> list[list[str]]:
    return [[normalize(w.replace("_", " ")) for w in line.split()]
            for line in resource_lines(name)]


@dataclass(frozen=True)
class FigureKind:
    """A kind of figure (amount, multiple, ratio, span, date): how a question asks for
    it and how a clause that states it is written."""

    name: str
    asked: re.Pattern[str] | None
    stated: re.Pattern[str]
    must: bool = True  # the answering clause must state it (else it only orders candidates)
    enough: re.Pattern[str] | None = None  # or at least contain this (speaks of cases)


_UNIT = {"日": "天", "周岁": "岁"}  # one unit, two spellings
_NEVER = r"(?!)"  # a clause side of "-": nothing is looked for


def load_figures(lines: list[str] | None = None) -> list[FigureKind]:
    out = []
    for line in lines if lines is not None else resource_lines("figures.txt"):
        name, asked, stated, *mode = (part.strip() for part in line.split(" | "))
        asked = normalize(asked.replace("_", " ")) if asked != "-" else ""
        enough = mode[0].removeprefix("or ").strip() if mode and mode[0].startswith("or ") else ""
        out.append(FigureKind(name, re.compile(asked) if asked else None,
                              re.compile(stated if stated != "-" else _NEVER),
                              must=mode != ["order"],
                              enough=re.compile(enough) if enough else None))
    return out


@dataclass(frozen=True)
class Topic:
    name: str
    forms: tuple[str, ...]


# lines of shapes.txt with rules of their own
_CUES = ("items", "old_version", "current_version", "move")


class Lexicon:
    """Finds named topics and places in normalised text (longest forms first)."""

    def __init__(self, topics: list[list[str]] | None = None,
                 places: list[list[str]] | None = None,
                 figures: list[FigureKind] | None = None,
                 shapes: list[FigureKind] | None = None) -> None:
        kinds = figures if figures is not None else load_figures()
        shape_kinds = shapes if shapes is not None else load_figures(resource_lines("shapes.txt"))
        cues = {k.name: k for k in shape_kinds if k.name in _CUES}
        self.items = cues.get("items")  # 具体包括哪些 / 哪四个: the clause spells them out
        self.old_version = cues.get("old_version")  # 旧法 / 修订前
        self.current_version = cues.get("current_version")  # 现在还是这样吗 / 新法
        self.move = cues.get("move")  # 转到 / 搬过去: a move between places
        self.shapes = [k for k in shape_kinds if k.asked and k.name not in _CUES]
        self.figures = [k for k in kinds if k.asked]
        special = {k.name: k.stated for k in kinds if not k.asked}  # deferred, …_about, open
        self.deferred = special.get("deferred")
        self.deferred_about = special.get("deferred_about")
        self.open = special.get("open")
        self.quantity = special.get("quantity")
        self.topics = [Topic(row[0], tuple(sorted(row, key=len, reverse=True)))
                       for row in (topics if topics is not None else _lines("topics.txt"))]
        self.place_of: dict[str, str] = {}
        for row in places if places is not None else _lines("places.txt"):
            for form in row:
                self.place_of.setdefault(form, row[0])
        self._place_forms = sorted(self.place_of, key=len, reverse=True)

    def figures_asked(self, norm_question: str) -> list[FigureKind]:
        """The kinds of figure a question asks for; a narrower kind (span_days: 几天)
        replaces the one it narrows (span: 多久) when both are asked (最长几天), and any
        kind replaces the broadest (figure: …是多少)."""
        asked = [k for k in self.figures if k.asked and k.asked.search(norm_question)]
        names = {k.name for k in asked}
        return [k for k in asked if not any(n.startswith(k.name + "_") for n in names)
                and not (k.name == BROADEST and len(names) > 1)]

    def quantities(self, norm_text: str) -> frozenset[tuple[int, str]]:
        """The quantities written in a text, as (number, unit): 3年 and 三年 are one."""
        if self.quantity is None:
            return frozenset()
        out = set()
        for m in self.quantity.finditer(norm_text):
            n = cn_to_int(m.group(1))
            if n is not None:
                out.add((n, _UNIT.get(m.group(2), m.group(2))))
        return frozenset(out)

    def shapes_asked(self, norm_question: str) -> list[FigureKind]:
        """The shapes of answer a question asks for (什么情况下… : a list of cases)."""
        return [k for k in self.shapes if k.asked and k.asked.search(norm_question)]

    def defers(self, norm_text: str) -> bool:
        """Whether the text leaves a figure open (适当提高…比例) or hands it to someone else
        (按照国家规定 / 由…确定) in a sentence about a sum, rate or benefit (…按照国家规定
        缴纳基本医疗保险费), not about something else (…关系可以按照规定随同转移)."""
        if self.open and self.open.search(norm_text):  # 适当提高…比例 / 一批
            return True
        if not self.deferred:
            return False
        about = self.deferred_about
        return any(self.deferred.search(s) and (about is None or about.search(s))
                   for s in _SENTENCE_END.split(norm_text))

    def topics_in(self, norm_text: str, *, asserted: bool = False) -> list[Topic]:
        """The topics named; ``asserted``: only where some form is named without a negation
        just before it (还没退休 names no 退休 asked)."""
        if not asserted:
            return [t for t in self.topics if any(f in norm_text for f in t.forms)]
        return [t for t in self.topics if any(_asserted(norm_text, f) for f in t.forms)]

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


def _asserted(text: str, form: str) -> bool:
    start = text.find(form)
    while start >= 0:
        if not _NEGATED.search(text[max(0, start - 6):start]):
            return True
        start = text.find(form, start + 1)
    return False


_LATIN = re.compile(r"[a-z]")
_AFTER_SENTENCE = re.compile(r"(?<=[。！？!?])")


def asking_sentences(norm_question: str) -> str:
    """The sentences of a question that ask (end with a question mark) and its last one;
    the whole of a one-sentence question. A story told before the question (连着几个月没交…)
    is not what is asked."""
    parts = [p for p in _AFTER_SENTENCE.split(norm_question) if p.strip()]
    return "".join(p for i, p in enumerate(parts)
                   if i == len(parts) - 1 or p.rstrip()[-1:] in "？?")


def _english_word(form: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z]){re.escape(form)}(?:s|es|d|ed|ing)?(?![a-z])")


class Thesaurus:
    """Citizen wording -> policy wording, for query expansion (``resources/synonyms.txt``)."""

    def __init__(self, rows: list[tuple[str, list[str]]] | None = None) -> None:
        if rows is None:
            rows = []
            for line in resource_lines("synonyms.txt"):
                if "|" in line:
                    official, forms = line.split("|", 1)
                    rows.append((normalize(official),
                                 [normalize(f.replace("_", " ")) for f in forms.split()]))
        self.rows = rows  # (official, citizen forms) in file order, normalised
        # An official term is a form of itself: written in a question (工资保证金), its
        # words are not read as a citizen form of another term (保证金 -> 提供担保).
        self._pairs = sorted(((f, off) for off, forms in rows for f in (*forms, off)),
                             key=lambda p: len(p[0]), reverse=True)
        self._words = {f: _english_word(f) for f, _ in self._pairs if _LATIN.search(f)}

    def expansions(self, norm_text: str) -> list[str]:
        """Official terms for the citizen forms found (longest forms first, no overlaps)."""
        out: list[str] = []
        taken = [False] * len(norm_text)
        for form, official in self._pairs:
            for span in self._spans(form, norm_text):
                if not any(taken[i] for i in span):
                    for i in span:
                        taken[i] = True
                    if official not in norm_text and official not in out:
                        out.append(official)
        return out

    def _spans(self, form: str, text: str) -> Iterator[range]:
        """Where a form occurs: a Chinese form anywhere; an English one as whole words,
        with an ending (-s, -ed, -ing), so that train is not read in restrain."""
        word = self._words.get(form)
        if word is not None:
            yield from (range(*m.span()) for m in word.finditer(text))
            return
        start = text.find(form)
        while start >= 0:
            yield range(start, start + len(form))
            start = text.find(form, start + 1)

    def expand(self, norm_text: str) -> str:
        extra = self.expansions(norm_text)
        return f"{norm_text} {' '.join(extra)}" if extra else norm_text
