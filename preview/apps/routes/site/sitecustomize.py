"""The route table of a running Flask (or any Werkzeug ``Map``: Quart, Flask-RESTX),
Django or Starlette (FastAPI) app, for the preview service's endpoint list.

The service puts this folder on a sandboxed Python app's ``PYTHONPATH`` (see
``preview/apps/routes/table.py``), so Python imports it at start as ``sitecustomize``.
Nothing happens unless ``ROUTE_TABLE_PATH`` is set and the app imports Werkzeug's
routing, Django's request handling or Starlette's applications: then the routes its
``Map`` objects hold, its URL resolver resolves, or its applications' routers serve
(FastAPI's hidden from its OpenAPI document, ``include_in_schema=False``, among them), are
written to that file as JSON. Every step of its own is in a
``try``: whatever it meets, the app starts as it would without it. Another
``sitecustomize`` of the app's environment, which this one hides on ``sys.path``, is run
after it. It first makes directory listings answer in name order
(``preview_name_order``), as the app's author's machine gave them.
"""

import contextlib
import os
import sys

_MAX_ROUTES = 2000
# URL namespaces of development tools a project includes while DEBUG is on: their pages
# serve the tool (django-debug-toolbar's ``__debug__/render_panel/`` wants the query of
# its own toolbar, a 500 without it; django-browser-reload's ``events/`` never ends).
_DEV_TOOLS = ("djdt", "django_browser_reload")
# Their Flask counterparts, by blueprint: Flask-DebugToolbar's ``debugtoolbar`` (its
# ``views/sqlalchemy/sql_explain`` wants its toolbar's query: KeyError, a 500 without)
# and its files' ``_debug_toolbar.static``.
_FLASK_DEV_TOOLS = ("debugtoolbar", "_debug_toolbar")
# A FastAPI application's own pages (its documentation), by the attributes naming them.
_DOC_PAGES = ("docs_url", "redoc_url", "openapi_url", "swagger_ui_oauth2_redirect_url")


class _RouteTable:
    """The app's route table as written to ``out``: the routing objects seen so far
    (Werkzeug's maps, Starlette's called applications, Django's handler), written a
    moment after each burst of new rules, and at once before a request is served."""

    def __init__(self, out):
        import threading
        import weakref

        self.out = out
        self.maps = weakref.WeakSet()
        self.apps = weakref.WeakSet()  # Starlette's (FastAPI's) applications that were called
        self.django = False
        self.timer = None
        self.lock = threading.Lock()
        # Held while the table is written: a request waits for a write under way in the
        # timer's thread (a process that served one request and exited, a loaded machine's
        # late timer, left none: the daemon thread died mid-write).
        self.writing = threading.Lock()

    def write(self, table):
        import json

        staged = f"{self.out}.{os.getpid()}.new"
        with open(staged, "w") as file:
            json.dump(table, file)
        os.replace(staged, self.out)

    def flush(self):
        with self.lock:
            self.timer = None
        with self.writing:
            try:
                if self.django:
                    self.write({"framework": "django", "routes": _django_routes()})
                elif len(self.apps):
                    self.write({"framework": "starlette", "routes": _starlette_routes(self.apps)})
                else:
                    self.write({"framework": "flask", "routes": _werkzeug_routes(self.maps)})
            except Exception:
                pass  # no table: the service reads the endpoints from the source

    def later(self, delay=0.05):
        """Write in ``delay`` seconds: rules come in bursts (an app's imports), one write
        after each."""
        import threading

        with self.lock:
            if self.timer is not None:
                return
            timer = self.timer = threading.Timer(delay, self.flush)
        timer.daemon = True
        timer.start()

    def now(self):
        """A request is served: its app is whole, so what is pending is written before
        it (once; a gunicorn worker may load the app after its port opened)."""
        with self.lock:
            timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()
            self.flush()
        else:
            with self.writing:  # the timer's write under way: finished first
                pass

    def before(self, function):
        """``function`` (a request's start), writing what is pending first."""
        import contextlib

        def recorded(*args, **kwargs):
            if self.timer is not None or self.writing.locked():
                with contextlib.suppress(Exception):
                    self.now()
            return function(*args, **kwargs)

        recorded._preview = True
        return recorded


def _werkzeug_routes(maps):
    routes = []
    for routing in list(maps):
        for rule in routing.iter_rules():
            endpoint = str(rule.endpoint)
            if endpoint == "static" or endpoint.endswith(".static"):
                continue  # the framework's own files
            if endpoint.partition(".")[0] in _FLASK_DEV_TOOLS:
                continue  # a development tool's own pages
            methods = sorted(set(rule.methods or ("GET",)) - {"HEAD", "OPTIONS"})
            routes.extend([method, rule.rule] for method in methods or ["GET"])
    return routes[:_MAX_ROUTES]


def _django_methods(callback):
    actions = getattr(callback, "actions", None)  # a DRF viewset's
    if isinstance(actions, dict) and actions:
        return sorted(m.upper() for m in actions if m not in ("head", "options"))
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["GET"]  # a function: any method; listed as a GET
    names = getattr(view, "http_method_names", ())
    found = [m.upper() for m in names if m not in ("head", "options") and hasattr(view, m)]
    return found or ["GET"]


def _names_a_page_only(callback):
    """Whether a Django view is a template view given no template, there only to be
    reversed: dj-rest-auth's registration URLs give ``account-email-verification-sent/``
    and ``account-confirm-email/<key>/`` to ``TemplateView.as_view()`` so that allauth's
    e-mails can name them (its documentation says so), and any GET of one raises
    ImproperlyConfigured ("TemplateResponseMixin requires either a definition of
    'template_name' …"): a 500 under every server, not a page of the app's."""
    view = getattr(callback, "view_class", None)
    if view is None or "template_name" in (getattr(callback, "view_initkwargs", None) or {}):
        return False
    try:
        from django.views.generic.base import TemplateResponseMixin  # pyright: ignore[reportMissingImports]
    except Exception:
        return False
    return (
        isinstance(view, type)
        and issubclass(view, TemplateResponseMixin)
        and getattr(view, "template_name", None) is None
        and view.get_template_names is TemplateResponseMixin.get_template_names
    )


def _django_routes():
    # Django is the app's, not the service's: it is there when its handler was loaded.
    from django.urls import URLPattern, URLResolver, get_resolver  # pyright: ignore[reportMissingImports]

    found = []

    def part(pattern):
        regex = getattr(pattern, "_regex", None)
        if isinstance(regex, str) and type(pattern).__name__ == "RegexPattern":
            return ["r", regex]
        if type(pattern).__name__ == "LocalePrefixPattern":
            return ["p", _language_prefix(pattern)]
        return ["p", str(pattern)]

    def walk(patterns, prefix, depth):
        for entry in patterns:
            if len(found) >= _MAX_ROUTES:
                return
            if isinstance(entry, URLResolver):
                here = [*prefix, part(entry.pattern)]
                if getattr(entry, "app_name", None) in _DEV_TOOLS:
                    continue  # a development tool's own pages, not the app's
                if getattr(entry, "app_name", None) == "admin":
                    found.append(["GET", here])  # its pages: one entry, the index
                elif depth < 16:
                    walk(entry.url_patterns, here, depth + 1)
            elif isinstance(entry, URLPattern):
                here = [*prefix, part(entry.pattern)]
                if any("(?P<format>" in t or "drf_format_suffix" in t for _, t in here):
                    continue  # DRF's format suffixes: the same routes again
                if _names_a_page_only(entry.callback):
                    continue  # a name to reverse, which no request can render
                found.extend([m, here] for m in _django_methods(entry.callback))

    walk(get_resolver().url_patterns, [], 0)
    return found


def _language_prefix(pattern):
    """The prefix ``i18n_patterns`` puts before a request's path as a request with no
    language of its own gets it: LocaleMiddleware activates the variant of LANGUAGE_CODE
    that LANGUAGES lists (``en`` for ``en-us``), where the prefix read now, the language
    active at start, is LANGUAGE_CODE itself (asanaIiev's DRFHospital: every route listed
    under ``/en-us/``, each a 404); the default language unprefixed where the app says so."""
    from django.conf import settings  # pyright: ignore[reportMissingImports]
    from django.utils import translation  # pyright: ignore[reportMissingImports]

    if not getattr(pattern, "prefix_default_language", True):
        return ""
    code = settings.LANGUAGE_CODE
    if "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE:
        with contextlib.suppress(LookupError):  # none listed: LANGUAGE_CODE itself
            code = translation.get_supported_language_variant(code)
    return f"{code}/"


def _lacks_its_backend(route):
    """Whether a Starlette route is an admin's sign-in or sign-out that the app gave no
    authentication backend: sqladmin mounts ``/login`` and ``/logout`` on every
    ``Admin(app, engine)``, and each asserts ``self.authentication_backend is not None``
    (fialex1212's fastapi-quiz-app: a 500 under every server), there for an admin that
    signs its users in, which this one does not."""
    owner = getattr(route.endpoint, "__self__", None)
    return (
        getattr(route.endpoint, "__name__", None) in ("login", "logout")
        and hasattr(owner, "authentication_backend")
        and getattr(owner, "authentication_backend", None) is None
    )


def _starlette_routes(apps):
    import contextlib

    from starlette.routing import Mount, Route

    walked, mounted = {}, set()
    # FastAPI 0.165 and later include a router lazily (one entry for all its routes):
    # its own iterator gives each route with its effective path and methods.
    expand = getattr(sys.modules.get("fastapi.routing"), "iter_route_contexts", None)

    def effective(routes):
        if expand is not None:
            with contextlib.suppress(Exception):
                return [(getattr(c, "original_route", c), c) for c in expand(list(routes))]
        return [(route, route) for route in routes]

    def walk(app, routes, prefix, found, depth):
        # The app's own documentation pages (FastAPI's), not its routes.
        docs = {getattr(app, name, None) for name in _DOC_PAGES}
        for route, seen in effective(routes):
            if len(found) >= _MAX_ROUTES:
                return
            if isinstance(route, Mount):
                inner = getattr(route, "app", None)
                if inner in apps:
                    mounted.add(id(inner))
                below = getattr(route, "routes", None) or ()  # none: files, a catch-all
                if depth < 16:  # (a mounted application's own documentation pages)
                    owner = inner if hasattr(inner, "router") else app
                    walk(owner, below, prefix + route.path, found, depth + 1)
            elif isinstance(route, Route):
                path = getattr(seen, "path", None) or route.path
                if path in docs or _lacks_its_backend(route):
                    continue
                methods = getattr(seen, "methods", None) or route.methods or ("GET",)
                methods = set(methods) - {"HEAD", "OPTIONS"}
                found.extend([m, prefix + path] for m in sorted(methods) or ["GET"])

    for app in list(apps):
        router = getattr(app, "router", None)
        found = walked[id(app)] = []
        walk(app, getattr(router, "routes", None) or (), "", found, 0)
    # Each application's routes, a mounted one's under its mount's (and not alone).
    return [r for key, found in walked.items() if key not in mounted for r in found][:_MAX_ROUTES]


def _patch_starlette(table, module):
    import contextlib

    application = getattr(module, "Starlette", None)
    if not isinstance(application, type):
        return
    call = application.__call__
    if getattr(call, "_preview", False):
        return

    async def recorded_call(self, scope, receive, send):
        # Its first call (the server's lifespan, else a request): the app is whole,
        # and known (FastAPI's __init__ is its own, not Starlette's). A coroutine
        # function still, as servers tell an ASGI 3 app by its __call__.
        if self not in table.apps:
            with contextlib.suppress(Exception):
                table.apps.add(self)
                table.flush()
        await call(self, scope, receive, send)

    recorded_call._preview = True
    application.__call__ = recorded_call


def _patch_map(table, module):
    routing = getattr(module, "Map", None)
    add = getattr(routing, "add", None)
    if routing is None or add is None or getattr(add, "_preview", False):
        return

    def recorded_add(self, *args, **kwargs):
        result = add(self, *args, **kwargs)
        try:
            table.maps.add(self)
            table.later()
        except Exception:
            pass
        return result

    recorded_add._preview = True
    routing.add = recorded_add
    for name in ("bind", "bind_to_environ"):  # a request's matching begins
        if callable(getattr(routing, name, None)):
            setattr(routing, name, table.before(getattr(routing, name)))


def _patch_handler(table, module):
    handler = getattr(module, "BaseHandler", None)
    load = getattr(handler, "load_middleware", None)
    if handler is None or load is None or getattr(load, "_preview", False):
        return

    def recorded_load(self, *args, **kwargs):
        result = load(self, *args, **kwargs)
        try:
            table.django = True
            table.later(0.2)  # the URLconf read beside the start, not before it
        except Exception:
            pass
        return result

    recorded_load._preview = True
    handler.load_middleware = recorded_load
    if callable(getattr(handler, "get_response", None)):
        handler.get_response = table.before(handler.get_response)


# The modules whose objects hold an app's routes, and what is patched once each has run.
_PATCHES = {
    "werkzeug.routing": _patch_map,
    "werkzeug.routing.map": _patch_map,
    "django.core.handlers.base": _patch_handler,
    "starlette.applications": _patch_starlette,
}


def _install(out):
    """Watch the imports of the modules in ``_PATCHES``, writing the table to ``out``."""
    import contextlib
    import importlib.abc
    import importlib.machinery

    table = _RouteTable(out)

    class Watch(importlib.abc.MetaPathFinder):
        """Patches a watched module once it has run (its loader's exec_module wrapped)."""

        def find_spec(self, name, path=None, target=None):
            patch = _PATCHES.get(name)
            if patch is None:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            loader = getattr(spec, "loader", None)
            run = getattr(loader, "exec_module", None)
            if loader is None or run is None:
                return None

            def exec_module(module):
                run(module)
                with contextlib.suppress(Exception):
                    patch(table, module)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Watch())


def _chain():
    """Run the ``sitecustomize`` this one hides (the app's environment's), if any."""
    import importlib.machinery
    import importlib.util

    try:
        here = os.path.dirname(os.path.abspath(__file__))
        rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    except Exception:
        return
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its own errors, as Python would show them


if os.environ.get("ROUTE_TABLE_PATH"):
    import contextlib

    with contextlib.suppress(Exception):
        import preview_name_order  # noqa: F401 (its import is what it does)
    with contextlib.suppress(Exception):
        _install(os.environ["ROUTE_TABLE_PATH"])
_chain()
