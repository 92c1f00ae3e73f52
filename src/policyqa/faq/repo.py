"""The 问答库 in the database: entries, their workflow and the audit trail.

Every change is one transaction that also writes an audit row (who, when, what
changed as field -> [old, new]) and bumps ``version``. Writers name the version
they read; the UPDATE is conditional on it, so of two officers editing the same
entry the second gets 409 instead of silently overwriting the first (on SQLite
and on PostgreSQL alike, whatever the isolation level).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from policyqa.errors import Conflict, Forbidden, NotFound
from policyqa.faq.keys import active_keys, keys_of, taken, write_keys
from policyqa.faq.model import (
    INACTIVE,
    STATUSES,
    InvalidEntry,
    clean_fields,
    new_entries,
    question_key,
    stale_reason,
)
from policyqa.ingest.model import Policy
from policyqa.store import Store
from policyqa.store.engine import in_batches
from policyqa.store.models import FaqAudit, FaqEntry, utcnow
from policyqa.text import normalize

# Legal moves of the workflow; anything else is refused with 422.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review", "rejected"}),
    "in_review": frozenset({"published", "draft", "rejected"}),
    "published": frozenset({"retired", "in_review"}),
    "retired": frozenset({"draft"}),
    "rejected": frozenset({"draft"}),
}
EDITABLE = ("question", "paraphrases", "answer_text", "citations")
SYSTEM = "system"


def entry_dict(e: FaqEntry) -> dict[str, Any]:
    return {"id": e.id, "question": e.question, "paraphrases": list(e.paraphrases),
            "answer_text": e.answer_text, "citations": list(e.citations), "status": e.status,
            "version": e.version, "stale": bool(e.stale), "stale_reason": e.stale_reason,
            "origin": e.origin, "evidence": dict(e.evidence or {}),
            "created_by": e.created_by, "updated_by": e.updated_by,
            "created_at": e.created_at.isoformat(), "updated_at": e.updated_at.isoformat()}


class FaqRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reads -----------------------------------------------------------------------

    def get(self, entry_id: str) -> dict[str, Any]:
        with self.store.reading() as s:
            return entry_dict(self._row(s, entry_id))

    def search(self, *, status: str | None = None, origin: str | None = None,
             stale: bool | None = None, q: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Filtered page of entries (newest change first) and the total matching."""
        cond = []
        if status:
            if status not in STATUSES:
                raise InvalidEntry(f"未知状态：{status}")
            cond.append(FaqEntry.status == status)
        if origin:
            cond.append(FaqEntry.origin == origin)
        if stale is not None:
            cond.append(FaqEntry.stale == stale)
        if q:
            like = f"%{normalize(q).strip()}%"
            cond.append(or_(FaqEntry.normalized.like(like), FaqEntry.answer_text.like(f"%{q}%")))
        with self.store.reading() as s:
            total = int(s.execute(select(func.count(FaqEntry.id)).where(*cond)).scalar_one())
            rows = s.scalars(select(FaqEntry).where(*cond)
                             .order_by(FaqEntry.updated_at.desc(), FaqEntry.id)
                             .limit(max(0, min(limit, 500))).offset(max(0, offset))).all()
            return [entry_dict(e) for e in rows], total

    def all(self) -> list[dict[str, Any]]:
        with self.store.reading() as s:
            return [entry_dict(e) for e in s.scalars(
                select(FaqEntry).order_by(FaqEntry.created_at, FaqEntry.id))]

    def fingerprint(self) -> tuple[int, int, str]:
        """Changes whenever any entry is created or changed: one cheap read that tells
        another process to reload. Every write adds one to an entry's ``version``, so the
        sum moves even when a write commits after a later-stamped one (the newest
        ``updated_at`` alone would then stay the same)."""
        with self.store.reading() as s:
            n, total, last = s.execute(select(func.count(), func.sum(FaqEntry.version),
                                              func.max(FaqEntry.updated_at))
                                       .select_from(FaqEntry)).one()
        return int(n), int(total or 0), last.isoformat() if last else ""

    def versions(self) -> dict[str, int]:
        """Every entry's version by id: what tells a process which entries changed since
        it last loaded (two narrow columns, not the entries)."""
        with self.store.reading() as s:
            return {i: int(v) for i, v in s.execute(select(FaqEntry.id, FaqEntry.version))}

    def servable(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Published entries whose citations still hold: what chat may answer from
        (only those of ``ids``, when given)."""
        cond = [FaqEntry.status == "published", FaqEntry.stale.is_(False)]
        if ids is None:
            with self.store.reading() as s:
                return [entry_dict(e) for e in s.scalars(
                    select(FaqEntry).where(*cond).order_by(FaqEntry.id))]
        with self.store.reading() as s:
            return [entry_dict(e) for part in in_batches(list(ids)) for e in s.scalars(
                select(FaqEntry).where(*cond, FaqEntry.id.in_(part)))]

    def wordings_to_encode(self) -> list[str]:
        """Every wording of the entries under review or published: what the 问答库's
        vector job encodes ahead, so a publish has its vectors ready."""
        with self.store.reading() as s:
            rows = s.execute(select(FaqEntry.question, FaqEntry.paraphrases).where(
                FaqEntry.status.in_(("in_review", "published"))).order_by(FaqEntry.id))
            return [w for q, paras in rows for w in [q, *paras]]

    def active_keys(self, exclude: str | None = None) -> set[str]:
        """Question keys (question + paraphrases) of entries not retired or rejected."""
        with self.store.reading() as s:
            return active_keys(s, exclude)

    def audit(self, entry_id: str) -> list[dict[str, Any]]:
        with self.store.reading() as s:
            self._row(s, entry_id)
            return [{"officer": a.officer, "role": a.role, "action": a.action, "version": a.version,
                     "changes": a.changes, "at": a.at.isoformat()}
                    for a in s.scalars(select(FaqAudit).where(FaqAudit.entry_id == entry_id)
                                       .order_by(FaqAudit.id))]

    # ---- writes ----------------------------------------------------------------------

    def create(self, fields: Mapping[str, Any], *, officer: str, policies: Mapping[str, Policy],
               origin: str = "manual", status: str = "draft",
               evidence: Mapping[str, Any] | None = None, role: str = "") -> dict[str, Any]:
        return self.create_many([fields], officer=officer, policies=policies, origin=origin,
                                status=status, evidence=[evidence or {}], role=role)[0]

    def create_many(self, items: Sequence[Mapping[str, Any]], *, officer: str,
                    policies: Mapping[str, Policy], origin: str = "manual",
                    status: str = "draft", evidence: Sequence[Mapping[str, Any]] = (),
                    statuses: Sequence[str] = (), origins: Sequence[str] = (),
                    action: str = "create", note: str = "", role: str = ""
                    ) -> list[dict[str, Any]]:
        """Insert entries all-or-nothing (a duplicate question aborts the whole batch).
        ``statuses`` / ``origins``: per item, overriding ``status`` / ``origin``;
        ``action`` / ``note``: what the audit row of each says (e.g. import + file);
        ``role``: the officer's role, recorded in the audit trail."""
        n = len(items)
        sts = [*statuses[:n], *[status] * (n - len(statuses[:n]))]
        ogs = [*origins[:n], *[origin] * (n - len(origins[:n]))]
        evs = [*map(dict, evidence[:n]), *[{}] * (n - len(evidence[:n]))]
        cleaned = [(*e, ev) for e, ev in zip(new_entries(items, policies, sts, ogs), evs,
                                             strict=True)]
        now = utcnow()
        out = []
        wanted = [keys_of(f["question"], f["paraphrases"]) for f, *_ in cleaned]
        with self.store.writing() as s:
            used = taken(s, {k for ks in wanted for k in ks})
            for (f, st, og, ev), keys in zip(cleaned, wanted, strict=True):
                dup = keys & used
                if dup and st not in INACTIVE:
                    raise Conflict(f"问答库中已有相同的问题：{sorted(dup)[0]}")
                if st not in INACTIVE:
                    used |= keys
                e = FaqEntry(id=uuid.uuid4().hex, question=f["question"],
                             normalized=question_key(f["question"]),
                             paraphrases=f["paraphrases"], answer_text=f["answer_text"],
                             citations=f["citations"], status=st, version=1, stale=False,
                             stale_reason="", origin=og, evidence=ev, created_by=officer,
                             updated_by=officer, created_at=now, updated_at=now)
                s.add(e)
                s.flush()
                write_keys(s, e.id, keys)
                changes = {k: [None, v] for k, v in f.items()} | {"status": [None, st]}
                if note:
                    changes["note"] = [None, note[:500]]
                s.add(FaqAudit(entry_id=e.id, officer=officer, role=role, action=action,
                               version=1, changes=changes, at=now))
                out.append(entry_dict(e))
        return out

    def edit(self, entry_id: str, version: int, fields: Mapping[str, Any], *, officer: str,
             policies: Mapping[str, Policy], role: str = "") -> dict[str, Any]:
        """Change question/paraphrases/answer/citations. Editing a published entry sends
        it back to review (only reviewed text is served); valid citations clear ``stale``."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise InvalidEntry(f"不能修改的字段：{', '.join(sorted(unknown))}")
        f = clean_fields(fields, policies)
        with self.store.writing() as s:
            e = self._row(s, entry_id)
            self._check_version(e, version)
            if e.status in INACTIVE:
                raise InvalidEntry(f"条目状态为{e.status}，请先转回草稿再修改")
            changes = {k: [getattr(e, k), v] for k, v in f.items() if getattr(e, k) != v}
            if "question" in f or "paraphrases" in f:
                keys = keys_of(f.get("question", e.question), f.get("paraphrases", e.paraphrases))
                dup = taken(s, keys, exclude=entry_id)
                if dup:
                    raise Conflict(f"问答库中已有相同的问题：{sorted(dup)[0]}")
                write_keys(s, entry_id, keys, replace=True)
            values: dict[str, Any] = dict(f)
            if "question" in f:
                values["normalized"] = question_key(f["question"])
            if e.status == "published" and changes:
                values["status"] = "in_review"
                changes["status"] = ["published", "in_review"]
            if e.stale and not stale_reason(policies, f.get("citations", e.citations)):
                values.update(stale=False, stale_reason="")
                changes["stale"] = [True, False]
            return self._apply(s, e, version, values, changes, officer, "edit", role)

    def transition(self, entry_id: str, version: int, to: str, *, officer: str,
                   policies: Mapping[str, Policy], note: str = "", role: str = ""
                   ) -> dict[str, Any]:
        """Move an entry along the workflow. Publishing needs a second pair of eyes:
        whoever created the entry or last edited its text may not publish it."""
        if to not in STATUSES:
            raise InvalidEntry(f"未知状态：{to}")
        with self.store.writing() as s:
            e = self._row(s, entry_id)
            self._check_version(e, version)
            if to not in TRANSITIONS[e.status]:
                raise InvalidEntry(f"不能从{e.status}变为{to}")
            values: dict[str, Any] = {"status": to}
            changes: dict[str, Any] = {"status": [e.status, to]}
            if to == "published":
                authors = {e.created_by, self._last_editor(s, e.id)}
                if officer in authors:
                    raise Forbidden("四眼原则：条目的创建人或最后修改人不能发布，"
                                    "须由另一位审核人员发布")
                if not e.citations:
                    raise InvalidEntry("发布前须引用政策原文（citations）")
                reason = stale_reason(policies, e.citations)
                if reason:
                    raise InvalidEntry(f"引用与现行政策原文不符，不能发布：{reason}")
                if e.stale:
                    values.update(stale=False, stale_reason="")
                    changes["stale"] = [True, False]
            if to == "draft" and e.status in INACTIVE:
                dup = taken(s, keys_of(e.question, e.paraphrases), exclude=entry_id)
                if dup:
                    raise Conflict(f"问答库中已有相同的问题：{sorted(dup)[0]}")
            if note:
                changes["note"] = [None, note[:500]]
            return self._apply(s, e, version, values, changes, officer, f"to_{to}", role)

    def flag_stale(self, policies: Mapping[str, Policy]) -> list[str]:
        """After a rebuild: entries whose quotes no longer hold are taken out of serving.

        They stay flagged until an officer edits or republishes them with valid quotes.
        """
        flagged = []
        with self.store.writing() as s:
            for e in s.scalars(select(FaqEntry).where(FaqEntry.stale.is_(False),
                                                      FaqEntry.status.notin_(INACTIVE))):
                reason = stale_reason(policies, e.citations)
                if reason:
                    self._apply(s, e, e.version, {"stale": True, "stale_reason": reason},
                                {"stale": [False, True], "stale_reason": ["", reason]},
                                SYSTEM, "stale")
                    flagged.append(e.id)
        return flagged

    # ---- internals -------------------------------------------------------------------

    @staticmethod
    def _row(s: Session, entry_id: str) -> FaqEntry:
        e = s.get(FaqEntry, entry_id)
        if e is None:
            raise NotFound(f"问答库条目不存在：{entry_id}")
        return e

    @staticmethod
    def _last_editor(s: Session, entry_id: str) -> str | None:
        """Who last changed the entry's text (an edit), if anyone did after creating it."""
        return s.scalars(select(FaqAudit.officer)
                         .where(FaqAudit.entry_id == entry_id, FaqAudit.action == "edit")
                         .order_by(FaqAudit.id.desc()).limit(1)).first()

    @staticmethod
    def _check_version(e: FaqEntry, version: int) -> None:
        if e.version != version:
            raise Conflict(f"条目已被他人修改（当前版本 {e.version}，你提交的是 {version}），"
                           "请刷新后再改")

    @staticmethod
    def _apply(s: Session, e: FaqEntry, version: int, values: dict[str, Any],
               changes: dict[str, Any], officer: str, action: str, role: str = ""
               ) -> dict[str, Any]:
        """Conditional UPDATE on the version read, plus its audit row, in ``s``."""
        now = utcnow()
        res = s.execute(update(FaqEntry)
                        .where(FaqEntry.id == e.id, FaqEntry.version == version)
                        .values(**values, version=version + 1, updated_by=officer,
                                updated_at=now)
                        .execution_options(synchronize_session=False))
        if getattr(res, "rowcount", 0) != 1:
            raise Conflict("条目已被他人修改，请刷新后再改")
        s.add(FaqAudit(entry_id=e.id, officer=officer, role=role, action=action,
                       version=version + 1, changes=_jsonable(changes), at=now))
        s.flush()
        s.refresh(e)
        return entry_dict(e)


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v
    return {k: [conv(a), conv(b)] for k, (a, b) in changes.items()}

