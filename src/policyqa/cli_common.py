"""What both CLI modules need: the settings, read once at the entry point, and a way to
talk to the operator on stderr (stdout stays for results a script can read)."""

from __future__ import annotations

import click

from policyqa.settings import Settings, from_environment


def read_settings() -> Settings:
    return from_environment()


def say(message: str) -> None:
    click.echo(message, err=True)
