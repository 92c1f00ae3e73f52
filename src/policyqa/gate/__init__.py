"""The answer gate: small rules run in one loop over a question's candidate clauses.

A refusal is decided by what the clause does not say, never by a list of topics the corpus
lacks: a named HR topic must be named by the clause, a named place must be in the
document's jurisdiction, a figure asked must be stated (or visibly deferred) in the quoted
sentences, conditions or cases asked (申报条件是什么) must be spoken of, and the clause
must be similar enough in meaning or in wording. Some rules only reorder the candidates
(the named document first, the one in force, the one stating the figure, the local one).
Each rule is a plain function ``(Case, Context) -> Case | Refusal``, so it can be tested
alone on invented clauses; the 问答库 drafter runs the clause rules (:data:`CLAUSE_RULES`)
on one clause instead of copying them.
"""

from policyqa.gate.model import Case, Clauses, Context, GateParams, Refusal, Rule, run
from policyqa.gate.rules import (
    CHECKS,
    CLAUSE_RULES,
    GENERIC_BIGRAMS,
    RANKING,
    RULES,
    any_match,
    confident,
    coverage,
    figure_first,
    foreign_place,
    given_first,
    held_document,
    in_force_first,
    in_jurisdiction,
    lists_what_is_asked,
    local_first,
    named_article_first,
    named_first,
    names_topics,
    national_too,
    old_version_too,
    rank,
    shape_first,
    states_figure,
    states_shape,
    states_specifics,
)

__all__ = [
    "CHECKS", "CLAUSE_RULES", "GENERIC_BIGRAMS", "RANKING", "RULES", "Case", "Clauses",
    "Context", "GateParams", "Refusal", "Rule", "any_match", "confident", "coverage",
    "figure_first", "foreign_place", "given_first", "held_document", "in_force_first",
    "in_jurisdiction",
    "lists_what_is_asked", "local_first", "named_article_first", "named_first",
    "names_topics", "national_too", "old_version_too", "rank", "run", "shape_first",
    "states_figure", "states_shape", "states_specifics",
]
