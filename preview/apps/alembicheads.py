"""An Alembic history's heads, read from its revision files (never run), and the set-up
step that upgrades a history of several: :func:`alembic_upgrade`.

``alembic upgrade heads`` upgrades every branch. Where two branches cannot both be
applied (two "init" revisions, each creating the same tables, as two people's or a
generator's second attempt leave them), each head is then upgraded alone, in turn (the
longest branch first), and the first that succeeds is kept, said on stderr: the app
gets one consistent schema rather than none. A history of one head is upgraded as
``alembic upgrade heads``.
"""

from __future__ import annotations

import posixpath
import re

__all__ = ["alembic_heads", "alembic_upgrade"]

_REVISION = re.compile(r"""^revision\s*(?::[^=]+)?=\s*['"]([\w-]+)['"]""", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""['"]([\w-]+)['"]""")

# Run by the app's own Python, in the directory of its alembic.ini (argv[1]).
_EACH_HEAD = """\
# alembic upgrade heads, else each head alone (longest first) until one upgrades
import sys
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
config = Config(sys.argv[1])
try:
    command.upgrade(config, "heads")
except Exception as together:
    try:  # what applied before the failure (a database without transactional DDL)
        command.downgrade(config, "base")
    except Exception:
        pass
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()  # the longest branch first: the most worked on
    heads.sort(key=lambda h: -len(list(script.iterate_revisions(h, "base"))))
    for head in heads:
        try:
            command.upgrade(config, head)
        except Exception as error:
            said = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"alembic: head {head} does not upgrade: {said}", file=sys.stderr)
            continue
        why = str(together).splitlines()[0] if str(together) else type(together).__name__
        print(f"alembic: its {len(heads)} heads do not upgrade together ({why}): "
              f"upgraded to {head} alone", file=sys.stderr)
        break
    else:
        raise
"""


def alembic_heads(files: dict[str, bytes], directory: str) -> list[str]:
    """The heads of the revisions in a ``versions/`` folder at or below ``directory``."""
    revisions: set[str] = set()
    downs: set[str] = set()
    prefix = f"{directory}/" if directory else ""
    for path, data in files.items():
        if not (path.startswith(prefix) and path.endswith(".py") and "/versions/" in f"/{path}"):
            continue
        if posixpath.basename(posixpath.dirname(path)) != "versions":
            continue
        text = data.decode("utf-8", "replace")
        if (revision := _REVISION.search(text)) is None:
            continue
        revisions.add(revision.group(1))
        if (down := _DOWN.search(text)) is not None:
            downs.update(_QUOTED.findall(down.group(1)))
    return sorted(revisions - downs)


def alembic_upgrade(files: dict[str, bytes], where: str, ini: str) -> tuple[str, ...]:
    """The set-up step's command (a template) for the ``alembic.ini`` at ``ini`` (relative
    to ``where``, the directory it runs in)."""
    if len(alembic_heads(files, where)) > 1:
        program = _EACH_HEAD.replace("{", "{{").replace("}", "}}")  # a template's braces
        return ("{python}", "-c", program, ini)
    if ini == "alembic.ini":
        return ("{python}", "-m", "alembic", "upgrade", "heads")
    return ("{python}", "-m", "alembic", "-c", ini, "upgrade", "heads")
