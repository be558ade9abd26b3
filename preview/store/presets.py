"""The ``env_presets`` table: a generation's named sets of environment variables.

Functions here run in the store's worker threads (``Store.run_sync``); each is one
transaction. A preset's values are stored as given (a launch needs them); the API never
shows a secret one (``api.presets``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .models import EnvPreset, first, records

__all__ = [
    "MAX_PRESETS",
    "Preset",
    "PresetLimit",
    "SecretNotKept",
    "delete_preset",
    "get_preset",
    "list_presets",
    "put_preset",
]

MAX_PRESETS = 20  # a generation's presets


@dataclass(frozen=True, slots=True)
class Preset:
    """One preset as its row holds it: every value in clear (for launches only)."""

    name: str
    env: dict[str, str]
    secret: frozenset[str]
    created_at: datetime
    updated_at: datetime


class PresetLimit(Exception):
    """The generation has :data:`MAX_PRESETS` presets and this one is new."""


class SecretNotKept(Exception):
    """A value left out (``None``: keep the stored one) that no stored secret holds; its
    variable's name is the argument."""


def _preset(row: EnvPreset) -> Preset:
    return Preset(
        row.name,
        json.loads(row.env),
        frozenset(json.loads(row.secret)),
        row.created_at,
        row.updated_at,
    )


def _where(generation_id: str, name: str) -> tuple:
    return (EnvPreset.generation_id == generation_id, EnvPreset.name == name)


def put_preset(
    engine: Engine,
    generation_id: str,
    name: str,
    env: dict[str, str | None],
    secret: frozenset[str],
    at: datetime,
) -> tuple[Preset, bool]:
    """Store the preset ``name`` as ``env`` (a value ``None``: the stored value of that
    secret variable, kept), replacing one of that name; it and whether it is new.
    Raises :class:`PresetLimit`, :class:`SecretNotKept`."""
    try:
        return _put(engine, generation_id, name, env, secret, at)
    except IntegrityError:  # made by a PUT beside this one, after this one looked: replace it
        return _put(engine, generation_id, name, env, secret, at)


def _put(
    engine: Engine,
    generation_id: str,
    name: str,
    env: dict[str, str | None],
    secret: frozenset[str],
    at: datetime,
) -> tuple[Preset, bool]:
    with engine.begin() as connection:
        row = first(
            EnvPreset, connection.execute(select(EnvPreset).where(*_where(generation_id, name)))
        )
        stored = _preset(row) if row is not None else None
        values: dict[str, str] = {}
        for key, value in env.items():
            if value is None:
                if stored is None or key not in stored.secret or key not in stored.env:
                    raise SecretNotKept(key)
                value = stored.env[key]
            values[key] = value
        columns = {
            "env": json.dumps(values, separators=(",", ":")),
            "secret": json.dumps(sorted(secret), separators=(",", ":")),
            "updated_at": at,
        }
        if stored is not None:
            connection.execute(
                update(EnvPreset).where(*_where(generation_id, name)).values(**columns)
            )
            return Preset(name, values, secret, stored.created_at, at), False
        count = connection.scalar(
            select(func.count())
            .select_from(EnvPreset)
            .where(EnvPreset.generation_id == generation_id)
        )
        if (count or 0) >= MAX_PRESETS:
            raise PresetLimit()
        connection.execute(
            insert(EnvPreset),
            {"generation_id": generation_id, "name": name, "created_at": at, **columns},
        )
    return Preset(name, values, secret, at, at), True


def list_presets(engine: Engine, generation_id: str) -> list[Preset]:
    """The generation's presets, by name."""
    statement = (
        select(EnvPreset).where(EnvPreset.generation_id == generation_id).order_by(EnvPreset.name)
    )
    with engine.connect() as connection:
        return [_preset(row) for row in records(EnvPreset, connection.execute(statement))]


def get_preset(engine: Engine, generation_id: str, name: str) -> Preset | None:
    with engine.connect() as connection:
        row = first(
            EnvPreset, connection.execute(select(EnvPreset).where(*_where(generation_id, name)))
        )
    return _preset(row) if row is not None else None


def delete_preset(engine: Engine, generation_id: str, name: str) -> bool:
    """Remove the preset; whether there was one."""
    with engine.begin() as connection:
        return (
            connection.execute(delete(EnvPreset).where(*_where(generation_id, name))).rowcount > 0
        )
