"""The example ``.env`` an upload's README writes out where it has no file of one:
:func:`with_readme_example`.

A README's "Environment variables" section often gives the ``.env`` to create as a
fenced block (```` ```dotenv ````, ```` ```env ````, ```` ```bash ```` …) of ``NAME=value``
lines, and the upload then has neither a ``.env`` nor an example of one: the variables
it starts with (a Sequelize connection string, a JWT secret) were never given. Such a
block is read as the example it is, as a file beside the README named
:data:`README_EXAMPLE` (an example's name: every reader of example files reads it). A
block counts where every line of it is an assignment or a comment, it has two
assignments or more (one, in a block marked ``env`` or ``dotenv``), and the README says
``.env`` or "environment" shortly before it.

Where the README gives none, the ``.env`` its CI workflow writes before it runs the app's
tests or migrations (a step's ``cat <<EOF > .env`` … ``EOF``, or its ``echo "A=1" >>
.env`` lines, in ``.github/workflows/*.yml``) is read the same way, as
:data:`CI_EXAMPLE`: deight93's fastapi-boilerplate has no example file, and its workflow
writes the only account of the eighteen variables its settings require.
"""

from __future__ import annotations

import posixpath
import re

from .envfiles import README_NAMES, example_rank
from .meanings import DATABASE, meaning

__all__ = [
    "CI_EXAMPLE",
    "README_EXAMPLE",
    "ci_env_block",
    "readme_env_block",
    "readme_exports",
    "with_readme_example",
]

README_EXAMPLE = ".env.readme-example"
CI_EXAMPLE = ".env.ci-example"
_WORKFLOWS = ".github/workflows/"
# A shell's here-document written to .env (``cat <<EOF > .env``, ``cat > .env << 'EOF'``,
# ``tee .env <<EOF``): its delimiter, then its body up to the line that is only that.
_HEREDOC = re.compile(
    r"^[^\n]*?(?:>\s*|tee\s+)(?:\./)?\.env\b[^\n]*?<<-?\s*['\"]?(\w+)['\"]?[^\n]*\n|"
    r"^[^\n]*?<<-?\s*['\"]?(\w+)['\"]?\s*(?:>\s*|\|\s*tee\s+)(?:\./)?\.env\b[^\n]*\n",
    re.MULTILINE,
)
# One assignment echoed into .env (``echo "SECRET_KEY=x" >> .env``).
_ECHOED = re.compile(
    r"^\s*(?:echo|printf)\s+(['\"]?)([A-Za-z_][A-Za-z0-9_]*=[^\n]*?)\1\s*>>?\s*(?:\./)?\.env\s*$",
    re.MULTILINE,
)
_FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[\w.+-]*)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_INFOS = {"", "dotenv", "env", "ini", "properties", "bash", "sh", "shell", "text", "txt", "conf"}
_DOTENV_INFOS = {"dotenv", "env"}
_ASSIGNMENT = re.compile(r"^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=.*$")
_SAID_BEFORE = re.compile(r"\.env\b|\benvironment\b|\benv\s+(?:file|var)", re.IGNORECASE)
_BEFORE = 800  # characters before a block in which the README says what it is
_SHELLS = {"", "bash", "sh", "shell", "console", "zsh", "shell-session"}
_EXPORT = re.compile(r"^(?:\$\s*)?export\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$")
# Assignments before a command that runs the app, for that command alone (``RESET_DB=true
# uvicorn app.main:app``), and one of them.
_INLINE = re.compile(
    r"^(?:\$\s*)?((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+)"
    r"(?:python3?|uvicorn|gunicorn|hypercorn|flask|fastapi|poetry|pipenv|uv|npm|node|yarn)\b"
)
_ASSIGNED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)")
# A deployment's value, which a preview (a development run) does not take.
_DEPLOYED = re.compile(r"^(?:prod|production|staging)$", re.IGNORECASE)


def readme_env_block(text: str) -> str | None:
    """The first fenced block of ``text`` (a README) that is an example ``.env`` (module
    doc), with the blocks of assignments that follow it before any other block (a
    ``.env`` given a part at a time: grigoriykuzevanov's fastapi-pet-project says "Inside
    of `.env` file create settings variables", then six blocks, app info to CORS, whose
    last alone sets the ``CORS_ORIGINS`` its settings cannot start without), a name's
    first value kept, a database's parts left to the preview's (:func:`_added`); its
    ``export`` words dropped; None where there is none."""
    found: list[str] = []
    for match in _FENCE.finditer(text):
        lines = _assignments(match)
        if found:
            if lines is None:
                break  # (a block of commands: the .env's account has ended)
            named = {line.split("=", 1)[0] for line in found}
            found += [line for line in lines if _added(line.split("=", 1)[0].strip(), named)]
            continue
        # One assignment counts in a block its info says is one (``env``, ``dotenv``):
        # amisadman's express-jwt-auth gives only CONNECTION_STRING so, which pg, given
        # none, read as a host named "base" (getaddrinfo EAI_AGAIN base).
        fewest = 1 if match.group("info").lower() in _DOTENV_INFOS else 2
        if lines is None or len(lines) < fewest:
            continue
        if not _SAID_BEFORE.search(text[max(0, match.start() - _BEFORE) : match.start()]):
            continue
        found = lines
    if found:
        return "".join(line + "\n" for line in found)
    return _listed_block(text)


def _added(name: str, named: set[str]) -> bool:
    """Whether a later block's variable ``name`` is added to the example: not where an
    earlier block named it, nor where it is a SQL database's part, which the preview's
    database gives (the same README's ``DB_HOST=db-"db-main"``, its author's)."""
    what = meaning(name)
    return name not in named and (what is None or what.kind != DATABASE)


def _assignments(match: re.Match[str]) -> list[str] | None:
    """The assignments of a fenced block (``export`` dropped, comments left out), where
    every line of it is one or a comment and it has one at least; else None."""
    if match.group("info").lower() not in _INFOS:
        return None
    lines = [line.strip() for line in match.group("body").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or not all(_ASSIGNMENT.match(line) for line in lines):
        return None
    return [re.sub(r"^export\s+", "", line) for line in lines]


# An assignment written as the README's own text, a list's item or a line alone (``-
# POSTGRES_HOST=db``, ``* `JWT_SECRET=secret` ``), its name upper case.
_LISTED = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?`?([A-Z][A-Z0-9_]*=[^\s`]*)`?[ \t]*$")
_LISTED_GAP = 4  # lines between two assignments of one list (a blank, a heading, a blank)


def _listed_block(text: str) -> str | None:
    """The assignments the README lists as its text, outside any fenced block, after it
    says ``.env`` or "environment" (jaroeira's nestjs-rest-api: "Create a .env.development
    file … with the following variables", then ``- POSTGRES_HOST=db`` … under headings
    of their own, and the app's config threw on each unset): the first run of two or
    more, none more than a few lines from the one before; None where there is none."""
    unfenced = _FENCE.sub(lambda fenced: "\n" * fenced.group(0).count("\n"), text)
    lines = unfenced.splitlines()
    found: list[str] = []
    last = -1
    for number, line in enumerate(lines):
        listed = _LISTED.match(line)
        if listed is None:
            continue
        if found and number - last > _LISTED_GAP:
            if len(found) >= 2:
                break
            found = []
        if not found:
            before = "\n".join(lines[:number])[-_BEFORE:]
            if not _SAID_BEFORE.search(before):
                continue
        found.append(listed.group(1))
        last = number
    return "".join(f"{line}\n" for line in found) if len(found) >= 2 else None


def with_readme_example(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` with :data:`README_EXAMPLE` beside the root README where the upload has
    no ``.env`` nor an example of one anywhere and the README gives one (module doc);
    ``files`` itself otherwise."""
    for path in files:
        name = posixpath.basename(path)
        if "node_modules/" in path:
            continue
        if name == ".env" or example_rank(path) is not None:
            return files
    readme = next((name for name in README_NAMES if name in files), None)
    if readme is not None and len(files[readme]) <= 500_000:
        block = readme_env_block(files[readme].decode("utf-8", "replace"))
        if block is not None:
            return {**files, README_EXAMPLE: block.encode()}
    block = ci_env_block(files)
    return files if block is None else {**files, CI_EXAMPLE: block.encode()}


def ci_env_block(files: dict[str, bytes]) -> str | None:
    """The ``.env`` a CI workflow of the upload writes (module doc): the first step whose
    ``run`` writes a here-document of two assignments or more to it, else the
    assignments its steps echo into it (two or more); None where none does."""
    echoed: list[str] = []
    for path in sorted(p for p in files if p.startswith(_WORKFLOWS)):
        if not path.endswith((".yml", ".yaml")) or len(files[path]) > 500_000:
            continue
        for run in _runs(files[path]):
            for match in _HEREDOC.finditer(run):
                end = re.compile(rf"^\s*{match.group(1) or match.group(2)}\s*$", re.MULTILINE)
                close = end.search(run, match.end())
                body = run[match.end() : close.start() if close else len(run)]
                lines = [line.strip() for line in body.splitlines()]
                lines = [line for line in lines if line and not line.startswith("#")]
                if len(lines) >= 2 and all(_ASSIGNMENT.match(line) for line in lines):
                    lines = [_ci_fill_in(line) for line in lines]
                    return "".join(re.sub(r"^export\s+", "", line) + "\n" for line in lines)
            echoed += [m.group(2) for m in _ECHOED.finditer(run)]
    kept = [_ci_fill_in(line) for line in echoed]
    return "".join(f"{line}\n" for line in kept) if len(echoed) >= 2 else None


# A value the CI gives the workflow (``${{ secrets.AUTH0_DOMAIN }}``, ``${{ vars.X }}``),
# which the upload does not hold: a fill-in (``...``), which the service's rules give a
# value by the variable's name (``configdefaults``), as an example's; else kept, set as
# the workflow sets it (cesar-m-diaz's fastify-url-shortener: dotenv read
# ``AUTH0_DOMAIN=${{ secrets.… }}`` as "}", and its OAuth callback fetched
# ``https://}/oauth/token``; its SUPA_URL, left out, stopped its start).
_CI_GIVEN = re.compile(r"\$\{\{[^}\n]*\}\}")
# Or a variable of the step's own environment, the whole value (``DB_TYPE=$DB_TYPE``, its
# step's ``env:`` from the CI's secrets: AdrianMatei20's NestJsAPI, whose heredoc was
# read as its example, TypeORM given the driver "$DB_TYPE"): a fill-in too.
_STEP_GIVEN = re.compile(
    r"^((?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=)[\"']?\$\{?[A-Za-z_]\w*\}?[\"']?$"
)


def _ci_fill_in(line: str) -> str:
    """``line`` (an assignment) with what the CI gives it in place of its value made a
    fill-in (``...``)."""
    return _STEP_GIVEN.sub(r"\1...", _CI_GIVEN.sub("...", line))


def _runs(data: bytes) -> list[str]:
    """The ``run`` scripts of a GitHub Actions workflow's steps, every job's, in order."""
    import yaml  # lazy: loaded only for an upload with a workflow

    try:
        document = yaml.safe_load(data.decode("utf-8", "replace"))
    except (yaml.YAMLError, RecursionError):
        return []
    jobs = document.get("jobs") if isinstance(document, dict) else None
    runs: list[str] = []
    for job in jobs.values() if isinstance(jobs, dict) else ():
        steps = job.get("steps") if isinstance(job, dict) else None
        for step in steps if isinstance(steps, list) else ():
            if isinstance(step, dict) and isinstance(run := step.get("run"), str):
                runs.append(run)
    return runs


def readme_exports(files: dict[str, bytes]) -> dict[str, str]:
    """The variables the root README's shell blocks ``export`` among the commands that
    run the app (Farael49's flask-rest-crud: ``export PROJECT_CONFIG=development``, then
    ``python manage.py create_db``; without it, its production configuration reads its
    database's URL from a variable nothing sets), and those assigned before a command
    that runs the app (binlecode's example-todo-fastapi-async-db: ``RESET_DB=true uvicorn
    app.main:app``, its first run making its tables; else none made), the first value of
    each, unquoted; never a deployment's (``ENV=production``)."""
    readme = next((name for name in README_NAMES if name in files), None)
    if readme is None or len(files[readme]) > 500_000:
        return {}
    found: dict[str, str] = {}
    for match in _FENCE.finditer(files[readme].decode("utf-8", "replace")):
        if match.group("info").lower() not in _SHELLS:
            continue
        for line in match.group("body").splitlines():
            export = _EXPORT.match(line.strip())
            if export is not None:
                found.setdefault(export.group(1), export.group(2).strip("'\""))
            elif (inline := _INLINE.match(line.strip())) is not None:
                for name, value in _ASSIGNED.findall(inline.group(1)):
                    if not _DEPLOYED.match(value.strip("'\"")):
                        found.setdefault(name, value.strip("'\""))
    return found
