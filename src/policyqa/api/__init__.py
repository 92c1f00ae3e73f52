"""HTTP API mirroring the 12333 smart-service channel (FastAPI)."""

from policyqa.api.app import create_app

__all__ = ["create_app"]
