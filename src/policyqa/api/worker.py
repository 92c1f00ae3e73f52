"""The app of one worker of ``policyqa serve --workers N``.

uvicorn's supervisor starts each worker as a fresh process from an import string
(``policyqa.api.worker:app``, a factory), so a worker cannot be handed the serve
command's objects: it reads its settings here, from the environment that command
prepared (host, port and encoder slots included). Nothing runs at import.

A worker loads its index and model *before* it starts serving (uvicorn takes requests
off the shared socket only once the app has started): a worker restarted after a crash,
or replaced by a rolling restart (SIGHUP to the supervisor), never answers 503 while
its siblings could have answered.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyqa.settings import from_environment


def app() -> FastAPI:
    import logging

    from policyqa.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return create_app(from_environment(), background=False)
