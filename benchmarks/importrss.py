"""What each module an idle ``preview serve`` imports adds to its RSS (issue 70).

``python -m benchmarks.importrss [--top 40] [--depth 2]``: starts ``python -m preview
serve`` on a new data dir with an import hook that, like ``-X importtime`` for time,
records the RSS each module's own import added (``VmRSS`` after its body ran minus
before, less what the imports nested in it added), then prints the sum per package
(``--depth`` names of ``preview`` and ``sqlalchemy``, the top-level name of the others)
and the RSS 2 s after "Preview service ready".

The figures are first-touch costs and do not add up to what removing a module gives
back: memory a module's import freed is reused by the next, so a module's cost moves
to the one after it, and an RSS page is touched once (``benchmarks/HISTORY.md``, issue
70: Pygments, 1.2 MiB when imported alone, gave back 0.44 MiB of Python objects and no
RSS within the noise). Use it to find candidates; measure a change with ``idlefloor``.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import PYTHON, ROOT

__all__ = ["main"]

_SECRET = "import-rss-secret-" + "x" * 32
# Run in the server's process before ``preview``: the hook, then ``python -m preview``.
_HOOK = r"""
import importlib._bootstrap as bootstrap, os, runpy, sys, threading

def rss():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS'):
                return int(line.split()[1])

load, nested, own = bootstrap._load_unlocked, [], {}

def measured(spec):
    before = rss()
    nested.append(0)
    try:
        return load(spec)
    finally:
        inner, total = nested.pop(), rss() - before
        own[spec.name] = own.get(spec.name, 0) + total - inner
        if nested:
            nested[-1] += total

bootstrap._load_unlocked = measured
ready = threading.Event()

def report():
    ready.wait()
    import time
    time.sleep(2.0)
    with open(os.environ['IMPORT_RSS_OUT'], 'w') as out:
        out.write(f'{rss()} ready\n')
        out.writelines(f'{kb} {name}\n' for name, kb in own.items())
    os.kill(os.getpid(), 2)

class Marker:
    def write(self, text):
        if 'Preview service ready' in text:
            ready.set()
        return sys.__stdout__.write(text)
    def flush(self):
        sys.__stdout__.flush()

sys.stdout = Marker()
threading.Thread(target=report, daemon=True).start()
sys.argv = ['preview', 'serve', '--bind', '127.0.0.1:0']
runpy.run_module('preview', run_name='__main__', alter_sys=True)
"""


def measure() -> tuple[int, dict[str, int]]:
    """(kB of RSS 2 s after ready, kB each module's own import added)."""
    with tempfile.TemporaryDirectory(prefix="importrss-") as tmp:
        out = Path(tmp) / "rss.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
        env.update(
            PREVIEW_JWT_SECRET=_SECRET,
            PREVIEW_DATA_DIR=f"{tmp}/data",
            XDG_STATE_HOME=f"{tmp}/state",
            PYTHONPATH=str(ROOT),
            IMPORT_RSS_OUT=str(out),
        )
        subprocess.run(
            [PYTHON, "-c", _HOOK], cwd=tmp, env=env, stdout=subprocess.DEVNULL, timeout=180
        )
        lines = out.read_text().splitlines()
    ready = int(lines[0].split()[0])
    return ready, {name: int(kb) for kb, name in (line.split() for line in lines[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--depth", type=int, default=2)
    args = parser.parse_args()
    ready, own = measure()
    groups: collections.Counter[str] = collections.Counter()
    for name, kb in own.items():
        parts = name.split(".")
        deep = parts[0] in ("preview", "sqlalchemy")
        groups[".".join(parts[: args.depth] if deep else parts[:1])] += kb
    print(
        f"RSS 2 s after ready: {ready:,} kB; {len(own)} modules imported, {sum(own.values()):,} kB"
    )
    print("| kB | package |\n|--:|---|")
    for name, kb in groups.most_common(args.top):
        print(f"| {kb:,} | {name} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
