"""The officer side, wired: drafting, workflow, serving view, import/export, insight.

Every surface (officer API, CLI) goes through :class:`FaqService`, which keeps
the chat's :class:`~policyqa.faq.match.FaqMatcher` in step with the database:
whatever changes what may be served reloads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policyqa.errors import Conflict
from policyqa.faq.match import FaqMatcher
from policyqa.faq.model import INACTIVE, FaqDraft, InvalidEntry
from policyqa.faq.repo import FaqRepo, entry_dict
from policyqa.faq.vectors import VectorJob, WordingVectors
from policyqa.ingest.model import Policy
from policyqa.roles import TRANSITION_ACTION, Actor
from policyqa.service import PolicyQA
from policyqa.store import Store
from policyqa.store.insight import logged_turns, officer_stats

RELOAD_EVERY = 10_000  # wordings the vector job encodes between reloads of every process


class FaqService:
    def __init__(self, qa: PolicyQA, store: Store, matcher: FaqMatcher | None = None) -> None:
        self.qa = qa
        self.store = store
        self.repo = FaqRepo(store)
        # The wordings' vectors, stored once for every process; encoded by the
        # background job (or here, a few at a time, for a publish).
        self.vectors = WordingVectors(store, f"{qa.encoder.backend}:{qa.encoder.model_id}",
                                      qa.retriever.query_text, qa.retriever.encode_texts)
        self.job = VectorJob(self.vectors, self.repo.wordings_to_encode)
        self.matcher = matcher or FaqMatcher(lambda t: qa.retriever.embed_query(t)[2],
                                             vectors=self.vectors)
        self._drafter: Any = None
        self._seen: tuple[Any, ...] | None = None  # the 问答库 fingerprint last loaded
        self._versions: dict[str, int] | None = None  # every entry's version, as loaded

    @property
    def policies(self) -> Mapping[str, Policy]:
        return self.qa.index.policies

    def start(self) -> list[str]:
        """At start-up (the index may just have been rebuilt): flag entries whose quotes
        no longer hold, then load what may be served. Returns the flagged ids."""
        flagged = self.repo.flag_stale(self.policies)
        self.refresh()
        return flagged

    def fingerprint(self) -> tuple[Any, ...]:
        """The entries' fingerprint and the vector job's progress (in steps of
        ``RELOAD_EVERY`` wordings: a long job is served as it goes, not reloaded per batch)."""
        job = self.job.status()
        return (*self.repo.fingerprint(), job["state"], job["done"] // RELOAD_EVERY)

    def refresh(self) -> None:
        """Load what changed since the last load: the entries whose version moved are
        read again (served if still servable), those gone are dropped. The first load,
        and one after a change to most of the base, reads everything."""
        seen = self.fingerprint()  # read first: a change during the load is seen next time
        versions = self.repo.versions()
        before = self._versions
        if before is None:
            self.matcher.load(self.repo.servable())
        else:
            changed = [i for i, v in versions.items() if before.get(i) != v]
            gone = [i for i in before if i not in versions]
            if len(changed) > len(versions) // 2:
                self.matcher.load(self.repo.servable())
            elif changed or gone or self.matcher.pending:
                self.matcher.update(self.repo.servable(changed), [*changed, *gone])
        self._versions = versions
        if self.matcher.pending:  # too many new wordings to encode here: the job will
            self.job.request()
        self._seen = seen

    def refresh_if_changed(self) -> bool:
        """Reload what may be served if another process (or replica) changed the 问答库,
        or the vector job encoded more of it; True when it did. Called every
        ``faq_poll_s`` by each server process."""
        if self.fingerprint() == self._seen:
            return False
        self.refresh()
        return True

    def encode_pending(self) -> bool:
        """Run the vector job here if it is due (called by each server's job poller)."""
        ran = self.job.run_if_due()
        if ran:
            self.refresh()
        return ran

    # ---- drafting --------------------------------------------------------------------

    def drafter(self) -> Any:
        if self._drafter is None:
            from policyqa.faq.draft import Drafter

            self._drafter = Drafter(self.qa)
        return self._drafter

    def draft(self, request: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """Create draft entries from a clause, a topic or the logs (exactly one source)."""
        actor.require("faq.write")
        limit = int(request.get("limit") or 5)
        doc = request.get("doc_id") or request.get("doc_no")
        if doc and request.get("article") is not None:
            drafts = self.drafter().from_clause(str(doc), int(request["article"]), limit=limit)
        elif request.get("topic"):
            drafts = self.drafter().from_topic(str(request["topic"]), limit=limit)
        elif request.get("source") == "logs":
            from policyqa.faq.draft import LoggedQuestion

            turns = [LoggedQuestion(q, n, st, bad) for q, n, st, bad in
                     logged_turns(self.store, days=int(request.get("days") or 30))]
            drafts = self.drafter().from_logs(turns, limit=limit,
                                              min_count=int(request.get("min_count") or 2))
        else:
            raise InvalidEntry("请指定起草来源：{doc_no, article}、{topic} 或 {source: logs}")
        return self._store_drafts(drafts, actor)

    def _store_drafts(self, drafts: list[FaqDraft], actor: Actor) -> dict[str, Any]:
        created, skipped = [], []
        for d in drafts:
            fields = {"question": d.question, "paraphrases": d.paraphrases,
                      "answer_text": d.answer_text,
                      "citations": [vars(c) for c in d.citations]}
            try:
                created.append(self.repo.create(fields, officer=actor.name, role=actor.role,
                                                policies=self.policies, origin=d.origin,
                                                evidence=d.evidence))
            except (Conflict, InvalidEntry) as e:  # already in the 问答库, or a wording that
                # may not be stored (e.g. a long number): say so, do not fail the batch
                skipped.append({"question": d.question, "reason": str(e)})
        return {"created": created, "skipped": skipped}

    # ---- workflow --------------------------------------------------------------------

    def create(self, fields: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        actor.require("faq.write")
        return self.repo.create(fields, officer=actor.name, role=actor.role,
                                policies=self.policies)

    def edit(self, entry_id: str, version: int, fields: Mapping[str, Any], actor: Actor
             ) -> dict[str, Any]:
        actor.require("faq.write")
        out = self.repo.edit(entry_id, version, fields, officer=actor.name, role=actor.role,
                             policies=self.policies)
        self._refresh_if_served(out)
        return out

    def transition(self, entry_id: str, version: int, to: str, actor: Actor, note: str = ""
                   ) -> dict[str, Any]:
        """The role decides which moves an officer may make (an editor submits, a
        reviewer publishes, rejects, retires); the repository keeps four eyes."""
        if to in TRANSITION_ACTION:
            actor.require(TRANSITION_ACTION[to])
        out = self.repo.transition(entry_id, version, to, officer=actor.name, role=actor.role,
                                   policies=self.policies, note=note)
        self._refresh_if_served(out)
        return out

    def _refresh_if_served(self, entry: Mapping[str, Any]) -> None:
        """Reload the chat's view when the entry is or was being served."""
        if entry["status"] == "published" or self.matcher.serves(entry["id"]):
            self.refresh()

    # ---- import / export -------------------------------------------------------------

    def export(self, fmt: str) -> bytes:
        from policyqa.faq.io import export_entries

        return export_entries(self.repo.all(), fmt)

    def import_(self, data: bytes, fmt: str, actor: Actor, source: str = ""
                ) -> dict[str, Any]:
        """Validate every row; insert all or nothing. Errors -> ImportRejected (422).

        An import never publishes: every active row lands ``in_review`` whatever its
        status column says (a retired or rejected row stays so), and its audit row
        says imported, by whom and from which file (``source``). Only the review
        workflow publishes."""
        from policyqa.faq.io import parse_import, validate_rows

        actor.require("faq.write")
        rows = parse_import(data, fmt)
        good, errors = validate_rows(rows, self.policies, self.repo.active_keys())
        if errors:
            raise ImportRejected([vars(e) for e in errors], len(rows))
        items = [{"question": r.question, "paraphrases": r.paraphrases,
                  "answer_text": r.answer_text, "citations": [vars(c) for c in r.citations]}
                 for r in good]
        statuses = [r.status if r.status in INACTIVE else "in_review" for r in good]
        created = self.repo.create_many(items, officer=actor.name, role=actor.role,
                                        policies=self.policies,
                                        statuses=statuses, origins=[r.origin for r in good],
                                        action="import", note=f"导入文件：{source or '（未命名）'}")
        self.job.request()  # their wordings are encoded in the background, ahead of review
        return {"imported": len(created), "ids": [e["id"] for e in created],
                "status": "in_review", "vectors": self.job.status()}

    # ---- insight ---------------------------------------------------------------------

    def stats(self, days: int = 30) -> dict[str, Any]:
        out = officer_stats(self.store, days)
        entries = self.repo.all()
        counts: dict[str, int] = {}
        for e in entries:
            counts[e["status"]] = counts.get(e["status"], 0) + 1
        out["faq"] = {"by_status": counts, "stale": sum(e["stale"] for e in entries),
                      "serving": len(self.matcher), "vectors": self.job.status()}
        return out


class ImportRejected(InvalidEntry):
    """An import with row errors: nothing was imported; ``errors`` lists every problem."""

    def __init__(self, errors: list[dict[str, Any]], rows: int) -> None:
        super().__init__(f"导入未执行：{len(errors)}处错误（共{rows}行），请修改后重新导入")
        self.errors = errors


__all__ = ["FaqService", "ImportRejected", "entry_dict"]
