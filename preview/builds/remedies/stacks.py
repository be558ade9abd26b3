"""Old releases that run only with old releases of packages they do not bound:
:func:`companions`.

A Flask 1.x never said ``Jinja2<3``, yet imports ``escape`` from it (gone in Jinja2 3.1);
Jinja2 2.x never said ``MarkupSafe<2.1``, yet imports ``soft_unicode`` (gone in 2.1). An
app that pins (or is held at) such a release, and leaves the others unpinned, fails on
the newest of each, one import at a time: one rebuild each. What broke together is fixed
together: each rule below says which holds go with a distribution allowed only below a
version (by the app's own pin, ``==``/``<``/``<=``/``~=``, or by a fix's hold), applied
transitively (``Flask-SQLAlchemy<2.5`` → ``Flask<2.2`` → ``Werkzeug<3`` …), never over a
pin of the app's own. A few go only where the app lists what would bring the held one
(``kombu<5.7`` with ``redis<6.1``, where it lists celery or kombu).
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.version import InvalidVersion, Version

from .fixes import norm as _norm
from .fixes import requirement as _requirement

__all__ = ["companions", "upper_bound"]

# (distribution, below): the holds an app needs with that distribution below that version.
_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Flask 1.x: Jinja2 3.1 lost escape and Markup, itsdangerous 2.1 its json, Werkzeug 2.1
    # safe_str_cmp and 2.0 much else, click 8 its old CLI API: what Flask 1.1.4 itself bounds.
    ("flask", "2", ("Werkzeug<2", "Jinja2<3", "itsdangerous<2", "click<8", "MarkupSafe<2.1")),
    # Flask 2.0/2.1 and the extensions of their time (safe_str_cmp gone in Werkzeug 2.1).
    ("flask", "2.2", ("Werkzeug<2.1",)),
    # Flask 2.0–2.2 import url_quote, gone in Werkzeug 3.
    ("flask", "2.3", ("Werkzeug<3",)),
    ("jinja2", "3", ("MarkupSafe<2.1",)),  # soft_unicode, gone in MarkupSafe 2.1
    # Flask-SQLAlchemy before 2.5 reads LocalStack.__ident_func__ (gone in Werkzeug 2.1,
    # and from Flask's stack in 2.2) and predates SQLAlchemy 1.4 (2.5's "support SQLAlchemy
    # 1.4": it sets attributes of a URL, immutable since, and its apps use 1.3's API,
    # query('alive'): ask-me's health check); before 3, Flask's _app_ctx_stack (gone in
    # 2.3) and SQLAlchemy 1.x's API.
    ("flask-sqlalchemy", "2.5", ("Flask<2.2", "Werkzeug<2.1", "SQLAlchemy<1.4")),
    ("flask-sqlalchemy", "3", ("Flask<2.3", "SQLAlchemy<2")),
    # Flask-JWT-Extended 3 encodes with PyJWT 1's bytes-returning API.
    ("flask-jwt-extended", "4", ("PyJWT<2",)),
    # Flask-Login before 0.6 imports safe_str_cmp and url_decode from Werkzeug.
    ("flask-login", "0.6", ("Werkzeug<2.1",)),
    # Flask-WTF before 1.0 imports url_encode from Werkzeug (gone in 2.1).
    ("flask-wtf", "1", ("Werkzeug<2.1",)),
    # Tortoise ORM before 0.25's pydantic_model_creator passes model_config as a field,
    # which pydantic 2.11 refuses ("`model_config` cannot be used as a model field name":
    # testdriven's fastapi-tdd-docker pins tortoise-orm 0.20.0, not pydantic).
    ("tortoise-orm", "0.25", ("pydantic<2.11",)),
    # FastAPI 0.100-0.104 builds its Form()/Query() fields on pydantic's FieldInfo, whose
    # copies pydantic 2.12 makes as plain FieldInfo: "'FieldInfo' object has no attribute
    # 'in_'" at import (melos-simeneh's blog pins fastapi==0.103.1, not pydantic).
    ("fastapi", "0.105", ("pydantic<2.12",)),
    # Celery 4's kombu (4.x) reads importlib-metadata's entry_points().get, gone in its 5.0:
    # celery's lazy module then says only "cannot import name 'Celery' from 'celery'"
    # (glebmikha's django-rest-framework-bank: celery>=4.3,<4.4 on its Python 3.7).
    ("celery", "5", ("importlib-metadata<5",)),
    # SQLAlchemy-Utils before 0.37 (its support of SQLAlchemy 1.4) imports
    # sqlalchemy.sql.expression._literal_as_text, gone in 1.4 (frol's
    # flask-restplus-server-example: SQLAlchemy>=1.3,<2 beside SQLAlchemy-Utils<0.35).
    ("sqlalchemy-utils", "0.37", ("SQLAlchemy<1.4",)),
)
# Holds that go only with a distribution the app lists (celery brings kombu; an app that
# pins redis without either needs no kombu): (distribution, below, holds, with one of).
_LISTED_RULES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # kombu 5.7's Redis transport refuses redis-py below 6.1 at its first connection
    # (VersionMismatch), 5.6 did not: celery 5.3 with redis==5.0.1 pinned, kombu unpinned.
    ("redis", "6.1", ("kombu<5.7",), ("celery", "kombu")),
    # Tortoise ORM 0.20 moved to pydantic 2 (its pydantic_model_creator imports RootModel):
    # with pydantic held below 2, its last of pydantic 1 (corcasta's FastAPI-Demo).
    ("pydantic", "2", ("tortoise-orm<0.20",), ("tortoise-orm",)),
    # Flask-Migrate 4.1's db group keeps its options in ``g`` for its commands, which share
    # one app context from Flask 2.2 on; Flask 1.x–2.1 push one per command: "'_AppCtxGlobals'
    # object has no attribute 'directory'" at `flask db upgrade` (ricoputrap's
    # flask-rest-api-modular, Flask==1.1.2 pinned, Flask-Migrate imported, not listed).
    ("flask", "2.2", ("Flask-Migrate<4.1",), ("flask-migrate",)),
    # Flask-Admin 2 imports flask.typing's RouteCallable, new in Flask 2.2 (bdemirtas's
    # flask-prototype-blog: Flask~=2.0.1, flask_admin imported and not listed).
    ("flask", "2.2", ("Flask-Admin<2",), ("flask-admin",)),
)
# Holds that go with a distribution whatever its version: its newest release is of an
# older time than what it leaves unbounded (fastapi-crudrouter's last, 0.8.6 of 2022, reads
# pydantic 1's ModelField.name: corcasta's FastAPI-Demo, nothing pinned, on pydantic 2 got
# "'FieldInfo' object has no attribute 'name'").
_EVERY_RELEASE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fastapi-crudrouter", ("pydantic<2",)),
    # passlib's last release, 1.7.4 of 2020, probes bcrypt's 72-byte wraparound with a
    # longer password when it first loads it, which bcrypt 5 refuses ("password cannot be
    # longer than 72 bytes"): every hash or verify of a passlib[bcrypt] app failed, and an
    # app hashing its first user at start-up never served (julzt0244's
    # fastapi-address-book-api, nothing pinned). bcrypt 4 only warns of its version.
    ("passlib", ("bcrypt<5",)),
)
_MAX_ROUNDS = 8


def upper_bound(line: str) -> tuple[str, Version, bool] | None:
    """(normalised name, the version it stays below or at, whether below it) of a
    requirement line that bounds its distribution from above; None otherwise."""
    if (requirement := _requirement(line)) is None:
        return None
    bounds: list[tuple[Version, bool]] = []
    for spec in requirement.specifier:
        try:
            version = Version(spec.version.replace(".*", ""))
        except InvalidVersion:
            continue
        if spec.operator in ("==", "===", "<="):
            bounds.append((version, False))
        elif spec.operator == "<":
            bounds.append((version, True))
        elif spec.operator == "~=":  # ~=1.4.2: below 1.5
            release = version.release[: max(len(version.release) - 1, 1)]  # ~=2: below 3
            bumped = ".".join(map(str, (*release[:-1], release[-1] + 1)))
            bounds.append((Version(bumped), True))
    if not bounds:
        return None
    version, strict = min(bounds, key=lambda b: (b[0], not b[1]))
    return _norm(requirement.name), version, strict


def _floor(line: str) -> tuple[str, Version] | None:
    """(normalised name, the lowest version it allows) of a requirement line that says
    one (``==``, ``~=``, ``>=``, ``>``); None otherwise."""
    if (requirement := _requirement(line)) is None:
        return None
    floors = []
    for spec in requirement.specifier:
        if spec.operator in ("==", "===", "~=", ">=", ">"):
            try:
                floors.append(Version(spec.version.replace(".*", "")))
            except InvalidVersion:
                continue
    return (_norm(requirement.name), max(floors)) if floors else None


def companions(lines: Sequence[str], own: Sequence[str]) -> list[tuple[str, str]]:
    """The holds ``lines`` (the requirements in effect) need and do not have, as
    (hold, why: the line that asks for it); ``own``: the app's own lines, whose pins are
    never held over: a hold goes where the app's own range allows a version below it
    (``SQLAlchemy>=1.3,<2`` takes ``SQLAlchemy<1.4``), never where its pin or floor is
    at or above it (``kombu==5.7.0``)."""
    floors = [f for line in own if (f := _floor(line)) is not None]
    current = list(lines)
    found: list[tuple[str, str]] = []
    for _ in range(_MAX_ROUNDS):  # transitively, to a fixed point
        added = False
        bounds = [(b, line) for line in current if (b := upper_bound(line)) is not None]
        listed = _names(current)
        rules = [*_RULES, *(r[:3] for r in _LISTED_RULES if listed & set(r[3]))]
        rules += [(name, "", holds) for name, holds in _EVERY_RELEASE_RULES]
        for name, below, holds in rules:
            if not below:  # any version of it: the line that lists it
                why = next((line for line in current if _names([line]) == {name}), None)
            else:
                limit = Version(below)
                why = next((line for b, line in bounds if b[0] == name and _under(b, limit)), None)
            if why is None:
                continue
            for hold in holds:
                held = upper_bound(hold)
                assert held is not None
                if any(name == held[0] and version >= held[1] for name, version in floors) or any(
                    b[0] == held[0] and _under(b, held[1]) for b, _ in bounds
                ):
                    continue  # the app's own pin (or floor) above it, or held as low already
                current.append(hold)
                bounds.append((held, hold))
                found.append((hold, why))
                added = True
        if not added:
            break
    # A looser hold found before a stricter one of the same distribution goes.
    tightest = {}
    for hold, _ in found:
        held = upper_bound(hold)
        assert held is not None
        if held[0] not in tightest or held[1] < tightest[held[0]]:
            tightest[held[0]] = held[1]
    return [(h, w) for h, w in found if upper_bound(h)[1] == tightest[upper_bound(h)[0]]]  # type: ignore[index]


def _names(lines: Sequence[str]) -> set[str]:
    """The normalised distribution names of requirement lines."""
    return {_norm(parsed.name) for line in lines if (parsed := _requirement(line)) is not None}


def _under(bound: tuple[str, Version, bool], limit: Version) -> bool:
    """Whether ``bound`` keeps its distribution below ``limit``."""
    _, version, strict = bound
    return version <= limit if strict else version < limit
