"""The 问答库's wording vectors: encoded once, kept in the database, shared by every worker.

Encoding is the cost of a large 问答库 (~15 ms a wording here; 15,000 entries of 2–5
wordings is ~50,000 wordings, minutes of CPU), so it never runs inside a request:

- :class:`WordingVectors` reads and writes the stored vectors. Each is keyed by the
  encoder and the exact text it encoded, so a new model or a changed expansion of the
  wording is simply a vector not stored yet.
- :class:`VectorJob` encodes what is missing, in small batches, as a background job
  that one process at a time holds by a lease in the ``jobs`` table. Progress
  (done / total) is stored after every batch, which is also what makes it resumable:
  a process that dies leaves every finished batch stored, its lease runs out, and the
  next holder starts from what is still missing. Every server process polls the job
  (one read) and takes it when it is pending or its holder's lease has run out.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, select, update

from policyqa.store import Store
from policyqa.store.engine import in_batches, upsert_insert
from policyqa.store.models import FaqVector, Job, utcnow

log = logging.getLogger("policyqa.faq")
JOB = "faq-vectors"
BATCH = 16  # wordings encoded at once: short enough not to hold an encoder slot for long
LEASE_S = 60.0
KEY_MEMO = 200_000  # wordings whose key is remembered (a base of 15,000 entries has ~52,000)
VT = cast(Table, FaqVector.__table__)
JT = cast(Table, Job.__table__)


class WordingVectors:
    def __init__(self, store: Store, model_key: str, text_of: Callable[[str], str],
                 encode: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.store = store
        self.model_key = model_key  # encoder backend and model id
        self.text_of = text_of  # wording -> the exact text encoded
        self.encode_texts = encode
        self._keys: dict[str, str] = {}  # wording -> key: every reload asks for all of them

    def key(self, wording: str) -> str:
        k = self._keys.get(wording)
        if k is None:
            text = self.text_of(wording)
            k = hashlib.sha256(f"{self.model_key}\n{text}".encode()).hexdigest()
            if len(self._keys) >= KEY_MEMO:
                self._keys.clear()
            self._keys[wording] = k
        return k

    def stored(self, wordings: Iterable[str]) -> dict[str, np.ndarray]:
        keys = {self.key(w): w for w in wordings}
        out: dict[str, np.ndarray] = {}
        with self.store.engine.connect() as conn:
            for part in in_batches(list(keys)):
                for k, blob in conn.execute(select(VT.c.key, VT.c.vector)
                                            .where(VT.c.key.in_(part))):
                    out[keys[k]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def encode(self, wordings: Sequence[str]) -> dict[str, np.ndarray]:
        """Encode and store these wordings; their vectors."""
        if not wordings:
            return {}
        vecs = np.asarray(self.encode_texts([self.text_of(w) for w in wordings]), np.float32)
        rows = [{"key": self.key(w), "vector": v.tobytes()} for w, v in zip(wordings, vecs,
                                                                           strict=True)]
        insert = upsert_insert(self.store.engine)
        with self.store.engine.begin() as conn:
            conn.execute(insert(VT).on_conflict_do_nothing(index_elements=[VT.c.key]), rows)
        return dict(zip(wordings, vecs, strict=True))


class VectorJob:
    def __init__(self, vectors: WordingVectors, wordings: Callable[[], list[str]],
                 holder: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.vectors = vectors
        self.wordings = wordings  # every wording of every active entry
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock

    # ---- the jobs row -------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self.vectors.store.engine.connect() as conn:
            row = conn.execute(select(JT).where(JT.c.name == JOB)).mappings().first()
        if row is None:
            return {"state": "done", "total": 0, "done": 0, "holder": "", "error": ""}
        return {"state": row["state"], "total": row["total"], "done": row["done"],
                "holder": row["holder"], "error": row["error"],
                "updated_at": row["updated_at"].isoformat()}

    def request(self) -> None:
        """Ask for a run (there are wordings without a vector); taken by the next poll."""
        insert = upsert_insert(self.vectors.store.engine)
        values = {"name": JOB, "state": "pending", "holder": "", "lease_until": 0.0,
                  "total": 0, "done": 0, "error": "", "updated_at": utcnow()}
        with self.vectors.store.engine.begin() as conn:
            conn.execute(insert(JT).values(**values).on_conflict_do_update(
                index_elements=[JT.c.name], set_={"state": "pending"},
                where=JT.c.state != "running"))

    def _claim(self) -> bool:
        """Take the job if it is pending, or running under a lease that has run out."""
        now = self.clock()
        with self.vectors.store.engine.begin() as conn:
            res = conn.execute(update(JT).where(
                JT.c.name == JOB,
                (JT.c.state == "pending") | ((JT.c.state == "running") &
                                             (JT.c.lease_until < now))
            ).values(state="running", holder=self.holder, lease_until=now + LEASE_S,
                     updated_at=utcnow()))
        return bool(res.rowcount)

    def _report(self, **values: Any) -> None:
        with self.vectors.store.engine.begin() as conn:
            conn.execute(update(JT).where(JT.c.name == JOB, JT.c.holder == self.holder)
                         .values(lease_until=self.clock() + LEASE_S, updated_at=utcnow(),
                                 **values))

    # ---- the run ------------------------------------------------------------------

    def run_if_due(self, max_batches: int | None = None) -> bool:
        """Run the job here if it is due; True when this process ran it."""
        if not self._claim():
            return False
        try:
            self._run(max_batches)
        except Exception as e:
            self._report(state="failed", error=f"{type(e).__name__}: {e}")
            raise
        return True

    def _run(self, max_batches: int | None) -> None:
        words = list(dict.fromkeys(self.wordings()))
        have = self.vectors.stored(words)
        missing = [w for w in words if w not in have]
        done = len(words) - len(missing)
        self._report(total=len(words), done=done)
        t0 = time.perf_counter()
        for n, i in enumerate(range(0, len(missing), BATCH)):
            if max_batches is not None and n >= max_batches:
                return  # stopped (a test's stand-in for a crash): the lease runs out
            part = missing[i:i + BATCH]
            self.vectors.encode(part)
            done += len(part)
            self._report(done=done)
        self._report(state="done")
        if missing:
            log.info("问答库: encoded %d wordings in %.1f s", len(missing),
                     time.perf_counter() - t0)
