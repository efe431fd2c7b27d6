"""The app starts on a fresh data dir and answers its health routes without a token."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_routes_need_no_token(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
