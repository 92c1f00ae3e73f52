"""The officer desk's web page (/desk): one static page and its script, served from the
package. It holds no data: it calls the officer API with the bearer token the officer
types in (kept in the tab's sessionStorage), so the page itself needs no login route.
Its own CSP allows scripts and styles from this origin only, and no framing."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from policyqa.errors import NotFound

router = APIRouter(include_in_schema=False)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' blob:; frame-ancestors 'none'; form-action 'self'")  # blob: the charts
_TYPES = {"desk.html": "text/html; charset=utf-8",
          "desk.js": "text/javascript; charset=utf-8", "desk.css": "text/css; charset=utf-8"}


def _asset(name: str) -> Response:
    data = files("policyqa.api").joinpath("static", name).read_bytes()
    return Response(data, media_type=_TYPES[name], headers={
        "Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


@router.get("/desk")
def desk_redirect() -> RedirectResponse:
    return RedirectResponse("/desk/")


@router.get("/desk/")
def desk_page() -> Response:
    return _asset("desk.html")


@router.get("/desk/{name}")
def desk_asset(name: str) -> Response:
    """The page's script and style sheet (nothing else is served from here)."""
    if name not in _TYPES or name == "desk.html":
        raise NotFound("没有这个文件")
    return _asset(name)
