"""An exclusive lock on a file, held across processes on one host (``flock``).

Used where two processes may change the same folder at once: two workers (or a worker
and ``policyqa index``) finding a stale index at start-up, two admins' document
changes. The lock is released when the holder exits, even if it is killed.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
