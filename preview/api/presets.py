"""A generation's environment presets: ``PUT|GET|DELETE /api/generations/{gid}/presets/{name}``
and ``GET …/presets``. A preset is a named set of variables (``dev``,
``with-stripe-test-key``) a launch names (``{"preset": "dev"}``, :func:`preset_env`): its
variables under the launch's own ``env``, which wins.

A secret variable's value is never answered, to anyone: it reads ``null`` with
``secret: true``, and a ``PUT`` that sends it back as ``null`` keeps the stored value (so
a client edits a preset it read without knowing its secrets). Variables that look like
switches are marked ``toggle: true`` for the UI (:func:`is_toggle`).
"""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Response, jsonify

from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, NotFound
from ..services import Services, services
from ..services.audit import record_action
from ..services.callers import json_body, owned_generation
from ..store.presets import (
    MAX_PRESETS,
    Preset,
    PresetLimit,
    SecretNotKept,
    delete_preset,
    get_preset,
    list_presets,
    put_preset,
)

__all__ = ["MAX_VARIABLES", "blueprint", "is_toggle", "preset_env"]

blueprint = Blueprint("presets", __name__, url_prefix="/api/generations/<gid>/presets")

MAX_VARIABLES = 200  # as a launch's own env (apps.spec): a preset and the env together too
_MAX_VALUE = 65536
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")
# A switch by its name (FEATURE_X, X_ENABLED, ENABLE_X, X_DISABLED, DISABLE_X, FF_X) ...
_SWITCH_NAME = re.compile(
    r"(?:FEATURE|FF|ENABLE|DISABLE)_\w+|\w+_(?:ENABLED|DISABLED)|DEBUG", re.IGNORECASE
)
# ... with one of these values (1 and 0 only then: WORKERS=1 is a number) ...
_SWITCH_VALUES = {"true", "false", "yes", "no", "on", "off", "1", "0", ""}
# ... or any name with a value that can only be a switch.
_BOOLEAN_VALUES = {"true", "false", "yes", "no", "on", "off"}


def is_toggle(name: str, value: str | None, secret: bool) -> bool:
    """Whether the variable looks like a switch the UI can show as a toggle. A secret
    one by its name alone: its value's shape is not told either."""
    by_name = _SWITCH_NAME.fullmatch(name) is not None
    if secret:
        return by_name
    plain = (value or "").strip().lower()
    return (by_name and plain in _SWITCH_VALUES) or plain in _BOOLEAN_VALUES


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise BadRequest(
            "A preset's name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit.",
            code="invalid_preset_name",
            details={"name": name[:80]},
        )
    return name


def _preset_json(preset: Preset) -> dict[str, Any]:
    variables = []
    for name in sorted(preset.env):
        secret = name in preset.secret
        value = None if secret else preset.env[name]
        variables.append(
            {
                "name": name,
                "value": value,
                "secret": secret,
                "toggle": is_toggle(name, value, secret),
            }
        )
    return {
        "name": preset.name,
        "variables": variables,
        "createdAt": isoformat(preset.created_at),
        "updatedAt": isoformat(preset.updated_at),
    }


def _body_of(body: dict[str, Any]) -> tuple[dict[str, str | None], frozenset[str]]:
    env, secret = body.get("env"), body.get("secret", [])
    if (
        not isinstance(env, dict)
        or len(env) > MAX_VARIABLES
        or not all(
            isinstance(k, str)
            and _VARIABLE.fullmatch(k)
            and (v is None or (isinstance(v, str) and "\x00" not in v and len(v) <= _MAX_VALUE))
            for k, v in env.items()
        )
    ):
        raise BadRequest(
            f"env must be an object of at most {MAX_VARIABLES} variables: names of letters, "
            "digits and _, string values (null: a secret's stored value, kept).",
            code="invalid_env",
        )
    if not isinstance(secret, list) or not all(isinstance(s, str) and s in env for s in secret):
        raise BadRequest(
            "secret must be a list of names of env's variables.", code="invalid_secret"
        )
    kept = [k for k, v in env.items() if v is None and k not in secret]
    if kept:  # null keeps a secret's value: a plain variable has no hidden value to keep
        raise BadRequest(
            f"{kept[0]} is null but not secret: give its value.",
            code="invalid_env",
            details={"variable": kept[0]},
        )
    return env, frozenset(secret)


def preset_not_found(name: str) -> NotFound:
    return NotFound(
        f"This generation has no preset {name!r}.",
        code="preset_not_found",
        details={"preset": name[:80]},
    )


async def preset_env(state: Services, gid: str, name: Any) -> dict[str, str]:
    """The variables of ``gid``'s preset ``name`` (a launch's ``preset``), values in
    clear for the app; 400 ``invalid_preset`` for no name, 404 ``preset_not_found``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadRequest("preset must be the name of one of its presets.", code="invalid_preset")
    assert state.store is not None
    preset = await state.store.run_sync(get_preset, state.store.engine, gid, name)
    if preset is None:
        raise preset_not_found(name)
    return preset.env


@blueprint.put("/<name>")
async def put(gid: str, name: str) -> tuple[Response, int]:
    """``{env: {NAME: value}, secret: [NAME…]}``: the preset, made or replaced whole."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    name = _checked_name(name)
    env, secret = _body_of(await json_body())
    assert state.store is not None
    try:
        preset, created = await state.store.run_sync(
            put_preset, state.store.engine, gid, name, env, secret, utcnow()
        )
    except PresetLimit:
        raise Conflict(
            f"This generation has {MAX_PRESETS} presets, the most allowed; delete one first.",
            code="too_many_presets",
            details={"limit": MAX_PRESETS},
        ) from None
    except SecretNotKept as error:
        raise BadRequest(
            f"{error.args[0]} is null, but this preset stores no secret value of that name.",
            code="invalid_env",
            details={"variable": error.args[0]},
        ) from None
    await record_action(
        state,
        user,
        "preset_put",
        owner=generation.user_id,
        generation_id=gid,
        preset=name,
        created=created,
        variables=len(env),
        secrets=len(secret),
    )  # names and counts: never a value
    return jsonify(_preset_json(preset)), 201 if created else 200


@blueprint.get("")
async def listing(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    assert state.store is not None
    presets = await state.store.run_sync(list_presets, state.store.engine, gid)
    return jsonify(
        {
            "generationId": gid,
            "limit": MAX_PRESETS,
            "presets": [_preset_json(preset) for preset in presets],
        }
    )


@blueprint.get("/<name>")
async def one(gid: str, name: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    name = _checked_name(name)
    assert state.store is not None
    preset = await state.store.run_sync(get_preset, state.store.engine, gid, name)
    if preset is None:
        raise preset_not_found(name)
    return jsonify(_preset_json(preset))


@blueprint.delete("/<name>")
async def remove(gid: str, name: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    name = _checked_name(name)
    assert state.store is not None
    if not await state.store.run_sync(delete_preset, state.store.engine, gid, name):
        raise preset_not_found(name)
    await record_action(
        state, user, "preset_delete", owner=generation.user_id, generation_id=gid, preset=name
    )
    return jsonify({"status": "deleted", "preset": name})
