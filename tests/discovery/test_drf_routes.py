"""Routes as they resolve, from source: Django REST framework's (a DefaultRouter's API root,
``@action`` routes, ``detail``, ``methods``, ``url_path``, included auth URLs), and a Node
app's, its tests apart."""

from __future__ import annotations

from preview.discovery import endpoints_from_source

from ..launching import APPS

DJANGO_APP = APPS / "django_project"


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


def test_a_router_without_trailing_slashes() -> None:
    """gothinkster/django-realworld-example-app: ``DefaultRouter(trailing_slash=False)``
    serves ``/api/articles``; ``/api/articles/`` answers 404."""
    urls = (
        "from django.urls import include, path\n"
        "from rest_framework.routers import DefaultRouter\n"
        "from rest_framework import viewsets\n"
        "class ArticleViewSet(viewsets.ReadOnlyModelViewSet):\n"
        "    lookup_field = 'slug'\n"
        "router = DefaultRouter(trailing_slash=False)\n"
        "router.register(r'articles', ArticleViewSet)\n"
        "urlpatterns = [path('api/', include(router.urls))]\n"
    )
    files = {"manage.py": b"", "conduit/urls.py": urls.encode()}
    found = {(e["method"], e["path"]) for e in endpoints_from_source(files)}
    assert {("GET", "/api/"), ("GET", "/api/articles"), ("GET", "/api/articles/{slug}")} <= found
    assert [path for _, path in found if path.endswith("/")] == ["/api/"]  # its root


def test_a_node_apps_tests_mount_no_routes_of_its_own() -> None:
    """express-typescript-2024: src/common/__tests__ mounts /error and /success on a test
    app; the app's routes are the rest (``*.test.ts`` and ``test/`` likewise)."""
    router = (
        'import express from "express";\n'
        "const app = express();\n"
        'app.get("/users", (req, res) => res.json([]));\n'
    )
    fake = 'import express from "express";\nconst app = express();\napp.get("/error", h);\n'
    files = {
        "src/server.ts": router.encode(),
        "src/common/__tests__/errorHandler.test.ts": fake.encode(),
        "src/api/user.spec.ts": fake.replace("/error", "/spec").encode(),
        "test/helpers.js": fake.replace("/error", "/helper").encode(),
    }
    found = {(e["method"], e["path"]) for e in endpoints_from_source(files)}
    assert found == {("GET", "/users")}


def test_a_view_made_by_a_bare_as_view_call_is_listed() -> None:
    """A URLconf's ``as_view()`` called by its bare name (a function the app imports, not
    a class's ``View.as_view()``) is a view of unknown methods: its ``.func`` is a name,
    which has no ``.value``, and reading it ended the whole discovery (pyright, issue 65)."""
    files = {
        "manage.py": b"import django\n",
        "site/urls.py": (
            b"from django.urls import path\n"
            b"from .views import as_view, home\n"
            b"urlpatterns = [path('home/', home), path('made/', as_view())]\n"
        ),
        "site/views.py": (
            b"def home(request):\n    pass\n\n\n"
            b"def as_view():\n    def view(request):\n        pass\n    return view\n"
        ),
    }
    found = {(e["method"], e["path"]) for e in endpoints_from_source(files)}
    assert found == {("ANY", "/home/"), ("ANY", "/made/")}
