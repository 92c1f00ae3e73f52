"""Officer accounts through the desk (admins only): list, add (the token is shown once),
change a role, revoke. The same functions as ``policyqa officer …`` on the server."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from policyqa.api.deps import OfficerAdmin, State
from policyqa.api.schemas import RequestBody, error_responses
from policyqa.errors import Conflict
from policyqa.faq.officers import add_officer, list_officers, revoke_officer, set_role

router = APIRouter(prefix="/api/v1/officer/officers", tags=["officer accounts"],
                   responses=error_responses(401, 403, 404, 409, 422, 503))
Role = Literal["editor", "reviewer", "admin"]
Name = Annotated[str, Path(min_length=1, max_length=64)]


class OfficerIn(RequestBody):
    name: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")
    role: Role = "editor"


class RoleIn(RequestBody):
    role: Role


@router.get("")
async def officers(state: State, admin: OfficerAdmin) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = await run_in_threadpool(list_officers, state.service().store)
    return out


@router.post("", status_code=201)
async def add(body: OfficerIn, state: State, admin: OfficerAdmin) -> dict[str, str]:
    """A new officer (or a revoked one again) and their token — shown this once only."""
    token = await run_in_threadpool(add_officer, state.service().store, body.name, body.role)
    return {"name": body.name, "role": body.role, "token": token}


@router.patch("/{name}")
async def change_role(name: Name, body: RoleIn, state: State, admin: OfficerAdmin
                      ) -> dict[str, str]:
    if name == admin.name and body.role != "admin":
        raise Conflict("不能降低自己的角色（请由另一位管理员操作）")
    await run_in_threadpool(set_role, state.service().store, name, body.role)
    return {"name": name, "role": body.role}


@router.post("/{name}/revoke")
async def revoke(name: Name, state: State, admin: OfficerAdmin) -> dict[str, str]:
    if name == admin.name:
        raise Conflict("不能吊销自己的令牌（请由另一位管理员操作）")
    await run_in_threadpool(revoke_officer, state.service().store, name)
    return {"name": name, "status": "revoked"}
