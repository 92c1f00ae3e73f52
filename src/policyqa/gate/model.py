"""The gate's values: its parameters, what it knows of the corpus, a question's case, a
refusal, and the loop that runs rules over a case."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from policyqa.docnames import DocumentNames
from policyqa.lexicon import FigureKind, Lexicon, Topic, asking_sentences
from policyqa.retrieve import ArticleHit


@dataclass(frozen=True)
class GateParams:
    dense_sure: float = 0.88  # cosine above which the clause is accepted on meaning alone
    dense_min: float = 0.80  # below this the clause is refused whatever the wording
    coverage_min: float = 0.30  # share of question bigrams the clause must contain in between
    quote_margin: float = 0.04  # extra sentences must score within this of the best one
    max_quotes: int = 3
    figure_margin: float = 0.03  # a clause stating the figure asked may outrank one this close
    shape_margin: float = 0.03  # a clause of the shape asked (a list of cases) likewise
    given_margin: float = 0.03  # a clause naming a quantity the question gives, likewise
    # Quote a clause that defers the figure asked, with a note (else refuse). Dev: refusing
    # instead gains refusal recall 0.675 -> 0.779 and loses answer accuracy 0.781 -> 0.771;
    # the clause that says who fixes the figure is kept as the more useful answer.
    answer_deferred: bool = True
    local_margin: float = 0.03  # a document of the place asked about may outrank one this close
    topic_pool: int = 4  # how many of the best clauses may answer a question naming a topic


@dataclass(frozen=True)
class Clauses:
    """What the gate knows of the corpus, read once per index: each document's jurisdiction
    (empty: national), the superseded ones, the titles held, and each clause's text and
    best-sentence evidence (normalised)."""

    jurisdiction: Mapping[str, set[str]]
    superseded: frozenset[str]
    titles: tuple[str, ...]
    names: DocumentNames
    text: Mapping[tuple[str, int], str]
    evidence: Callable[[ArticleHit], str]
    # doc id -> the superseded documents it replaces, and each document's year
    predecessors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    years: Mapping[str, str] = field(default_factory=dict)
    # (doc id, article) -> its sentences, normalised, by sentence index (1-based)
    sentences: Callable[[str, int], list[str]] = lambda doc, art: []
    # where a figure asked may be stated: more of the clause's best sentences than the
    # evidence (…竞业限制期限，不得超过二年 is the third best for 竞业限制最长几年);
    # None: the evidence
    figure_evidence: Callable[[ArticleHit], str] | None = None
    # (doc id, article) -> the quantities its text names (三年 / 3年: (3, "年")), read once
    quantities: Mapping[tuple[str, int], frozenset[tuple[int, str]]] = field(
        default_factory=dict)

    def stating(self, hit: ArticleHit) -> str:
        return (self.figure_evidence or self.evidence)(hit)


@dataclass(frozen=True)
class Context:
    clauses: Clauses
    lexicon: Lexicon
    params: GateParams
    words: Callable[[str], list[str]]  # content words of a question


@dataclass(frozen=True)
class Case:
    """A question as read once, and its candidate clauses best first."""

    q: str  # normalised question
    expanded: str  # with the policy wording of its citizen words
    hits: tuple[ArticleHit, ...]
    topics: tuple[Topic, ...] = ()
    kinds: tuple[FigureKind, ...] = ()
    shapes: tuple[FigureKind, ...] = ()  # shapes of answer asked (a list of cases)
    places: tuple[tuple[str, str], ...] = ()  # (form written, jurisdiction)
    figure: str = "none"  # none / stated / deferred
    national: ArticleHit | None = None  # a national clause quoted as well
    old: ArticleHit | None = None  # the superseded version's clause, shown for comparison
    old_first: bool = False  # only the earlier version is asked of: its clause leads
    retrieved: tuple[ArticleHit, ...] = ()  # every candidate as retrieved, before any rule
    feats: dict[str, float] = field(default_factory=dict)

    @property
    def hit(self) -> ArticleHit:
        return self.hits[0]

    @classmethod
    def read(cls, q: str, expanded: str, hits: Iterable[ArticleHit], lexicon: Lexicon) -> Case:
        """What is asked (a figure, a list of cases, the topics) is read from the sentences
        that ask: in 连着几个月没交失业保险。现在被辞了，还能领失业金吗？ no figure is asked, and
        in …他也没签合同。他能自己去申请工伤认定吗？ the topic is 工伤 alone. Topics come from the
        whole question when the asking sentences name none (…。这合法吗？)."""
        asks = asking_sentences(q)
        topics = lexicon.topics_in(asks, asserted=True) or lexicon.topics_in(q, asserted=True)
        hits = tuple(hits)
        return cls(q, expanded, hits, tuple(topics),
                   tuple(lexicon.figures_asked(asks)), tuple(lexicon.shapes_asked(asks)),
                   tuple(lexicon.places_in(q)), retrieved=hits)


@dataclass(frozen=True)
class Refusal:
    reason: str  # no_match / document / topic / place / specifics / <figure kind> / low_confidence
    text: str
    feats: dict[str, float] = field(default_factory=dict)
    rule: str = ""  # the rule that decided


Rule = Callable[[Case, Context], "Case | Refusal"]


def run(case: Case, ctx: Context, rules: Iterable[Rule]) -> Case | Refusal:
    """Apply the rules in order; the first refusal ends the loop and names its rule."""
    for rule in rules:
        out = rule(case, ctx)
        if isinstance(out, Refusal):
            return replace(out, rule=rule.__name__)
        case = out
    return case
