"""One preview's preparation and what it holds: :class:`Preparation`.

Between writing the files and spawning the app, each phase narrated in the preview's
log: ``installing dependencies``
(an environment built or reused by :class:`~.build.EnvBuilder`, leased; its output as
``build`` events) and ``setup`` (Django's migrate, ``alembic upgrade heads``, a Procfile
``release:`` line or the ``setup`` option, each in its directory of the upload; its output
as ``setup`` events, so that neither the status nor the UI counts it as the build). A failure
is a :class:`~.build.BuildFailed` with the one-line reason and the lines that explain it.
What it holds is given back by :meth:`Preparation.release`, which the preview's teardown
calls whatever happened.

The ``environment`` callable (``app_environment`` bound to the preview) parses the
upload's modules and reads its build's files: it is always called in a worker thread
(trio's default limiter), never on the event loop every preview's calls share, and once
for the set-up steps of a run (and the app after them: :meth:`Preparation.environment`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import secrets
import shutil
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import trio

from ..apps.alembicheads import runs_alembic
from ..apps.asyncdb import async_migration_urls, sync_migration_urls
from ..apps.configvars import (
    RUN_SECRETS,
    RUN_SECRETS_FOLDER,
    ServedDatabase,
    compose_secret_files,
    docker_secrets_read,
    dotenv_text,
    example_rank,
    is_readme,
    served_database,
)
from ..apps.createall import MODELS_TABLES
from ..apps.datainit import SKIP_CHECKS, main_only_create_all
from ..apps.depspec import node_dependencies, python_dependencies
from ..apps.detect import Detection
from ..apps.imports import imported_at_start
from ..apps.node.devscript import nodemon_config_file
from ..apps.plans import shown
from ..apps.processes import WorkerProcess
from ..apps.pyfloor import deferred_annotations
from ..apps.served import MAIN_SETUP, main_setup_served
from ..apps.written import (
    CLASS_SETTINGS,
    FAVICON,
    LOCAL_DATABASES,
    case_corrections,
    case_named_folders,
    declaration_links,
    django_local_names,
    django_local_settings,
    django_missing_settings,
    django_preview_settings,
    example_fill_ins,
    instance_files,
    instance_names,
    kept_out_module_names,
    key_files,
    key_texts,
    lfs_pointer_databases,
    local_names_text,
    log_files,
    missing_tsconfig,
    module_named_folders,
    node_key_files,
    node_key_texts,
    node_settings_modules,
    npm_bin_scripts,
    own_metadata,
    own_name_packages,
    python_case_copies,
    readme_files,
    root_named_folders,
    run_folders,
    scripted_files,
    sequelize_config_text,
    sequelize_configs,
    service_account_text,
    settings_files,
    settings_text,
    windows_only_imports,
)
from ..clock import utcnow
from ..logs import LogBroadcast
from ..sandbox.appdir import link_beneath, unlink_beneath, write_beneath
from ..sandbox.isolation import Confinement
from ..settings import Settings
from .appenv import (
    dotenv_file,
    with_async_driver,
    with_redis_client,
    with_setuptools,
    with_step_tools,
)
from .build import BytecodeCompiles, EnvBuilder, Lease
from .buildcache import BuildCache, StepKey
from .configdefaults import (
    GUNICORN_SHIM,
    LAN_HOST_STAND_IN,
    ConfigDefaults,
    config_defaults,
    env_file_text,
    env_files_needed,
    env_files_read_only,
    example_copies,
    gunicorn_settings,
    ini_database_fills,
    lan_host_files,
    lan_hosts_mended,
    named_values,
    node_dotenv_result_files,
    node_env_named_files,
    start_env_files,
)
from .envcache import LAUNCH_CACHES
from .plantries import PlanTries
from .remedies import Fix, Remedies
from .remedies.candidates import freeze_pins
from .remedies.era import read_era, third_party_failure
from .remedies.fixes import norm
from .remedies.npmera import floor_pins
from .remedies.pythons import installed_dists
from .remedies.resolution import ABSENT_NAME, explanation, no_such_versions
from .remedies.wheels import failed_builds
from .steps import (
    V8_ADDRESS_SPACE,
    BuildFailed,
    Publish,
    SetupStep,
    SetupStepRunner,
    build_frontend,
    migrations_not_needed,
)
from .typescript import TranspiledBuild, transpiled_build, type_check
from .wheelindex import project_files

if TYPE_CHECKING:
    from ..apps.spec import LaunchSpec

__all__ = [
    "BUILD",
    "DATA_INIT",
    "INSTALL",
    "ConfineStep",
    "DataInitCache",
    "Preparation",
    "PreparationContext",
    "Prepared",
    "RunAs",
    "data_init_key",
    "fill",
    "prepare_app",
    "uncompiled_environment",
]

# The phases of a preparation (the status's ``phases``, with the runtime's own).
INSTALL = "installing dependencies"
BUILD = "build"  # its frontend and set-up steps other than its data's
DATA_INIT = "data init"  # its migrations and seeds (Detection.data_setup)

# (the interpreter, the step's directory, the built environment) -> its sandbox, None:
# not confined
ConfineStep = Callable[[str, Path, "Path | None"], "Confinement | None"]
# (the interpreter, the built environment) -> the uid an unsandboxed step runs as
RunAs = Callable[[str, "Path | None"], "int | None"]


class DataInitCache(Protocol):
    """Where one preview's initialised data is kept for the next launch and put back
    from (``preview.snapshots.DataTemplates``, bound to the preview): its data steps
    (migrations, seeds: ``Detection.data_setup``) then run once per :func:`data_init_key`
    (issue 68). No call raises: data not kept or not put back means the steps run."""

    async def restore(self, key: str) -> str | None:
        """The data kept under ``key`` put into the preview's databases and files: when
        it was kept (the steps are skipped); None when none is (or it could not be)."""
        ...

    async def keep(self, key: str) -> None:
        """The preview's data now, its data steps just run, kept under ``key``."""
        ...

    async def clear(self) -> str | None:
        """What the preview's databases hold taken out (its SQLite files the upload did
        not bring removed, its PostgreSQL databases emptied), for an attempt that must
        not run on what a failed one left; the failure's message, else None."""
        ...


_DATA_INIT_FORMAT = b"data-init 1"


def data_init_key(
    steps: Sequence[tuple[Sequence[str], str]], files: dict[str, bytes], environment: Path | None
) -> str:
    """What a launch's data steps depend on: the steps as run (each command and its
    directory), every file of the upload (a migration imports the app's models, a seed
    reads its fixtures: any may count) and the dependency set (the environment's path,
    which its builder names by what it installed). The database engines, the launch's
    own variables and the format of the kept data are the cache's to add. Blocking
    (hashes the upload)."""
    digest = hashlib.sha256(_DATA_INIT_FORMAT)
    digest.update(json.dumps([[list(argv), where] for argv, where in steps]).encode())
    digest.update(str(environment or "").encode())
    for path in sorted(files):
        digest.update(hashlib.sha256(path.encode()).digest())
        digest.update(hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


_log = logging.getLogger(__name__)
_CACHE_REMOVAL_TIME = 30.0  # s to remove a launch's own build cache (shielded caller)


class Preparation:
    """See the module doc. ``run`` once; ``release`` at the end (idempotent)."""

    def __init__(
        self, spec: LaunchSpec, *, settings: Settings, builder: EnvBuilder, broadcast: LogBroadcast
    ) -> None:
        self.spec = spec
        self.settings = settings
        self._builder = builder
        self._broadcast = broadcast
        self.python_version: str | None = None
        self.listed_in = "requirements.txt"  # where a missing module should be added
        self._lease: Lease | None = None
        self._template: tuple[str, ...] | None = None  # once run: the command, but {port}
        self.config = ConfigDefaults()  # the configuration filled in (once run)
        self.remedies = Remedies(builder.learned)  # a relaunch's fixes (see relaunch)
        # the plans tried (see plantries); a smoke check judges whether one serves
        self.plans = PlanTries(builder.learned_plans, judged=settings.smoke_check == "on")
        self._runs = 0
        # The last run's environment of its set-up steps, and the (python, port) it is for.
        self._env: tuple[tuple[str, int], dict[str, str]] | None = None

    def command(self, port: int) -> list[str]:
        """The start command for ``port`` (the port may change: see PreviewRuntime)."""
        if self._template is None:
            return self.spec.argv
        return [part.replace("{port}", str(port)) for part in self._template]

    @property
    def runtime_info(self) -> dict[str, Any]:
        """How the app is started: ``{framework, command, detectedFrom, python}``,
        ``generatedEnv``: the names of the variables given throwaway values,
        ``standInEnv``: those the app requires that no rule could fill, given stand-ins, and
        ``fixes``: what the service changed to make it run ("+ httpx")."""
        detection = self.spec.detection
        python = self.python_version
        if python is None and detection is not None and detection.language == "python":
            python = "pending"
        return {
            "framework": detection.framework if detection else "command",
            "command": " ".join(self.spec.argv),
            "detectedFrom": detection.detected_from if detection else "command option",
            "python": python if detection is None or detection.language == "python" else None,
            "generatedEnv": list(self.config.generated),
            # Required, set by nobody, guessed by no rule: started with stand-ins.
            "standInEnv": list(self.config.stand_ins),
            "workers": [w.describe() for w in detection.workers] if detection else [],
            # The fixes made at launch, in force from then on (its revisions' too).
            "fixes": [fix.change for fix in self.remedies.fixes],
            # The plan in force, where each of its facts came from, the others tried.
            "plan": self.plans.describe(detection),
        }

    @property
    def env_path(self) -> Path | None:
        """The app's built environment (its venv, or its node_modules' home), if any."""
        return self._lease.path if self._lease is not None else None

    @property
    def uncompiled(self) -> bool:
        """See :func:`uncompiled_environment`."""
        return uncompiled_environment(self._lease, self.spec.detection, self.bytecode)

    @property
    def bytecode(self) -> BytecodeCompiles:
        """Which environments' modules are compiled yet (the builder's)."""
        return self._builder.bytecode

    def memory_limit(self) -> int:
        """Address-space limit of the app: V8 reserves gigabytes up front, so a Node app's
        heap is bounded by ``--max-old-space-size`` instead (see ``app_environment``)."""
        memory = self.settings.memory_limit_mb * 1024 * 1024
        detection = self.spec.detection
        if detection is not None and detection.language == "node":
            return max(memory, V8_ADDRESS_SPACE)
        return memory

    async def run(
        self,
        app_dir: Path,
        environment: Callable[[str], dict[str, str]],
        on_phase: Callable[[str], None] = lambda phase: None,
        on_cached: Callable[[str, bool], None] = lambda phase, cached: None,
        confine: ConfineStep = lambda python, cwd, built: None,
        run_as: RunAs = lambda python, built: None,
        services_ready: Callable[[], Awaitable[None]] | None = None,
        data_cache: DataInitCache | None = None,
    ) -> str:
        """Environment, set-up steps; the interpreter to run the app with.
        ``on_phase`` is told each phase as it begins (``build``, ``data init``: its set-up
        steps), ``on_cached`` whether what a phase did came from a cache; ``confine`` gives
        a set-up step's sandbox (it runs the upload's code, like the app);
        ``services_ready`` returns once the servers the app is given answer (awaited
        after its build, before its set-up steps); ``data_cache`` keeps what its data
        steps made for the next launch, and puts it back instead of running them.

        Raises :class:`BuildFailed` with the reason when any of them fails.
        """
        spec = self.spec
        self._runs += 1
        self._env = None
        if self._lease is not None:  # a relaunch: the last attempt's environment
            self._lease.release()
            self._lease = None
        if spec.detection is None:
            return self.settings.python
        if self._runs == 1:
            await self._fill_configuration(app_dir, environment)
            cache = self.settings.env_cache_dir / LAUNCH_CACHES / spec.preview_id
            await trio.to_thread.run_sync(lambda: cache.mkdir(parents=True, exist_ok=True))
            self.remedies.build_cache = cache
        try:
            context = PreparationContext(
                settings=self.settings,
                builder=self._builder,
                app_dir=app_dir,
                values={"port": str(spec.port), "root_path": spec.root_path},
                environment=environment,
                publish=self._build_output,
                say=self._say,
                publish_setup=self._setup_output,
                on_phase=on_phase,
                on_cached=on_cached,
                confine=confine,
                run_as=run_as,
                needed=self.config.missing,
                remedies=self.remedies,
                services_ready=services_ready,
                data_cache=data_cache,
            )
            spec.checks = ()
            prepared = await prepare_app(spec.detection, spec.files, context)
            spec.checks = tuple(context.checks)
        except OSError as error:
            raise BuildFailed(f"could not prepare the environment: {error.strerror}") from None
        self._lease = prepared.lease
        self.python_version = prepared.python_version
        self.listed_in = prepared.listed_in
        self._template = prepared.template
        spec.argv = self.command(spec.port)
        spec.requirements = prepared.requirements
        if prepared.env is not None:
            self._env = ((prepared.python, spec.port), prepared.env)
        return prepared.python

    async def environment(
        self, python: str, environment: Callable[[str], dict[str, str]]
    ) -> dict[str, str]:
        """The app's environment with ``python`` after :meth:`run`: the one its set-up
        steps ran with (the same inputs: nothing but the port, which may have moved since,
        changes between them), else ``environment(python)`` in a worker thread."""
        if self._env is not None and self._env[0] == (python, self.spec.port):
            return dict(self._env[1])
        return await trio.to_thread.run_sync(environment, python)

    async def python_versions(self) -> list[str]:
        """The versions of the interpreters present (for a fix's older Python)."""
        return await self._builder.python_versions()

    async def read_era(self, lines: list[str]) -> None:
        """Where a failure's ``lines`` are a third-party package's, the era the app's own
        pins date it to (asked of the index once), for the remedies' dated install."""
        tried, files = self.remedies.tried, self.spec.files
        if tried.era is not None or tried.listed is None:
            return
        if await trio.to_thread.run_sync(third_party_failure, lines, tried, files):
            settings = self.settings
            index, links = settings.package_index_url, settings.find_links
            era = read_era(tried.listed, index, links, files)
            tried.era = await era

    async def read_releases(self, lines: list[str]) -> None:
        """Where uv says the app pins a version no release has, the releases the index
        lists of it, for the remedies' nearest one (``remedies.resolution``), and, where
        the app's list is a freeze, those of each of its pins (``remedies.candidates``
        leaves out at once every one the index lacks that nothing imports); where a
        package's build failed, its files, for the nearest release with a wheel
        (``remedies.wheels``). Each asked once."""
        tried = self.remedies.tried
        absent = {norm(name) for name, _ in no_such_versions(lines)} - set(tried.releases)
        unbuilt = {norm(name) for name, _ in failed_builds(lines)} - set(tried.index_files)
        # Where a freeze's pin is on no index, its other pins too: uv names one a failure.
        others: set[str] = set()
        if absent or ABSENT_NAME.search(explanation(lines)):
            others = set(freeze_pins(tried)) - set(tried.releases) - absent
        if not absent and not unbuilt and not others:
            return
        settings = self.settings
        index, links = settings.package_index_url, settings.find_links
        found = await project_files(absent | unbuilt | others, index, links)
        for name in absent:
            versions = {str(f.version) for f in found.get(name, []) if not f.yanked}
            tried.releases[name] = sorted(versions)
        for name in others & set(found):  # (one the index did not answer for: unknown)
            tried.releases[name] = sorted({str(f.version) for f in found[name]})
        for name in unbuilt:
            tried.index_files[name] = found.get(name, [])

    async def release(self) -> None:
        """Give back the environment (shielded caller)."""
        if self._lease is not None:
            self._lease.release()
        if self.remedies.build_cache is not None:
            with trio.move_on_after(_CACHE_REMOVAL_TIME):
                await trio.to_thread.run_sync(shutil.rmtree, self.remedies.build_cache, True)

    async def _fill_configuration(
        self, app_dir: Path, environment: Callable[[str], dict[str, str]]
    ) -> None:
        """What the upload only describes (``configdefaults``), said in the log."""
        spec = self.spec
        anchor = spec.detection.detected_from if spec.detection is not None else ""
        given = {**dotenv_file(spec.files, anchor), **spec.extra}
        provided = await trio.to_thread.run_sync(environment, self.settings.python)
        # What the service gives, not the app's own values passed through; an empty value
        # of its .env is a form to fill in, where the service gives its own (DATABASE_URL=)
        provided = {k: v for k, v in provided.items() if k not in given or v != given[k]}
        self.config = config_defaults(spec.files, anchor, given, provided)
        for note in self.config.notes:
            await self._say(note)
        missing = await trio.to_thread.run_sync(
            MissingFiles.read, spec.files, anchor, spec.argv, served_database(provided)
        )
        if not missing.nothing():
            written = missing.plain_contents(spec.files)
            served = {n: provided[n] for n in self.config.reads if n in provided}
            for target in missing.named:
                written[target] = env_file_text(self._start_env(provided, target))
            for target in missing.read_only:
                written[target] = env_file_text(served | self._start_env(provided, target))
            for target, read_keys in missing.loaded.items():
                values = named_values(spec.files, anchor, given, provided, list(read_keys))
                written[target] = settings_text(read_keys, values, target)
            for target, names in missing.filled.items():  # after the example's own lines
                values = named_values(spec.files, anchor, given, provided, list(names))
                example = spec.files[missing.copies[target]]
                written[target] = example + b"\n" + local_names_text(names, values)
            for target, names in (missing.override_names | missing.kept_out).items():
                asked = [*names, *CLASS_SETTINGS]  # (a settings class's own, where it has one)
                values = named_values(spec.files, anchor, given, provided, asked)
                written[target] = local_names_text(names, values)
            for target, names in missing.local_names.items():  # (after its DATABASES)
                values = named_values(spec.files, anchor, given, provided, list(names))
                written[target] = written.get(target, b"") + local_names_text(names, values)
            if missing.run_secrets:  # each as the variable of its name would be given
                asked = [name.upper() for name in missing.run_secrets]
                values = named_values(spec.files, anchor, given, provided, asked)
                for name in missing.run_secrets:
                    value = values.get(name.upper()) or secrets.token_urlsafe(24)
                    written[f"{RUN_SECRETS_FOLDER}/{name}"] = value.encode()
            made = await trio.to_thread.run_sync(missing.made_keys, spec.files)
            await trio.to_thread.run_sync(_write_missing, app_dir, written | made)
            for note in missing.notes(self._example_for, made):
                await self._say(note)
        detection = spec.detection
        guessed = detection is not None and all(MODELS_TABLES in s for s in detection.setup)
        if detection is not None and detection.language == "python" and guessed:
            main = main_only_create_all(spec.files)  # (where its models' step may not do)
            if main is not None:  # it will answer 500 on its data: say why before it does
                await self._broadcast.publish(
                    "WARN",
                    f"nothing initialises the app's data: {main} creates its tables only "
                    'under `if __name__ == "__main__":`, which a server never runs',
                    "system",
                )

    def _start_env(self, provided: dict[str, str], target: str) -> dict[str, str]:
        """What an env file the start names (``target``) is written with: the
        configuration filled in (the example's values, the service's defaults), and what
        the service gives for the example's other names (its emptied DATABASE_URL: the
        preview's); never the port and host, which the environment gives (Node's
        --env-file gives way to it). The example is the app's, else the one beside
        ``target`` (src/.env.example for src/.env), whose values come below the rest."""
        example = self._example_for(target)
        named = dotenv_text(self.spec.files[example]) if example is not None else {}
        beside = named if example != self.config.example else {}
        values = beside | {n: provided[n] for n in named if n in provided} | self.config.values
        return {k: v for k, v in values.items() if k not in ("PORT", "HOST")}

    def _example_for(self, target: str) -> str | None:
        """The example an env file the start names is written from: the app's (the
        configuration's), else the best one in ``target``'s folder; None for none."""
        if self.config.example is not None:
            return self.config.example
        folder = posixpath.dirname(target)
        ranked = [
            (rank, path)
            for path in self.spec.files
            if posixpath.dirname(path) == folder and (rank := example_rank(path)) is not None
        ]
        return min(ranked)[1] if ranked else None

    async def _build_output(self, lines: list[tuple[str, str]], stream: str) -> None:
        await self._broadcast.publish_lines(lines, "build", stream, utcnow())

    async def _setup_output(self, lines: list[tuple[str, str]], stream: str) -> None:
        await self._broadcast.publish_lines(lines, "setup", stream, utcnow())

    async def _say(self, message: str) -> None:
        await self._broadcast.publish("INFO", message, "system")


@dataclass(frozen=True)
class MissingFiles:
    """What the upload lacks that its code reads or writes at run time, each kind found by
    its own rule (``apps.written``; ``configdefaults`` for env files), all written into
    the app's folder at once before its set-up steps, each said in its log."""

    copies: dict[str, str]  # {a configuration file: the example copied there}
    # {a Python module copied from its example: the constants the example leaves to fill in}
    filled: dict[str, tuple[str, ...]]
    empty_env: list[str]  # .env files a loader fails without: written empty
    named: list[str]  # the env files its start names (node --env-file=.env)
    read_only: list[str]  # those it reads values from alone (dotenv_values)
    logs: list[str]  # its logging's files, in a folder the upload lacks
    folders: dict[str, str]  # {a folder's keep file: why it writes there}
    rooted: dict[str, str]  # {a file of a folder named from its repository's root: its copy's}
    # {a file of a folder read from where it runs, which the upload has beside the module
    # reading it only: the upload's}
    beside_module: dict[str, str]
    recased: dict[str, str]  # {a file of a folder named in another case: the upload's}
    recased_modules: dict[str, str]  # {a Python module imported in another case: the file}
    metadata: dict[str, bytes]  # its own, as `pip install -e .` leaves it
    keys: dict[str, str | None]  # the key files its code reads, kept out of its repository
    cased: dict[str, bytes]  # its imports of ./User where user.ts is
    linked: dict[str, bytes]  # its tsconfigs emitting declarations, given preserveSymlinks
    tsconfig: dict[str, bytes]  # a tsconfig for a TypeScript package that has none
    deferred: dict[str, bytes]  # modules naming later classes in annotations, deferred
    node_keys: dict[str, str]  # a Node app's keys, certificates, favicon: {path: role}
    named_own: dict[str, bytes]  # its own folder, imported by its name
    inis: dict[str, bytes]  # its INI files with the served database's keys filled
    lan_hosts: list[str]  # its files naming its author's private network's addresses
    overrides: list[str]  # Flask's from_pyfile, its instance/ ignored
    override_names: dict[str, tuple[str, ...]]  # {one of those: the names imported from it}
    local_settings: dict[str, str]  # Django's: {a module it star-imports: the settings}
    preview_settings: dict[str, bytes]  # Django's: {the preview's settings module: its text}
    whole_settings: dict[str, bytes]  # Django's: {its settings module, left out: startproject's}
    local_names: dict[str, tuple[str, ...]]  # {that module: the names the settings read}
    kept_out: dict[str, tuple[str, ...]]  # {a module .gitignore'd: the constants imported}
    loaded: dict[str, dict[str, tuple[str, ...]]]  # a YAML/JSON it loads: {path: keys}
    nodemon: bytes | None  # package.json's nodemonConfig (skipped here), or its own mended
    nodemon_own: bool  # (its own nodemon.json, mended)
    secrets: list[str]  # its compose secrets' files, kept out of its repository
    run_secrets: list[str]  # the Docker secrets it reads from /run/secrets, by name
    sequelize: dict[str, bytes]  # sequelize-cli's config.json, with the served database
    npm_bin: dict[str, bytes]  # package.json, its scripts' removed `npm bin` replaced
    lfs_databases: list[str]  # its SQLite files kept in Git LFS: pointers, written empty
    # {a file a shell script writes, or its README gives whole: (that script or README, text)}
    scripted: dict[str, tuple[str, bytes]]

    @classmethod
    def read(
        cls,
        files: dict[str, bytes],
        anchor: str,
        argv: tuple[str, ...] | list[str],
        served: ServedDatabase | None,
    ) -> MissingFiles:
        """Every kind, read from ``files`` (blocking: it parses the upload's modules)."""
        named = start_env_files(files, anchor, argv)
        logs = log_files(files)
        folders = run_folders(files)
        copies = example_copies(files)
        cased = case_corrections(files) | windows_only_imports(files)
        overrides = instance_files(files)
        local_names = django_local_names(files)
        nodemon = nodemon_config_file(files)
        return cls(
            copies=copies,
            filled={
                target: names
                for target, example in copies.items()
                if target.endswith(".py") and (names := example_fill_ins(files[example]))
            },
            empty_env=env_files_needed(files),
            named=named,
            read_only=[
                path
                for path in [
                    *env_files_read_only(files),
                    *node_env_named_files(files, anchor),
                    *node_dotenv_result_files(files, anchor),
                ]
                if path not in named
            ],
            logs=logs,
            folders={target: why for target, why in folders.items() if target not in logs},
            rooted=root_named_folders(files),
            beside_module=module_named_folders(files),
            recased=case_named_folders(files),
            recased_modules=python_case_copies(files),
            metadata=own_metadata(files),
            keys=key_files(files),
            cased=cased,
            linked=declaration_links(files) if "package.json" in files else {},
            tsconfig=missing_tsconfig(files),
            deferred=deferred_annotations(files),
            node_keys=node_key_files(files),
            named_own=own_name_packages(files),
            inis=ini_database_fills(files, served),
            lan_hosts=lan_host_files(
                files | cased | {target: files[example] for target, example in copies.items()}
            ),
            overrides=overrides,
            override_names=instance_names(files, overrides),
            local_settings=django_local_settings(files),
            preview_settings=_preview_settings(files),
            whole_settings=django_missing_settings(files),
            local_names=local_names,
            kept_out={
                target: names
                for target, names in kept_out_module_names(files).items()
                if target not in local_names
            },
            loaded=settings_files(files) | node_settings_modules(files),
            nodemon=nodemon,
            nodemon_own=nodemon is not None and "nodemon.json" in files,
            secrets=compose_secret_files(files),
            run_secrets=docker_secrets_read(files),
            sequelize=dict.fromkeys(
                sequelize_configs(files, copies), sequelize_config_text(served)
            ),
            npm_bin=npm_bin_scripts(files),
            lfs_databases=lfs_pointer_databases(files),
            scripted={**readme_files(files), **scripted_files(files)},
        )

    def nothing(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def plain_contents(self, files: dict[str, bytes]) -> dict[str, bytes]:
        """The files whose contents need nothing of the service's: copies, empty files
        and folders' keep files, what the rules wrote out."""
        written = {t: files[e] for t, e in self.copies.items()} | dict.fromkeys(self.empty_env, b"")
        written |= self.cased | dict.fromkeys([*self.logs, *self.folders, *self.overrides], b"")
        written |= self.metadata | self.named_own | self.inis | self.sequelize | self.linked
        written |= self.tsconfig | self.deferred
        written |= self.npm_bin | dict.fromkeys(self.lfs_databases, b"")
        written |= {target: text for target, (_, text) in self.scripted.items()}
        written |= {target: files[source] for target, source in self.rooted.items()}
        written |= {target: files[source] for target, source in self.beside_module.items()}
        recased = self.recased | self.recased_modules
        written |= {target: files[source] for target, source in recased.items()}
        written |= dict.fromkeys(self.local_settings, LOCAL_DATABASES)
        written |= self.preview_settings | self.whole_settings
        if self.nodemon is not None:
            written["nodemon.json"] = self.nodemon
        for path in self.lan_hosts:  # on what the rules above wrote of it (a copy's)
            written[path] = lan_hosts_mended(written[path] if path in written else files[path])
        return written

    def made_keys(self, files: dict[str, bytes]) -> dict[str, bytes]:
        """Key pairs, certificates and secrets made for the preview (blocking); a Node key that
        could not be made is left out, and not said."""
        made = key_texts(self.keys, files) if self.keys else {}
        # A password of its own for each (its MariaDB takes any: ``backing.servers.mysql``).
        made |= {path: secrets.token_urlsafe(24).encode() for path in self.secrets}
        made |= node_key_texts(self.node_keys, files) if self.node_keys else {}
        for target, example in self.copies.items():  # a service account's placeholder key
            account = (
                service_account_text(files[example]) if b"service_acc" in files[example] else None
            )
            if account is not None:
                made[target] = account
        return made

    def notes(
        self, example_for: Callable[[str], str | None], made: Mapping[str, bytes]
    ) -> list[str]:
        """What was written, and why, a line each (``example_for``: the example an env
        file was written from; ``made``: the keys :meth:`made_keys` made)."""
        said: list[str] = []
        if self.keys:
            said.append(
                f"no {', '.join(self.keys)}, the key files its code reads: a key pair made for "
                "the preview written there (its tokens are signed with it)"
            )
        node_keys = {path: role for path, role in self.node_keys.items() if path in made}
        if icons := [path for path, role in node_keys.items() if role == FAVICON]:
            said.append(
                f"no {', '.join(icons)}, the icon its favicon middleware serves (and stats "
                "as it is made): a blank icon written there"
            )
        if node_keys := {path: role for path, role in node_keys.items() if role != FAVICON}:
            keys = ", ".join(f"{path} ({role})" for path, role in node_keys.items())
            said.append(
                f"no {keys}, the key files its code reads: made for the preview and "
                "written there (a certificate self-signed, for localhost)"
            )
        if self.secrets:
            said.append(
                f"no {', '.join(self.secrets)}, which its compose file's secrets are read "
                "from: a secret made for the preview written there"
            )
        if self.nodemon is not None and self.nodemon_own:
            said.append(
                "nodemon.json: node's debugger flags left out of the ts-node it runs (ts-node 8"
                ' and later refuse them: "Unknown or unexpected option: --inspect")'
            )
        elif self.nodemon is not None:
            said.append(
                "nodemon.json written from package.json's nodemonConfig: nodemon reads no "
                "package.json's settings in its HOME, which a preview's own folder is"
            )
        if self.logs:
            said.append(
                "no folder for the log files its logging writes: "
                f"{', '.join(self.logs)} written empty"
            )
        for target, (script, _) in self.scripted.items():
            how = "gives" if is_readme(script) else "writes"
            said.append(f"no {target}, which its code names: written as {script} {how} it")
        if self.lfs_databases:
            said.append(
                f"{', '.join(self.lfs_databases)}: a Git LFS pointer in the upload, not the "
                "SQLite database its repository keeps in LFS (SQLite refuses it: file is not "
                "a database): an empty database written there, which the app fills as a new one"
            )
        if self.npm_bin:
            said.append(
                'package.json: its scripts\' `npm bin` (which npm 9 removed: "Unknown command") '
                "given what it printed, $(npm prefix)/node_modules/.bin"
            )
        if self.linked:
            said.append(
                f"{', '.join(self.linked)}: preserveSymlinks set, the declarations it emits "
                "naming node_modules' packages by the project's path (node_modules is a link "
                "to the built environment, outside it: TS2742 otherwise)"
            )
        if self.deferred:
            said.append(
                f"{', '.join(self.deferred)}: their annotations name classes bound after them,"
                " which Python 3.14 defers and older ones evaluate at once: read as 3.14 reads"
                " them (from __future__ import annotations)"
            )
        for target in self.tsconfig:
            said.append(
                f"no {target}, which its scripts' tsc or ts-node read: written (its "
                "compiler's options for Node, as its scripts name them)"
            )
        for target, why in self.folders.items():
            said.append(
                f"no folder {posixpath.dirname(target)}, which it writes in at run time "
                f"({why}): {target} written empty"
            )
        rooted = sorted(
            {posixpath.dirname(t): posixpath.dirname(s) for t, s in self.rooted.items()}.items()
        )
        for folder, source in rooted:
            said.append(
                f"its code reads {folder} by a path from its repository's root, where the "
                f"upload is one folder of it: {source}'s files copied there"
            )
        beside: dict[str, set[str]] = {}  # {the module's folder: the folders read}
        for target, source in self.beside_module.items():
            beside.setdefault(source[: -len(target)].rstrip("/"), set()).add(target.split("/")[0])
        for module_folder, read in sorted(beside.items()):
            names = ", ".join(f"{name}/" for name in sorted(read))
            said.append(
                f"its code reads {names} from where it runs, and the upload has them beside "
                f"the module reading them only (in {module_folder}/): their files copied there"
            )
        recased = sorted(
            {posixpath.dirname(t): posixpath.dirname(s) for t, s in self.recased.items()}.items()
        )
        for folder, source in recased:
            said.append(
                f"its code reads {folder}, which the upload spells {source} (its author's file "
                "system ignores case): its files copied there"
            )
        for target, source in self.recased_modules.items():
            said.append(
                f"its code imports {target}, which the upload spells {source} (its author's "
                "file system ignores case): copied under the name imported"
            )
        for target in self.metadata:  # (its code reads its own installed version)
            said.append(f"the project's own metadata written, as pip install -e . would: {target}")
        if self.cased:
            said.append(
                f"{', '.join(self.cased)}: imports (or views rendered) spelling a file's name "
                "in another case than the file has (which its author's file system ignored) "
                "spelled as the file is"
            )
        for target in self.named:
            source = example_for(target) or "the service's defaults"
            said.append(f"no {target}, which its start reads: written from {source}")
        for target in self.read_only:
            source = example_for(target) or "the service's defaults"
            said.append(
                f"no {target}, whose values its code reads from the file alone: written "
                f"from {source} and what the service gives"
            )
        for target, example in self.copies.items():
            said.append(f"no {target}: using {example} (copied)")
            if names := self.filled.get(target):
                said.append(
                    f"{example} leaves {', '.join(names)} to fill in: given in {target} what "
                    "the service gives variables of those names"
                )
            if target in made:
                said.append(
                    f"{example} is a service account's key file with a placeholder for its "
                    f"private key: a private key made for the preview written in {target}"
                )
        for target, read_keys in self.loaded.items():
            said.append(
                f"no {target}, the settings file its code loads (nor an example of it): "
                f"written with what the service gives for the {len(read_keys)} keys it reads"
                if read_keys
                else f"no {target}, the settings file its code loads and its .gitignore "
                "names (nor an example of it), reading no key of it by name: written empty"
            )
        for target in self.overrides:
            if names := self.override_names.get(target):
                said.append(
                    f"no {target}, the settings file its Flask app loads (from_pyfile) and its "
                    f"repository leaves out: written with {', '.join(names)}, which its code "
                    "imports from it, given what the service gives variables of those names"
                )
                continue
            said.append(
                f"no {target}, the settings file its Flask app loads (from_pyfile) and its "
                "repository leaves out: written empty (its settings are those it loads before)"
            )
        for target, settings in self.local_settings.items():
            said.append(
                f"no {target}, which {settings} imports for what it leaves out (it sets no "
                "DATABASES): written with DATABASES from the preview's database (DATABASE_URL)"
            )
        for target in self.whole_settings:
            said.append(
                f"no {target}, the Django settings module manage.py names, which its "
                ".gitignore leaves out: written as startproject writes it, with the apps of "
                "the upload and of the packages it uses, and the preview's database"
            )
        if self.run_secrets:
            said.append(
                f"its Docker secrets {', '.join(self.run_secrets)}, read from {RUN_SECRETS}: "
                "each written there as the service gives a variable of its name (the "
                "preview's database's user, password, host …; a throwaway where none)"
            )
        for target, names in self.kept_out.items():
            said.append(
                f"no {target}, which its .gitignore leaves out and its code imports "
                f"{', '.join(names)} from: written with what the service gives variables "
                "of those names"
            )
        for target, names in self.local_names.items():
            said.append(
                f"no {target}, which the settings star-import for {len(names)} names they read "
                f"and never set ({', '.join(names[:6])}{' …' if len(names) > 6 else ''}): "
                "written with what the service gives variables of those names"
            )
        for target in self.sequelize:
            said.append(
                f"no {target}, the sequelize-cli config its code and migrations read (nor an "
                "example of it): written with the preview's database for every environment"
            )
        if self.lan_hosts:
            said.append(
                f"{', '.join(self.lan_hosts)}: the hosts named by an address of its author's "
                "private network (10.x, 172.16–31.x, 192.168.x), or a database server's by "
                "a public one or a MongoDB cluster's on the internet, which no preview "
                f"reaches, are this sandbox's own {LAN_HOST_STAND_IN}, where its servers are"
            )
        for target in self.inis:
            said.append(
                f"{target}, which its code reads, leaves its database's keys empty: the "
                "preview's database's written there"
            )
        for target in self.empty_env:
            said.append(
                f"no {target}, which its code reads with a loader that fails without one: "
                "an empty one written (its variables come from the environment)"
            )
        return said


def _preview_settings(files: dict[str, bytes]) -> dict[str, bytes]:
    """{the path of the preview's Django settings module: its text}, where the app's own
    cannot serve as they are (``written.django_preview_settings``)."""
    found = django_preview_settings(files)
    return {found.path: found.text} if found is not None else {}


def _write_missing(app_dir: Path, written: dict[str, bytes]) -> None:
    for target, content in written.items():  # never through a link: on a relaunch the
        write_beneath(app_dir, target, content)  # app has run in its directory


@dataclass
class Prepared:
    template: tuple[str, ...]  # the start command, {python} filled in
    python: str  # the interpreter the app runs with ({python})
    python_version: str | None
    lease: Lease | None  # the environment in use, released when the preview ends
    listed_in: str  # where the app's dependencies are listed (for hints)
    requirements: str | None
    env: dict[str, str] | None = None  # environment(python), if its set-up steps needed it


def fill(template: tuple[str, ...], values: dict[str, str]) -> list[str]:
    return [part.format_map(values) for part in template]


@dataclass(frozen=True)
class PreparationContext:
    """What preparing an app needs of the launch or the revision that asks for it: where
    its files are, what builds its environment, where it says what it does, how its
    set-up steps are confined, and what it knows already (its fixes, the variables
    nothing sets)."""

    settings: Settings
    builder: EnvBuilder
    app_dir: Path
    values: dict[str, str]  # the placeholders' values: its port, its root path
    environment: Callable[[str], dict[str, str]]  # the app's, for an interpreter
    publish: Publish  # the build's output
    say: Callable[[str], Awaitable[None]]
    publish_setup: Publish | None = None  # the set-up steps' output (None: publish)
    on_phase: Callable[[str], None] = lambda phase: None
    # What a phase did came from a cache (True) or was done now (False): a phase is
    # cached when all it did was (the status's ``phases``).
    on_cached: Callable[[str, bool], None] = lambda phase, cached: None
    confine: ConfineStep = lambda python, cwd, built: None
    run_as: RunAs = lambda python, built: None
    # The variables the app requires that nothing sets: a step's failure for want of one
    # names them all.
    needed: Sequence[str] = ()
    remedies: Remedies | None = None
    # Awaited before the set-up steps: its servers, started beside the build, answer (a
    # migration connects at once).
    services_ready: Callable[[], Awaitable[None]] | None = None
    data_cache: DataInitCache | None = None  # None: its data steps run at every launch
    # What its preparation leaves to run once beside it when it answers (the type check
    # of a build run as TypeScript's emit): LaunchSpec.checks.
    checks: list[WorkerProcess] = field(default_factory=list)


def uncompiled_environment(
    lease: Lease | None, detection: Detection | None, compiles: BytecodeCompiles
) -> bool:
    """The Python environment of ``lease`` has no bytecode yet: built for this launch or
    one just before, its modules compiled after (:class:`~.build.BytecodeCompiles`), so
    this start compiles what it imports, up to three times slower."""
    python = detection is not None and detection.language == "python"
    return python and lease is not None and compiles.uncompiled(lease.key)


@dataclass
class _Environment:
    """The environment an app's preparation built or reused, and what it was built from."""

    python: str  # the interpreter the app runs with ({python})
    version: str | None = None
    lease: Lease | None = None
    listed_in: str = "requirements.txt"
    requirements: str | None = None


async def prepare_app(
    detection: Detection, files: dict[str, bytes], context: PreparationContext
) -> Prepared:
    """Build or reuse the app's environment, run its set-up steps; the command to start."""
    settings = context.settings
    template = detection.argv
    built = _Environment(settings.python)
    if settings.build == "off":
        if detection.asgi:  # the service's own uvicorn and Starlette: known to honour it
            template = (*template, "--root-path", "{root_path}")
    elif detection.language == "python":
        built = await _python_environment(detection, files, context)
    else:
        built.lease = await _node_modules(detection, files, context)
    if built.lease is not None:
        context.on_cached(INSTALL, built.lease.reused)
    _, folder, wrapper = main_setup_served(template, files)
    if wrapper is not None:  # there for its set-up steps too: create_all() imports it
        target = posixpath.join(folder, MAIN_SETUP)
        await trio.to_thread.run_sync(write_beneath, context.app_dir, target, wrapper)
    try:
        app_env = await _set_up(detection, files, context, built)
    except BaseException:
        if built.lease is not None:
            built.lease.release()
        raise
    template, shim = gunicorn_settings(template, files)
    if shim is not None:  # its own settings, for a server: kept in the foreground
        # Never through a link: its set-up steps may have put one in the shim's place.
        await trio.to_thread.run_sync(write_beneath, context.app_dir, GUNICORN_SHIM, shim)
        await context.say(
            "gunicorn reads the app's settings file through the service's: in the "
            "foreground, its logs on its output"
        )
    template, folder, wrapper = main_setup_served(template, files)
    if wrapper is not None:  # its set-up under __main__ alone (db.init_app(app)): done
        target = posixpath.join(folder, MAIN_SETUP)
        await trio.to_thread.run_sync(write_beneath, context.app_dir, target, wrapper)
        await context.say(
            "the app is set up only in its module's __main__ block: served through "
            f"{target}, which does that set-up (its server not started)"
        )
    filled = {**context.values, "python": built.python, "port": "{port}"}
    started = tuple(fill(template, filled))
    return Prepared(
        started,
        built.python,
        built.version,
        built.lease,
        built.listed_in,
        built.requirements,
        app_env,
    )


async def _python_environment(
    detection: Detection, files: dict[str, bytes], context: PreparationContext
) -> _Environment:
    """Its dependencies read (with the fixes in force), its environment built or reused."""
    say = context.say
    # Said at once: reading its dependencies, its modules (for drivers and settings)
    # and the package index takes seconds before uv's first line (a silent gap).
    await say("reading its dependencies and choosing a Python for them")
    remedies = context.remedies or Remedies()
    own = python_dependencies(files, detection.detected_from)
    given = await trio.to_thread.run_sync(context.environment, context.settings.python)
    listed = await with_async_driver(own, files, given, say)
    listed = await with_redis_client(listed, files, given, say)
    listed = await with_step_tools(listed, detection.setup_steps(), say)
    offline = context.settings.package_index_url == "none"
    listed = await with_setuptools(listed, say, offline=offline)
    learned = await trio.to_thread.run_sync(remedies.adopt, files)
    if learned:
        said = ", ".join(fix.change for fix in learned)
        await say(f"with the fixes an earlier launch of this upload needed: {said}")
    deps = remedies.apply(listed, own)
    for held in remedies.news():  # an old release's companions, held with it
        await say(held)
    remedies.tried.deps, remedies.tried.python_version = deps, None
    if deps.inferred is not None:
        await say(
            "no requirements.txt or pyproject.toml: installing what the app imports "
            f"({deps.inferred})"
        )
    for note in deps.notes:  # what the spec could not say exactly (Poetry's ||, …)
        await context.publish([("WARN", note)], "stdout")
    lease, env = await context.builder.python_env(
        deps, detection.server, context.publish, say, remedies.build_cache
    )
    remedies.tried.python_version, remedies.tried.env_path = env.version, lease.path
    fixes = await _missing_at_start(detection, files, context, remedies)
    while fixes:
        fixed = remedies.apply(listed, own)
        remedies.tried.deps = fixed
        try:
            again = await context.builder.python_env(
                fixed, detection.server, context.publish, say, remedies.build_cache
            )
        except BuildFailed as failed:
            # A module's distribution under its other likely name, once; else not what
            # was missing after all: without them.
            instead = remedies.instead_of_unknown(fixes, [failed.message, *failed.lines])
            if instead:
                for fix in [f for f in instead if f not in fixes]:
                    await say(fix.said)
                fixes = instead
                continue
            remedies.take_back(fixes)
            remedies.tried.deps = deps
            await say(f"its environment with them did not build ({failed.message}): without them")
        else:
            lease.release()
            (lease, env), deps = again, fixed
            remedies.tried.python_version, remedies.tried.env_path = env.version, lease.path
        break
    return _Environment(
        env.python,
        env.version,
        lease,
        os.path.basename(deps.source) if deps.source else "requirements.txt",
        "\n".join(deps.requirements) or None,
    )


async def _missing_at_start(
    detection: Detection, files: dict[str, bytes], context: PreparationContext, remedies: Remedies
) -> list[Fix]:
    """The remedies' fixes, taken, for each module the app's start imports as it loads
    (``apps.imports.imported_at_start``) that its environment, just built, does not have:
    what its first start would have died on one at a time ("No module named 'fastapi'",
    then 'pydantic_settings': brunolnetto's fastapi-email, two failed starts and two more
    installs), said; [] where nothing is missing."""
    wanted = imported_at_start(files, detection.argv)
    if not wanted:
        return []
    present = await trio.to_thread.run_sync(installed_dists, remedies.tried.env_path)
    missing = sorted(name for name in wanted if name not in present and not name.startswith("_"))
    if not missing:
        return []
    installed = await context.builder.python_versions()
    fixes: list[Fix] = []
    names: list[str] = []
    for name in missing:
        failure = f"ModuleNotFoundError: No module named '{name}'"
        fix = await trio.to_thread.run_sync(remedies.next_fix, failure, [], files, installed)
        if fix is not None:
            fixes.append(fix)
            names.append(name)
    if fixes:
        await context.say(
            f"its start imports {', '.join(names)}, which its environment does not have: "
            f"{'; '.join(fix.change for fix in fixes)}, before its first start"
        )
    return fixes


async def _node_modules(
    detection: Detection, files: dict[str, bytes], context: PreparationContext
) -> Lease | None:
    """Its packages installed (or the builder's, keyed by its lockfile) and linked in as its
    ``node_modules``; None where it has none to install or brought its own."""
    deps = node_dependencies(files, detection.node_tools, detection.prisma_schema)
    for note in detection.notes:  # how the start differs from what the app declared
        await context.say(note)
    if deps is not None and deps.note is not None:
        await context.say(deps.note)
    if deps is None or "node_modules" in {p.split("/")[0] for p in files}:
        return None
    if context.remedies is not None:
        learned = await trio.to_thread.run_sync(context.remedies.adopt, files)
        if learned:
            said = ", ".join(fix.change for fix in learned)
            await context.say(f"with the fixes an earlier launch of this upload needed: {said}")
        # Packages its own modules require and it does not list (remedies.npmmissing).
        added = [line for f in context.remedies.fixes if f.add for line in f.add.split("\n")]
        if added:
            deps = replace(deps, tools=tuple(dict.fromkeys((*deps.tools, *added))))
    if context.remedies is not None and any(f.peers for f in context.remedies.fixes):
        deps = replace(deps, legacy_peers=False)  # its peers honoured (remedies.npmmissing)
    if context.remedies is not None and deps.lockfile is None:  # its era (remedies.npmera)
        fixes = context.remedies.fixes
        before = next((f.before for f in fixes if f.before), None)
        pinned = floor_pins(deps.package_json) if any(f.floors for f in fixes) else None
        deps = replace(deps, before=before, package_json=pinned or deps.package_json)
    lease = await context.builder.node_modules(deps, context.publish, context.say)
    # Another plan's attempt linked its own (plantries): this one's replaces it.
    anchors = (context.settings.previews_dir,)
    await trio.to_thread.run_sync(unlink_beneath, context.app_dir, "node_modules", anchors)
    await trio.to_thread.run_sync(  # (a revision's: its running app's links refused)
        link_beneath, context.app_dir, "node_modules", lease.path / "node_modules", anchors
    )
    return lease


async def _set_up(
    detection: Detection,
    files: dict[str, bytes],
    context: PreparationContext,
    built: _Environment,
) -> dict[str, str] | None:
    """Its frontend built and its set-up steps run; the environment they ran with (None:
    there was none to run)."""
    settings, python = context.settings, built.python
    app_env: dict[str, str] | None = None  # environment(python): the same for every step
    if detection.setup or detection.frontend is not None:
        context.on_phase(BUILD)
        if context.services_ready is not None:
            await context.services_ready()
    if detection.frontend is not None and settings.build != "off":  # (apps.frontend)
        app_env = await trio.to_thread.run_sync(context.environment, python)
        await build_frontend(
            detection.frontend,
            files,
            app_dir=context.app_dir,
            settings=settings,
            node_modules=context.builder.node_modules,
            env=dict(app_env),
            publish=context.publish_setup or context.publish,
            say=context.say,
            confine=partial(context.confine, python),
            run_as=partial(context.run_as, python),
        )
    # A step's output is reused by its inputs' hash (buildcache) while every step
    # before it was such a build too: another step's effects are no input a key covers.
    keyed = detection.language == "node"
    environment_path = built.lease.path if built.lease is not None else None
    hints = {
        "requirements": built.requirements,
        "listed_in": built.listed_in,
        "upload": files,  # (its .gitignore files read for a module it lacks)
    }

    def confined(cwd: Path) -> Confinement | None:
        return context.confine(python, cwd, environment_path)

    runner = SetupStepRunner(
        context.app_dir,
        settings,
        context.publish_setup or context.publish,
        context.say,
        confined,
        context.run_as(python, environment_path),
        context.needed,
        hints,
    )
    cache = context.builder.build_cache
    remedies = context.remedies
    # TypeScript's emit without type check, unless the app did not start from it before.
    transpiling = detection.language == "node" and not (remedies and remedies.typechecked())
    if remedies is not None:
        remedies.transpiled = False
    steps = detection.setup_steps()
    data_key, data_kept = await _data_from_cache(detection, steps, files, context, built)
    data_whole = True  # every data step ran and succeeded: what it made is worth keeping
    for step, where in steps:
        phase = DATA_INIT if step in detection.data_setup else BUILD
        context.on_phase(phase)
        if data_kept and phase == DATA_INIT:
            context.on_cached(DATA_INIT, True)
            continue
        if app_env is None:
            app_env = await trio.to_thread.run_sync(context.environment, python)
        env = dict(app_env)
        argv = fill(step, {**context.values, "python": python})
        if SKIP_CHECKS in argv:
            argv = await trio.to_thread.run_sync(_checks_as_installed, argv, environment_path)
        if runs_alembic(argv) and detection.language == "python":
            env.update(await _migration_urls(files, where, env, environment_path, context))
        key = await cache.key(argv, where, files, environment_path, env) if keyed else None
        keyed = key is not None
        step_run = _StepRun(SetupStep(argv, where, env), key, runner, cache, context, files)
        fast = transpiled_build(argv, where, files) if transpiling else None
        try:
            reused = await (step_run.transpiled(fast) if fast is not None else step_run.declared())
            context.on_cached(phase, reused)
        except BuildFailed as failed:
            data_whole = data_whole and step not in detection.data_setup
            if step in detection.optional:  # a seed, a build its start does not run
                if await _fix_known(failed, files, context):
                    raise  # (the relaunch takes it; a step it did not mend is dropped then)
                await context.say(
                    f"set-up step {shown(step)} failed ({failed.message}): dropped, "
                    "the app is started without it (judged by whether it then serves)"
                )
                continue
            why = await trio.to_thread.run_sync(migrations_not_needed, step, files)
            if why is None:
                raise
            await context.say(
                f"the app's migrations failed ({failed.message}); {why}: started anyway"
            )
    if data_key is not None and not data_kept and data_whole and context.data_cache is not None:
        await context.data_cache.keep(data_key)
    return app_env


def _checks_as_installed(argv: list[str], environment_path: Path | None) -> list[str]:
    """Django's migrate without :data:`SKIP_CHECKS` where the environment's Django is older
    than 3.0, which has no such option: the upload's pins, a hold a fix added
    (``Django<3``, for ``django.utils.six``) or an era's resolution may each have chosen
    it, and rickzzdev's apiErpDjango's migrate failed on "unrecognized arguments"."""
    django = installed_dists(environment_path).get("django")
    major = django[1].split(".")[0] if django is not None else ""
    if not major.isdigit() or int(major) >= 3:
        return argv
    return [part for part in argv if part != SKIP_CHECKS]


async def _fix_known(
    failed: BuildFailed, files: dict[str, bytes], context: PreparationContext
) -> bool:
    """Whether the remedies know a fix for an optional step's failure (a package its
    environment lacks: "No module named 'psycopg'"), which comes before dropping the
    step: vivek-github-s's Task-Manager-FastAPI, its alembic upgrade dropped for want of
    psycopg (SQLAlchemy 2.1's driver for its .env's plain ``postgresql://``), served 500s
    on every table. A fix tried once is not known again: the step is dropped then."""
    remedies = context.remedies
    if remedies is None:
        return False
    installed = await context.builder.python_versions()
    return await trio.to_thread.run_sync(
        remedies.has_fix, failed.message, failed.lines, files, installed
    )


@dataclass(frozen=True)
class _StepRun:
    """One set-up step run (its output reused by its key where it has one)."""

    step: SetupStep
    key: StepKey | None
    runner: SetupStepRunner
    cache: BuildCache
    context: PreparationContext
    files: dict[str, bytes]

    async def declared(self) -> bool:
        """The step as the app declared it; whether its kept output was reused."""
        return await self._run(self.step, self.key)

    async def transpiled(self, fast: TranspiledBuild) -> bool:
        """The step with its TypeScript compiles transpiled (``builds.typescript``), and
        where that is refused or fails, the step as declared, said."""
        env = {**self.step.env, **fast.env}
        declared = shown(tuple(self.step.argv))
        said = f"{declared} ({fast.said})"
        quick = SetupStep(list(fast.argv), self.step.where, env, shown=said)
        key = self.key.variant(fast.version) if self.key is not None else None
        try:
            reused = await self._run(quick, key)
        except BuildFailed as failed:
            await self.context.say(
                f"build: TypeScript's emit without its type check did not serve "
                f"({failed.message}); the app's own build run instead"
            )
            return await self.declared()
        if self.context.remedies is not None:
            self.context.remedies.transpiled = True
        check = type_check(fast, self.step.where, self.context.settings.memory_limit_mb)
        if check is not None:
            self.context.checks.append(check)
        return reused

    async def _run(self, step: SetupStep, key: StepKey | None) -> bool:
        run = partial(self.runner.run, step)
        if key is None:
            await run()
            return False
        return await self.cache.run(key, self.context.app_dir, run, self.context.say, self.files)


async def _migration_urls(
    files: dict[str, bytes],
    where: str,
    env: dict[str, str],
    environment: Path | None,
    context: PreparationContext,
) -> dict[str, str]:
    """The URLs an Alembic step is given in place of the app's where its env.py is sync
    and they name an async driver (``apps.asyncdb.sync_migration_urls``), or it is async
    and they name none (``async_migration_urls``), said."""
    modules = await trio.to_thread.run_sync(installed_dists, environment)
    changed: dict[str, str] = {}
    for kind, urls in (
        ("sync, given an async", sync_migration_urls(files, where, env, modules)),
        ("async, given a sync", async_migration_urls(files, where, env, modules)),
    ):
        if urls:
            schemes = sorted({url.partition("://")[0] + "://" for url in urls.values()})
            await context.say(
                f"its Alembic env.py is {kind} driver's URL: "
                f"{', '.join(sorted(urls))} given to it as {' and '.join(schemes)}"
            )
            changed.update(urls)
    return changed


async def _data_from_cache(
    detection: Detection,
    steps: list[tuple[tuple[str, ...], str]],
    files: dict[str, bytes],
    context: PreparationContext,
    built: _Environment,
) -> tuple[str | None, bool]:
    """(the data-init key, whether the data kept under it was put in: its steps are then
    skipped); (None, False) where the launch keeps no data or has no data step."""
    data_steps = [(step, where) for step, where in steps if step in detection.data_setup]
    if context.data_cache is None or not data_steps or context.settings.build == "off":
        return None, False
    environment = built.lease.path if built.lease is not None else None
    key = await trio.to_thread.run_sync(data_init_key, data_steps, files, environment)
    kept = await context.data_cache.restore(key)
    if kept is None:
        return key, False
    said = ", ".join(detection.data_init) or "its data steps"
    await context.say(
        f"data initialised from cache (kept {kept}; {said} and the upload unchanged):"
        f" {len(data_steps)} data step{'s' if len(data_steps) > 1 else ''} not run"
    )
    return key, True
