"""Where an idle service's RSS comes from, layer by layer, beside the peer's (issue 25).

``python -m benchmarks.idlefloor [--runs 2]``: the RSS (``VmRSS``) 2 s after each
server is ready, in alternating runs:

* ``peer``: the baseline (FastAPI + sse-starlette on uvicorn, ``benchmarks/baseline``);
* ``stack``: the fixed stack of DESIGN.md and nothing else, a hello app
  (``benchmarks/stackhello.py``): a ``QuartTrio`` app on Hypercorn's trio worker with a
  SQLAlchemy Core engine on a SQLite file (a table created, a row written and read);
* ``libraries``: that app after importing every module outside ``preview`` that an idle
  ``preview serve`` has imported (read from its ``-X importtime``);
* ``modules``: that, and the service's own modules too (imported, nothing started);
* ``service``: ``python -m preview serve`` on a new data dir (the store migrated).

Each layer's excess over the one before is what it costs; the service's state beyond
its imports is ``service`` − ``modules``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .harness import PYTHON, ROOT, BaselineServer, free_port, wait_for_port

__all__ = ["idle_modules", "main", "measure"]

_SETTLE_S = 2.0
_SECRET = "idle-floor-secret-" + "x" * 32


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


def _service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    env.update(
        PREVIEW_JWT_SECRET=_SECRET,
        PREVIEW_DATA_DIR=str(data_dir / "data"),
        XDG_STATE_HOME=str(data_dir / "state"),
        PYTHONPATH=str(ROOT),
    )
    return env


def _until_ready(process: subprocess.Popen[str], marker: str) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if marker in line:
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"never printed {marker!r}")


def _stopped(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def idle_modules() -> list[str]:
    """The modules an idle ``preview serve`` has imported by being ready."""
    with tempfile.TemporaryDirectory(prefix="idlefloor-") as tmp:
        imports = Path(tmp) / "imports.txt"
        with imports.open("w") as stderr:
            process = subprocess.Popen(
                [PYTHON, "-X", "importtime", "-m", "preview", "serve", "--bind", "127.0.0.1:0"],
                cwd=tmp,
                env=_service_env(Path(tmp)),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            try:
                _until_ready(process, "Preview service ready: ")
            finally:
                _stopped(process)
        found = re.findall(r"^import time:.*\|\s*([\w.]+)$", imports.read_text(), re.M)
    return [name for name in dict.fromkeys(found) if name != "__main__"]


def _idle_rss(argv: list[str], cwd: Path, env: dict[str, str], marker: str) -> int:
    """kB of RSS of ``argv`` ``_SETTLE_S`` after it printed ``marker``; it is stopped."""
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        _until_ready(process, marker)
        time.sleep(_SETTLE_S)
        return _rss_kb(process.pid)
    finally:
        _stopped(process)


def _service(tmp: Path) -> int:
    argv = [PYTHON, "-m", "preview", "serve", "--bind", "127.0.0.1:0"]
    return _idle_rss(argv, tmp, _service_env(tmp), "Preview service ready: ")


def _stack(tmp: Path, modules: list[str]) -> int:
    listing = tmp / "modules.txt"
    listing.write_text("\n".join(modules))
    hello = Path(__file__).with_name("stackhello.py")
    argv = [PYTHON, str(hello), str(tmp / "hello.db"), str(listing)]
    return _idle_rss(argv, tmp, {**os.environ, "PYTHONPATH": str(ROOT)}, "stack hello ready")


def _peer() -> int:
    with BaselineServer() as peer:
        wait_for_port(peer.port, 30, peer.process)
        time.sleep(_SETTLE_S)
        return _rss_kb(peer.pid)


def measure(runs: int) -> dict[str, list[int]]:
    """kB of RSS per layer (see the module doc), ``runs`` alternating runs each."""
    modules = idle_modules()
    libraries = [name for name in modules if name.split(".")[0] != "preview"]
    layers: dict[str, list[int]] = {
        "peer": [],
        "stack": [],
        "libraries": [],
        "modules": [],
        "service": [],
    }
    for _ in range(runs):
        layers["peer"].append(_peer())
        for name, wanted in (("stack", []), ("libraries", libraries), ("modules", modules)):
            with tempfile.TemporaryDirectory(prefix="idlefloor-") as tmp:
                layers[name].append(_stack(Path(tmp), wanted))
        with tempfile.TemporaryDirectory(prefix="idlefloor-") as tmp:
            layers["service"].append(_service(Path(tmp)))
    return layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    free_port()  # the harness's own check that loopback works
    layers = measure(args.runs)
    print("| layer | RSS, kB (each run) | MiB (lowest) | over the layer before |")
    print("|---|---|---|---|")
    before = None
    for name, values in layers.items():
        low = min(values)
        over = "" if before is None or name == "stack" else f"+{(low - before) / 1024:.1f} MiB"
        print(f"| {name} | {', '.join(f'{v:,}' for v in values)} | {low / 1024:.1f} | {over} |")
        before = low


if __name__ == "__main__":
    main()
