"""Django REST framework routes as they resolve, from source: a DefaultRouter's API root,
``@action`` routes (``detail``, ``methods``, ``url_path``) and included auth URLs."""

from __future__ import annotations

from pathlib import Path

from preview.discovery import endpoints_from_source

DJANGO_APP = Path(__file__).resolve().parent.parent / "apps" / "django_project"


def test_drf_router_root_actions_and_auth_urls() -> None:
    files = {str(p.relative_to(DJANGO_APP)): p.read_bytes() for p in DJANGO_APP.rglob("*.py")}
    found = {(e["method"], e["path"]): e for e in endpoints_from_source(files)}
    assert set(found) == {
        ("GET", "/api/"),
        ("GET", "/api/notes/"),
        ("POST", "/api/notes/"),
        ("GET", "/api/notes/recent/"),
        ("GET", "/api/notes/{pk}/"),
        ("PUT", "/api/notes/{pk}/"),
        ("PATCH", "/api/notes/{pk}/"),
        ("DELETE", "/api/notes/{pk}/"),
        ("POST", "/api/notes/{pk}/shout/"),
        ("GET", "/api-auth/login/"),
        ("POST", "/api-auth/login/"),
        ("POST", "/api-auth/logout/"),
    }
    assert found[("POST", "/api/notes/{pk}/shout/")]["summary"] == "A note in capitals."
    assert found[("GET", "/api/notes/recent/")]["source"]["file"] == "notes/views.py"
