"""Configuration an app died for want of, said as such: :func:`needed_variables`.

A settings class that finds variables missing raises pydantic's ``ValidationError: 5
validation errors for Settings`` followed by each field's name and ``Field required``
(v1: ``field required``); ``os.environ["X"]`` a ``KeyError: 'X'``; python-decouple
``UndefinedValueError: X not found``; Starlette's ``Config`` ``KeyError: "Config 'X' is
missing, and has no default."``; environs ``EnvError: Environment variable "X" not set``.
Each becomes one sentence naming every variable needed (upper-cased, as the environment
gives them), instead of the traceback's last line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["missing_env", "needed_variables", "with_stand_ins"]

_VALIDATION = re.compile(r"ValidationError: (\d+) validation errors? for (\w+)")
_REQUIRED = re.compile(r"\s+field required", re.IGNORECASE)
_FIELD = re.compile(r"^([A-Za-z_][\w.]*)\s*$")
_ONE = (
    re.compile(r"UndefinedValueError: (\w+) not found"),
    re.compile(r"KeyError: \"Config '(\w+)' is missing"),
    re.compile(r"EnvError: Environment variable \"(\w+)\" not set"),
)
_KEY_ERROR = re.compile(r"KeyError: '(\w+)'$")
_ENVIRON = re.compile(r"environ\s*\[")
_ADVICE = "give them with the launch option env"


def _said(names: list[str], why: str = "") -> str:
    if len(names) == 1:
        return f"the variable {names[0]} is needed{why}: give it with the launch option env"
    return f"these {len(names)} variables are needed: {', '.join(names)}{why}: {_ADVICE}"


_SAID_ONE = re.compile(r"\bthe variable (\w+) is needed\b")
_SAID_MANY = re.compile(r"\bthese \d+ variables are needed: (\w+(?:, \w+)*)")


def missing_env(message: str | None) -> list[str]:
    """The variables a failure's message (one :func:`needed_variables` or
    :func:`with_stand_ins` wrote, wherever in it) says are needed: the status's
    ``missingEnv``, for a form that asks for them."""
    if not message:
        return []
    if (m := _SAID_MANY.search(message)) is not None:
        return m.group(1).split(", ")
    if (m := _SAID_ONE.search(message)) is not None:
        return [m.group(1)]
    if (m := _STOOD_IN.search(message)) is not None:
        return m.group(1).split(", ")
    return []


_STOOD_IN = re.compile(r"\bit ran on stand-ins for (\w+(?:, \w+)*)")


def with_stand_ins(message: str | None, stand_ins: Sequence[str]) -> str | None:
    """A failure's ``message``, saying the variables it ran on stand-ins for
    (``configdefaults``: required, set by nobody, guessed by no rule), which may be why:
    the real ones are asked for (:func:`missing_env`), unless the message already names
    what is needed."""
    if not message or not stand_ins or missing_env(message):
        return message
    return (
        f"{message} (it ran on stand-ins for {', '.join(stand_ins)}: "
        "give the real ones with the launch option env)"
    )


def needed_variables(
    lines: Sequence[str], index: int, text: str, also: Sequence[str] = ()
) -> str | None:
    """The sentence for the exception line ``text`` at ``lines[index]``, if it says
    that configuration is missing; else None. ``also``: the other variables known to be
    required and unset (read from the source), named with the one it died for."""
    if (m := _VALIDATION.search(text)) is not None:
        return _validation(lines[index + 1 :], int(m.group(1)), m.group(2), also)
    for pattern in _ONE:
        if (m := pattern.search(text)) is not None:
            return _said(_with([m.group(1)], also))
    m = _KEY_ERROR.search(text.strip())
    if m is not None and any(_ENVIRON.search(line) for line in lines[max(0, index - 6) : index]):
        return _said(_with([m.group(1)], also))
    return None


def _with(names: list[str], also: Sequence[str]) -> list[str]:
    return [*names, *(n for n in also if n not in names)]


def _validation(after: Sequence[str], count: int, model: str, also: Sequence[str]) -> str | None:
    missing: list[str] = []
    invalid: list[str] = []
    field = None
    for line in after[: count * 4 + 4]:
        if (m := _FIELD.match(line)) is not None:
            field = m.group(1)
        elif field is not None and line[:1].isspace():
            if _REQUIRED.match(line):
                missing.append(field.upper())
            elif "further information" not in line:
                invalid.append(f"{field.upper()} ({line.strip().split(' [')[0]})")
            field = None
    if not missing and invalid:
        return f"the settings class {model} rejects " + ", ".join(invalid)
    if not missing:
        return None
    said = _said(_with(missing, also), f" (by the settings class {model})")
    if invalid:
        said += "; not valid: " + ", ".join(invalid)
    return said
