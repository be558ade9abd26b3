"""Host paths out of what a preview's user sees: :class:`HostPaths`.

A preview's log, its ``errorMessage`` and ``errorLines`` are the user's; the paths in
them are mostly the service's: the app's directory (a folder of the service's temp
dir), its built environment (under the data dir), the service's own interpreter and
virtual environment (a build-less preview runs on them), the data dir. Each is shown as
what it stands for, so a traceback reads as on the user's machine and says nothing of
the host's layout:

* the app's directory: its files relative to it (``main.py``), itself ``.``; so is the
  directory of a revision applied live (``<app dir>/.revisions/<n>.<attempt>``, see
  ``runtime.swaps``), where the same files are;
* a built environment: ``<environment>`` (its interpreter: ``python``);
* the service's interpreter: ``python``; its prefixes (virtual environment and base
  installation: site-packages, the standard library) and pyenv's installations (the other
  interpreters a build may take): ``<python>``;
* the data dir, the previews' dir, the environments' dir: ``<service>``.

One object per preview, applied where its events are published (``LogBroadcast``) and
to its ``error_message`` and ``error_lines``.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import sys
from collections.abc import Iterable

__all__ = ["REVISION_DIRS", "HostPaths"]

REVISION_DIRS = ".revisions"  # under the app's directory: revisions applied live

_NAME = r"[^/\s'\"]+"  # one path component, as it appears in a line of text
# After a path: a slash (the path goes on) or anything that cannot continue its last
# name, so that /srv/app does not match inside /srv/app2.
_END = r"(?:(?P<slash>/)|(?![\w.-]))"


class HostPaths:
    """Replaces host paths in text (see the module doc); ``hp(text)``."""

    __slots__ = ("_app", "_compiled", "_labels", "_probes", "_source")

    def __init__(
        self,
        *,
        app_dir: str | os.PathLike[str] | None = None,
        env_root: str | os.PathLike[str] | None = None,
        interpreters: Iterable[str] = (),
        prefixes: Iterable[str] = (),
        service_dirs: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        labels: dict[str, str] = {}
        for paths, label in (
            (service_dirs, "<service>"),
            (prefixes, "<python>"),
            (interpreters, "python"),
        ):
            for path in paths:
                for variant in _variants(path):
                    labels[variant] = label
        self._app = _variants(app_dir) if app_dir else set()
        for variant in self._app:
            labels[variant] = "."
        envs = _variants(env_root) if env_root else set()
        self._labels = labels
        # The probes: a line that contains none of them (most) is left at once.
        candidates = sorted({*labels, *envs}, key=len)
        probes = [
            path
            for i, path in enumerate(candidates)
            if not any(path.startswith(shorter + "/") for shorter in candidates[:i])
        ]
        # One search for them all: a fifth of the time of testing each (every line
        # of every preview passes here).
        self._probes = re.compile("|".join(map(re.escape, probes))).search if probes else None
        alternatives = []
        if envs:
            roots = "|".join(re.escape(root) for root in sorted(envs, key=len, reverse=True))
            alternatives += [
                rf"(?P<envpython>(?:{roots})/{_NAME}/bin/python[0-9.]*)",
                rf"(?P<env>(?:{roots})/{_NAME})",
            ]
        if self._app:
            apps = "|".join(re.escape(root) for root in sorted(self._app, key=len, reverse=True))
            revisions = rf"(?:{apps})/{re.escape(REVISION_DIRS)}/[0-9]+\.[0-9]+"
            alternatives.append(rf"(?P<revision>{revisions})")
        literals = sorted(labels, key=len, reverse=True)  # the longest (innermost) first
        if literals:
            alternatives.append("(?P<path>" + "|".join(map(re.escape, literals)) + ")")
        # Compiled on first use (a millisecond, on every launch's path otherwise).
        self._source = f"(?:{'|'.join(alternatives)}){_END}" if alternatives else None
        self._compiled: re.Pattern[str] | None = None

    @classmethod
    def of_service(
        cls,
        *,
        app_dir: str | os.PathLike[str] | None,
        data_dir: os.PathLike[str],
        previews_dir: os.PathLike[str],
        env_root: os.PathLike[str],
        python: str,
        sockets_dir: os.PathLike[str] | None = None,
    ) -> HostPaths:
        """The paths of this service (its settings') and this process's interpreter."""
        interpreters = {sys.executable, python} if os.path.isabs(python) else {sys.executable}
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        prefixes.update(glob.glob(os.path.join(pyenv, "versions", "*")))
        for interpreter in interpreters:  # PREVIEW_PYTHON's own venv or installation
            parent = os.path.dirname(interpreter)
            if os.path.basename(parent) == "bin":
                prefixes.add(os.path.dirname(parent))
        return cls(
            app_dir=app_dir,
            env_root=env_root,
            interpreters=interpreters,
            prefixes=prefixes,
            # Its sockets' too (settings.sockets_dir: apart, when the run dir is long).
            service_dirs=[data_dir, previews_dir, env_root, *filter(None, [sockets_dir])],
        )

    def __call__(self, text: str) -> str:
        source = self._source  # None: nothing to scrub, and no probes either
        if source is None or self._probes is None or self._probes(text) is None:
            return text
        if self._compiled is None:
            self._compiled = re.compile(source)
        return self._compiled.sub(self._replace, text)

    def lines(self, lines: Iterable[str]) -> list[str]:
        """Each of ``lines`` scrubbed; one search of them all when none has a host
        path (a line's match is a match in the lines joined)."""
        lines = list(lines)
        if self._probes is None or self._probes("\n".join(lines)) is None:
            return lines
        return [self(line) for line in lines]

    def _replace(self, match: re.Match[str]) -> str:
        groups = match.groupdict()
        slash = groups["slash"] or ""
        if groups.get("envpython"):
            return "python" + slash
        if groups.get("env"):
            return "<environment>" + slash
        path = groups["path"]
        if groups.get("revision") or path in self._app:
            return "" if slash else "."  # the app's files as the user wrote them
        return self._labels[path] + slash


def _variants(path: str | os.PathLike[str]) -> set[str]:
    """``path`` as given, absolute, and with its links resolved: a line may show any."""
    text = os.fspath(path).rstrip("/") or "/"
    found = {text, *_resolved(text)}
    return {variant for variant in found if os.path.isabs(variant) and variant != "/"}


@functools.lru_cache(maxsize=64)
def _resolved(path: str) -> tuple[str, str]:
    # Cached: the service's paths are the same for every preview (a few lstat calls).
    return os.path.abspath(path), os.path.realpath(path)
