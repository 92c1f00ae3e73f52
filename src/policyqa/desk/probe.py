"""命中测试: what the bot would do with a question, and why, for an officer.

The same pipeline as a chat turn (the 问答库 first, then retrieval and the gate),
laid open: the ranked articles with their best sentences and scores, the 问答库
match and whether it won, the gate's decision and the rule that made it, and the
final answer. Nothing is logged as a citizen turn, so an officer can tell whether
a refusal calls for a 问答库 entry or a document without disturbing the statistics.
"""

from __future__ import annotations

from typing import Any

from policyqa.chat import ChatService, faq_wins
from policyqa.service import check_question

SENTENCES_SHOWN = 3


def probe(chat: ChatService, question: str, k: int = 5) -> dict[str, Any]:
    check_question(question)
    qa = chat.qa
    r = qa.retrieve(question, k)
    policy = qa.answerer.answer(r)
    policies = qa.index.policies
    articles = []
    for h in r.articles:
        p = policies[h.doc_id]
        art = p.article(h.article)
        articles.append({
            "doc_id": h.doc_id, "article": h.article, "label": art.cite_label,
            "title": p.title, "score": round(h.score, 4),
            "sentences": [{"chunk_id": s.chunk_id, "text": art.sentence(s.sentence).text,
                           "dense": round(s.dense, 4), "lexical": round(s.lexical, 4),
                           "score": round(s.score, 4)}
                          for s in h.sentences[:SENTENCES_SHOWN] if s.sentence]})
    faq = None
    if chat.faq is not None and len(chat.faq):
        m = chat.faq.match(question, qa.retriever.embed_query(question)[2])
        if m is not None:
            faq = {"entry_id": m.entry["id"], "question": m.entry["question"],
                   "wording": m.wording, "score": round(m.score, 4), "exact": m.exact,
                   "wins": faq_wins(m, policy)}
    final, source = chat.understand(question)
    return {
        "question": question, "normalized": r.normalized, "expanded": r.expanded,
        "articles": articles, "faq": faq,
        "gate": {"status": policy.status, "reason": policy.reason, "rule": policy.rule,
                 "features": {k: round(v, 4) for k, v in policy.features.items()}},
        "answer": {"status": final.status, "source": source, "text": final.text,
                   "citations": [c.to_dict() for c in final.citations],
                   "notes": list(final.notes)}}
