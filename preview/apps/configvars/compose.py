"""The upload's compose files, read as compose reads them (never run): which they are
(:func:`compose_files`, and the overlays that add to one, :func:`compose_overlays`), a
file's services (:func:`compose_services`), a project's services with its overlays merged
in (:func:`compose_projects`), a service's ``environment`` with its ``${…}`` given
(:func:`compose_environment`, :func:`interpolated`); a Dockerfile's instructions, which
a service's ``build`` names (:func:`dockerfile_instructions`)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "COMPOSE_NAMES",
    "RUN_SECRETS",
    "RUN_SECRETS_FOLDER",
    "ComposeProject",
    "ComposeVolume",
    "app_service_build_args",
    "app_service_environment",
    "app_service_volumes",
    "compose_environment",
    "compose_files",
    "compose_overlays",
    "compose_projects",
    "compose_secret_files",
    "compose_services",
    "docker_secrets_read",
    "dockerfile_instructions",
    "interpolated",
    "volume_mount",
    "workdir_after",
]

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
_OVERLAY = re.compile(r"^(?:docker-)?compose\.([\w-]+)\.ya?ml$")
_NOT_LOCAL = re.compile(r"prod|stag|test|^ci$", re.IGNORECASE)
_DEVELOPMENT = re.compile(r"^(?:dev|develop|development|local|override)$", re.IGNORECASE)


def compose_files(files: dict[str, bytes]) -> list[str]:
    """The upload's compose files, by path: those of a base name, and in a directory
    with none, those named for local development (``docker-compose.dev.yml``,
    ``docker-compose.local.yml``; not a variant of the project, ``.document``, nor
    production's), each run alone, as
    ``docker compose -f docker-compose.dev.yml up`` runs it (BlueSphereAI's
    FastAPI-PostgreSQL-Alembic-Docker: its database URL and PostgreSQL service went
    unread, and its migration died wanting PG_DATABASE_URL)."""
    base = [p for p in files if posixpath.basename(p) in COMPOSE_NAMES]
    beside_base = {posixpath.dirname(p) for p in base}
    alone = [
        p
        for p in files
        if (match := _OVERLAY.match(posixpath.basename(p))) is not None
        and posixpath.dirname(p) not in beside_base
        and _DEVELOPMENT.match(match.group(1)) is not None
    ]
    return sorted([*base, *alone])


def compose_overlays(
    files: dict[str, bytes], services_of: Callable[[str], dict[str, dict]] | None = None
) -> list[str]:
    """The compose files that add to one beside them, run as ``docker compose -f
    docker-compose.yml -f docker-compose.local.yml up`` (``.override``, ``.local``,
    ``.dev`` …; not production's, staging's or the tests', nor a variant of the project
    run instead of it, :func:`_variant`): by path. ``services_of``: a file's services
    by its path (:func:`compose_services`; the caller's, when it has read them)."""
    if services_of is None:
        services_of = lambda path: compose_services(files[path])  # noqa: E731
    found = []
    for path in sorted(files):
        match = _OVERLAY.match(posixpath.basename(path))
        beside = (posixpath.join(posixpath.dirname(path), n) for n in COMPOSE_NAMES)
        base = next((b for b in beside if b in files), None)
        if match is None or _NOT_LOCAL.search(match.group(1)) or base is None:
            continue
        if match.group(1).lower() == "override" or not _variant(
            services_of(path), services_of(base)
        ):
            found.append(path)
    return found


def _variant(services: dict[str, dict], base: dict[str, dict]) -> bool:
    """Whether a compose file beside the base file is a variant of the project, run
    instead of it (``docker compose -f docker-compose.document.yaml up``): it builds
    itself each service it names that the base file builds (one at least), and each of
    its services is whole (an image or a build of its own). brocoders' NestJS
    boilerplate's ``docker-compose.document.yaml`` runs its API on MongoDB where
    ``docker-compose.yaml`` runs it on PostgreSQL; an overlay gives a service the base
    file builds what it adds (leosussan's ``docker-compose.local.yml``: its app's
    environment, no build). Only ``docker-compose.override.yml``, which compose merges by
    itself, is an overlay whatever it holds."""
    built = {name for name, service in base.items() if "build" in service}
    shared = built & set(services)
    whole = all("image" in s or "build" in s or "extends" in s for s in services.values())
    return bool(shared) and whole and all("build" in services[name] for name in shared)


def compose_services(data: bytes) -> dict[str, dict]:
    """A compose file's services by name ({} for a file YAML cannot read, or none)."""
    return _top_level(data, "services")


def _top_level(data: bytes, key: str) -> dict[str, dict]:
    """A compose file's top-level mapping ``key`` (``services``, ``secrets``), its entries
    that are mappings, by name ({} for a file YAML cannot read, or none)."""
    import yaml  # lazy: loaded only for an upload with a compose file

    try:
        document = yaml.safe_load(data.decode("utf-8", "replace"))
    except (yaml.YAMLError, RecursionError):  # PyYAML's composer recurses per level
        return {}
    found = document.get(key) if isinstance(document, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def compose_secret_files(files: dict[str, bytes]) -> list[str]:
    """The files its compose files' secrets are read from (``secrets: db_password: file:
    ./secrets/db_password.txt``) that the upload lacks, by path in the upload: its README
    asks its user to write each, and its .gitignore keeps them out (nnassar0716's
    ifinance-flask-mysql-boilerplate reads ``/secrets/db_password.txt`` at start, its
    compose service mounting ``./secrets:/secrets``). None outside the upload."""
    found: list[str] = []
    for path in compose_files(files):
        folder = posixpath.dirname(path)
        for secret in _top_level(files[path], "secrets").values():
            file = secret.get("file")
            if not isinstance(file, str) or file.startswith(("/", "~", "$")):
                continue
            target = posixpath.normpath(posixpath.join(folder, file))
            if not target.startswith("..") and target not in files and target not in found:
                found.append(target)
    return found


RUN_SECRETS = "/run/secrets"  # where Docker mounts a container's secrets, a file each
RUN_SECRETS_FOLDER = ".preview-run-secrets"  # in its directory: the preview's, bound there
# A secret's file named by its path: ``open('/run/secrets/postgres_user')``, an env
# file's or a compose service's ``POSTGRES_PASSWORD_FILE=/run/secrets/db_password``.
_RUN_SECRET = re.compile(rb"/run/secrets/([A-Za-z0-9_][\w.-]*)")
_SECRET_READERS = re.compile(
    r"\.(?:py|[cm]?[jt]s)$|(?:^|/)\.env[^/]*$|\.env$|(?:^|/)(?:docker-)?compose[\w.-]*\.ya?ml$"
)


def docker_secrets_read(files: dict[str, bytes]) -> list[str]:
    """The names of the Docker secrets the app reads from :data:`RUN_SECRETS` (its code, its
    env files, its compose files), sorted. yeisonipia48's ApiFastApi reads its database's
    user, password, host and name from ``/run/secrets/postgres_user`` … (a swarm stack's
    external secrets): "No such file or directory" at import."""
    found: set[str] = set()
    for path, data in files.items():
        if (
            "node_modules/" in path
            or not _SECRET_READERS.search(path)
            or b"/run/secrets/" not in data
        ):
            continue
        found.update(m.decode() for m in _RUN_SECRET.findall(data))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class ComposeProject:
    """A compose file (``path``) and its ``services`` with its overlays merged in."""

    path: str
    services: dict[str, dict]


def compose_projects(files: dict[str, bytes]) -> list[ComposeProject]:
    """Each compose file's services, with the overlays beside it merged in as ``docker
    compose -f docker-compose.yml -f docker-compose.override.yml`` merges them; nearest
    the root first, those with no service left out. Each file is parsed once."""
    parsed: dict[str, dict[str, dict]] = {}

    def services_of(path: str) -> dict[str, dict]:
        if path not in parsed:
            parsed[path] = compose_services(files[path])
        return parsed[path]

    overlays = compose_overlays(files, services_of)
    projects = []
    for path in sorted(compose_files(files), key=lambda p: (p.count("/"), p)):
        services = dict(services_of(path))
        for overlay in overlays:
            if posixpath.dirname(overlay) == posixpath.dirname(path):
                for name, added in services_of(overlay).items():
                    services[name] = _merged(services.get(name, {}), added)
        folder = posixpath.dirname(path)
        services = {
            name: _server_built(service, folder, files) for name, service in services.items()
        }
        if services:
            projects.append(ComposeProject(path, services))
    return projects


# The images of the servers a preview gives of its own (a database, a cache), by name.
_SERVER_IMAGE = re.compile(
    r"^(?:[\w.-]+/)*(?:postgres|postgis|timescaledb|mysql|mariadb|redis|mongo)\b", re.I
)


def _server_built(service: dict, folder: str, files: dict[str, bytes]) -> dict:
    """``service`` as run from the server image its build starts from, where it builds one
    of a database's or cache's images (``build: .docker/postgres``, whose Dockerfile is
    ``FROM postgres:14.0`` plus a user's id: knands42's NestJs-Auth-Typeorm, its app's
    ``SQL_HOST`` that service's ``container_name``): a server the preview gives, not the
    app's own service. Any other service as it is."""
    context = _build_context(service)
    if context is None or "image" in service:
        return service
    build = service.get("build")
    name = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    dockerfile = posixpath.normpath(posixpath.join(folder, context, str(name)))
    text = files.get(dockerfile, b"").decode("utf-8", "replace")
    bases = (argument for keyword, argument in dockerfile_instructions(text) if keyword == "FROM")
    # The first stage's image, past its flags (``--platform=linux/amd64``).
    image = next((w for w in next(bases, "").split() if not w.startswith("--")), "")
    if not _SERVER_IMAGE.match(image):
        return service
    return {**{k: v for k, v in service.items() if k != "build"}, "image": image}


_REPLACED = {"command", "entrypoint"}  # sequences an overlay replaces rather than extends


def _merged(base: dict, overlay: dict) -> dict:
    """``overlay`` over ``base`` as compose merges a service: mappings key by key (an
    ``environment`` list read as one), sequences (``ports``, ``volumes`` …) extended,
    anything else replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        before = merged.get(key)
        if key == "environment":
            merged[key] = {**_environment_pairs(before), **_environment_pairs(value)}
        elif isinstance(before, dict) and isinstance(value, dict):
            merged[key] = _merged(before, value)
        elif isinstance(before, list) and isinstance(value, list) and key not in _REPLACED:
            merged[key] = before + [item for item in value if item not in before]
        else:
            merged[key] = value
    return merged


def _service_environment(service: dict) -> dict[str, str]:
    """A compose service's ``environment`` (a mapping, or a list of ``K=V``)."""
    return _environment_pairs(service.get("environment"))


def _environment_pairs(env: object) -> dict[str, str]:
    if isinstance(env, dict):
        return {str(k): str(v) for k, v in env.items() if v is not None}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {k: v for k, eq, v in pairs if eq}
    return {}


def compose_environment(service: dict, env: dict[str, str]) -> dict[str, str]:
    """A compose service's ``environment`` as compose gives it to the container: its
    ``${NAME}``, ``${NAME:-default}`` and ``$NAME`` from ``env`` (:func:`interpolated`:
    the ``.env`` compose reads, the launch's variables), ``$$`` a plain ``$``. A value
    that names a variable ``env`` lacks, with no default, is left out: compose would
    give it empty, and an empty ``DATABASE_URL`` is no better than the service's."""
    found: dict[str, str] = {}
    for name, value in _service_environment(service).items():
        given = interpolated(value.replace("$$", "\0"), env)
        if "$" not in given and "\0" not in name:
            found[name] = _DOCKER_HOST.sub("127.0.0.1", given.replace("\0", "$"))
    return found


# Its container's mode and address, not a preview's (a development run, on the port and
# host the service gives): NODE_ENV=production asks for built assets, secure cookies, a
# production configuration file. Nor its container's thread budget: libuv's pool of
# UV_THREADPOOL_SIZE threads in each Node process counts against a preview's process
# limit (jtwebman's node-express-postgres-docker-todo: 128 in its compose service, "process
# limit of 256 reached" as it started).
_NOT_THE_APPS = frozenset({"NODE_ENV", "PORT", "HOST", "UV_THREADPOOL_SIZE"})


def app_service_environment(
    files: dict[str, bytes], anchor: str, env: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """(its name, its ``environment``: :func:`compose_environment`) of the compose
    service that builds the app detected from ``anchor`` (:func:`_app_service`), less its
    mode (:data:`_NOT_THE_APPS`) and the values naming another of the file's services (a
    localstack's endpoint, a broker's: none a preview gives by that name); ``("", {})``
    where no service builds it. kyhsa93's nestjs-rest-cqrs-example reads AWS_REGION,
    EMAIL … that only its compose service's environment sets, and exited on its config
    validation."""
    found = _app_service(files, anchor)
    if found is None:
        return "", {}
    project, name, service = found
    others = [re.escape(n) for n in project.services if n != name]
    elsewhere = re.compile(rf"(?<![\w.-])(?:{'|'.join(others)})(?![\w.-])") if others else None
    return name, {
        key: value
        for key, value in compose_environment(service, env).items()
        if key not in _NOT_THE_APPS and not (elsewhere and elsewhere.search(value))
    }


@dataclass(frozen=True, slots=True)
class ComposeVolume:
    """A directory the app's compose service mounts in its container: at ``target`` (an
    absolute path), the upload's folder ``source`` (a bind: ``./data:/app/data``), or an
    empty one of its own where ``source`` is None (a named or anonymous volume:
    ``sqlite-data:/data``)."""

    target: str
    source: str | None


def app_service_build_args(files: dict[str, bytes], anchor: str) -> dict[str, str]:
    """The build arguments the compose service that builds the app gives its Dockerfile
    (``build: {args: {config_type: development}}``, or a list of ``name=value``), over
    its ``ARG`` defaults; {} where it gives none."""
    found = _app_service(files, anchor)
    build = found[2].get("build") if found is not None else None
    args = build.get("args") if isinstance(build, dict) else None
    if isinstance(args, list):
        pairs = (str(a).partition("=") for a in args)
        return {name: value for name, equals, value in pairs if equals}
    if isinstance(args, dict):
        return {str(k): str(v) for k, v in args.items() if v is not None}
    return {}


def app_service_volumes(files: dict[str, bytes], anchor: str) -> list[ComposeVolume]:
    """The directories the compose service that builds the app (:func:`_app_service`)
    mounts, as a preview can give them: a folder of the upload's (one it lacks is made,
    as Docker makes it) or a volume, at an absolute path that is no system directory's
    (:func:`_own_target`). Left out: a host's own path (``/var/run/docker.sock``), a file
    of the upload's (``./nginx.conf:/etc/nginx/nginx.conf``), and a volume inside a folder
    bound from the upload (``/app/node_modules`` under ``.:/app``: the image's installed
    packages kept, which the preview's build gives otherwise) or a bind of the upload's
    own ``node_modules``. ra-ky's fastapi-sqlite opens ``sqlite:////data/app.db`` in its
    ``sqlite-data:/data`` volume ("unable to open database file" on a read-only root)."""
    found = _app_service(files, anchor)
    if found is None:
        return []
    project, _, service = found
    folder = posixpath.dirname(project.path)
    volumes: dict[str, ComposeVolume] = {}
    entries = service.get("volumes")
    for entry in entries if isinstance(entries, list) else []:
        mount = volume_mount(entry)
        if mount is None or (target := _own_target(mount[1])) is None:
            continue
        source = mount[0]
        if source is not None and source.startswith((".", "/", "~", "$")):
            if not source.startswith("."):
                continue  # the host's own, or one a variable names
            source = posixpath.normpath(posixpath.join(folder, source))
            if source.startswith("..") or source in files:
                continue  # outside the upload, or a file
            if "node_modules" in source.split("/"):
                # Its installed packages (``./node_modules:/home/app/node_modules``): a
                # preview's are the build's, a link where the upload's folder would be
                # (ThQuangDang's nestjs-clean-architecture: "Not a directory").
                continue
            source = "" if source == "." else source
        else:
            source = None  # a named volume
        volumes.setdefault(target, ComposeVolume(target, source))
    bound = [v.target for v in volumes.values() if v.source is not None]
    return [
        v
        for v in volumes.values()
        if v.source is not None or not any(v.target.startswith(b + "/") for b in bound)
    ]


def volume_mount(entry: object) -> tuple[str | None, str] | None:
    """(source, target) of a service's ``volumes`` entry: ``src:target[:mode]``, a lone
    ``target`` (anonymous), or the long form's mapping; None for another kind (tmpfs)."""
    if isinstance(entry, str):
        parts = entry.split(":")
        if len(parts) == 1:
            return None, parts[0]
        return parts[0], parts[1]
    if isinstance(entry, dict) and isinstance(entry.get("target"), str):
        kind = entry.get("type", "volume")
        source = entry.get("source")
        if kind not in ("volume", "bind"):
            return None
        return (str(source) if source else None), entry["target"]
    return None


# Where a preview gives no directory of the app's: the system's, its own sandbox's
# machinery (/run, /proc …) and the roots of what is writable already (/tmp, /var).
_SYSTEM_TARGETS = re.compile(
    r"^/(?:usr|bin|sbin|lib\w*|etc|proc|sys|dev|run|boot)(?:/|$)|^/(?:tmp|var)?$"
)


def _own_target(target: str) -> str | None:
    """``target`` normalised where a preview can mount the app's directory there."""
    if not target.startswith("/") or "\0" in target:
        return None
    target = posixpath.normpath(target)
    target = "/" + target.lstrip("/")  # normpath keeps a leading "//"
    return None if _SYSTEM_TARGETS.match(target) else target


def _app_service(files: dict[str, bytes], anchor: str) -> tuple[ComposeProject, str, dict] | None:
    """(its project, its name, itself) of the compose service that builds the app detected
    from ``anchor``: its build context is the anchor's folder, else the nearest folder
    holding it (``build: flask-app/`` for an app in ``flask-app/src``: nnassar0716's
    ifinance-flask-mysql-boilerplate); one publishing ports first, as the one to call.
    None where no service builds it."""
    folder = posixpath.dirname(anchor) if anchor in files else ""
    found: list[tuple[int, bool, ComposeProject, str, dict]] = []
    for project in compose_projects(files):
        base = posixpath.dirname(project.path)
        for name, service in project.services.items():
            if (context := _build_context(service)) is None:
                continue
            built = posixpath.normpath(posixpath.join(base, context)).removeprefix(".")
            if built == folder or folder.startswith(f"{built}/") or not built:
                found.append((-len(built), not service.get("ports"), project, name, service))
    if not found:
        return None
    # The nearest folder first, then one publishing ports, then the file nearest the root.
    _, _, project, name, service = min(found, key=lambda f: (f[0], f[1]))
    return project, name, service


def _build_context(service: dict) -> str | None:
    """A service's build context (``build: .``, ``build: {context: ./api}``); None for
    one run from an image."""
    build = service.get("build")
    if isinstance(build, str):
        return build
    if isinstance(build, dict):
        context = build.get("context", ".")
        return context if isinstance(context, str) else None
    return None


# Docker's name, inside a container, for the machine it runs on, where the author's own
# server listens (mohamilin's blog: DB_HOST=host.docker.internal beside its compose
# PostgreSQL): for a preview that is its own sandbox's loopback, where its servers are.
_DOCKER_HOST = re.compile(r"(?<![\w.-])(?:host|gateway)\.docker\.internal(?![\w.-])", re.IGNORECASE)


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def interpolated(text: str, env: dict[str, str]) -> str:
    """``text`` with compose's ``${NAME}``, ``${NAME:-default}`` and ``$NAME`` given their
    values from ``env`` (the ``.env`` compose reads, else its example), left as they are
    where ``env`` has none and no default is given."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if env.get(name):
            return env[name]
        return match.group(2) if match.group(2) is not None else match.group(0)

    return _INTERPOLATION.sub(value, text)


def workdir_after(workdir: str, argument: str) -> str:
    """The working directory after a ``WORKDIR`` instruction of ``argument`` in a stage
    at ``workdir`` (a relative one is below it); ``workdir`` where a variable names it."""
    if "$" in argument:
        return workdir
    return posixpath.normpath(posixpath.join(workdir, argument.strip().strip("\"'")))


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, its argument) of each instruction of a Dockerfile's ``text``,
    continuation lines joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        whole, pending = (pending + line).strip(), ""
        keyword, _, argument = whole.partition(" ")
        found.append((keyword.upper(), argument.strip()))
    return found
