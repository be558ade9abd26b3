"""A distribution that builds from source read as its twin that ships the same module as
wheels: :func:`binary_twins` (``psycopg2`` as ``psycopg2-binary``)."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["binary_twins"]

# A distribution built from source (a compiler, its library's headers, a minute) whose
# twin ships the same module as wheels, from the twin's first version on.
_BINARY_TWINS = {"psycopg2": ("psycopg2-binary", "2.7.4")}  # its first release


def binary_twins(lines: list[str]) -> tuple[list[str], list[str]]:
    """``lines`` with ``psycopg2`` as ``psycopg2-binary`` (the same module, as wheels)
    where the versions it allows include one of the twin's; and what was changed."""
    out, notes = [], []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            out.append(line)
            continue
        twin = _BINARY_TWINS.get(requirement.name.lower().replace("_", "-"))
        if twin is None or not _twin_has(requirement.specifier, Version(twin[1])):
            out.append(line)
            continue
        requirement.name = twin[0]
        out.append(str(requirement))
        notes.append(
            f"{line.strip()} → {requirement}: the same module as wheels (building it from "
            "source takes a compiler and its library's headers)"
        )
    return out, notes


def _twin_has(specifier: SpecifierSet, first: Version) -> bool:
    """Whether the versions ``specifier`` allows are the twin's (from ``first`` on)."""
    pins = [s for s in specifier if s.operator in ("==", "===")]
    try:
        if pins:
            return all(Version(p.version.removesuffix(".*")) >= first for p in pins)
    except InvalidVersion:
        return False
    newest = Version(f"{first.major}.99")
    return not specifier or specifier.contains(newest) or specifier.contains(first)
