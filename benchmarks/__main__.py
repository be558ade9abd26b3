"""``python -m benchmarks [scenario ...]``: run the load benchmarks (see benchmarks/README.md).

Without a scenario name, all of them run in order and the results table is written to
benchmarks/results.md (and the raw results to benchmarks/results.json). Each scenario
prints one JSON line of results on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import psutil

from . import report
from .harness import BENCH_DIR, log
from .loadclient import raise_nofile
from .scenarios import (
    api,
    build,
    cluster,
    datainit,
    fanout,
    flood,
    launch,
    many,
    persistence,
    proxy,
    realapps,
    reload,
    reloadts,
    slow,
)

SCENARIOS = {
    "fanout": fanout.run,
    "slow": slow.run,
    "launch": launch.run,
    "proxy": proxy.run,
    "persistence": persistence.run,
    "api": api.run,
    "build": build.run,
    "many": many.run,
    "realapps": realapps.run,
    "flood": flood.run,
    "reload": reload.run,
    "reloadts": reloadts.run,
    "cluster": cluster.run,
    "datainit": datainit.run,
}
README = BENCH_DIR / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="scenario",
        help=f"any of: {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller counts: a smoke test of the suite, not figures to quote",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the service (fan-out M=100, M=1,000 and the idle connect, "
        "persistence, proxy); raw stacks and summaries go to "
        "benchmarks/profiles/; the figures then include the profiler's overhead",
    )
    parser.add_argument(
        "--case",
        nargs="+",
        metavar="CASE",
        help="fan-out cases only: m1, m100, m1000, m100max, m1000max, idle10k; "
        "m10000 (10,000 subscribers at 5 lines/s) runs only when named; cluster's: "
        "throughput, latency, proxy, deaths",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="realapps only: the apps of benchmarks/realapps/manifest.json to run",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        metavar="PATH",
        help="realapps only: another corpus of manifest.json's schema (the held-out set, "
        "benchmarks/realapps/heldout.json); its results go to <stem>-results.json/.md beside it",
    )
    parser.add_argument(
        "--no-cached",
        action="store_true",
        help="realapps only: skip the second (cached) launch of each app",
    )
    parser.add_argument(
        "--app-timeout",
        type=float,
        default=240.0,
        metavar="S",
        help="realapps only: seconds an app may take to reach running or failed, "
        "build included (default 240)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="markdown file for the table (default benchmarks/results.md when "
        "every scenario runs, else none)",
    )
    parser.add_argument(
        "--readme", action="store_true", help="also put the table into benchmarks/README.md"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="run nothing: rebuild the table from a results.json (with --output, --readme)",
    )
    return parser


def _cpu_counters() -> tuple[float, float]:
    """(CPU-s the machine spent busy, CPU-s of this process and every waited descendant)."""
    machine = psutil.cpu_times()
    busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
    own = psutil.Process().cpu_times()
    return busy, own.user + own.system + own.children_user + own.children_system


def _write(text: str, output: Path | None, readme: bool) -> None:
    """The table to ``output`` and, with ``readme``, between the markers of the README."""
    if output is not None:
        output.write_text(text)
        log(f"wrote {output}")
    if readme:
        content = README.read_text()
        block = f"{START}\n{text.split(chr(10), 2)[2].strip()}\n{END}"
        if START in content and END in content:
            content = re.sub(
                re.escape(START) + ".*?" + re.escape(END), lambda _: block, content, flags=re.S
            )
        else:
            content += "\n" + block + "\n"
        README.write_text(content)
        log(f"updated {README}")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    # realapps is a measurement of its own (tens of minutes): only when named.
    names = args.scenarios or [name for name in SCENARIOS if name != "realapps"]
    everything = not args.scenarios
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        text = report.markdown(
            saved["results"],
            saved["machine"],
            saved["command"],
            saved["timer_jitter"],
            sum(r.get("seconds", 0) for r in saved["results"]),
        )
        _write(text, args.output, args.readme)
        if args.output is None and not args.readme:
            print(text)
        return 0
    raise_nofile()
    jitter = report.timer_jitter()
    info = report.machine()
    command = "python -m benchmarks" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    if os.environ.get("PREVIEW_BENCH_POSTGRES_URL"):
        command = f"PREVIEW_BENCH_POSTGRES_URL={os.environ['PREVIEW_BENCH_POSTGRES_URL']} {command}"
    began = time.perf_counter()
    results = []
    for name in names:
        started = time.perf_counter()
        busy_before, ours_before = _cpu_counters()
        log(f"scenario {name}")
        try:
            extra = (
                {
                    "apps": args.only,
                    "cached": not args.no_cached,
                    "app_timeout": args.app_timeout,
                    "manifest": args.manifest,
                }
                if name == "realapps"
                else {}
            )
            result = SCENARIOS[name](
                quick=args.quick, profile=args.profile, only=args.case, **extra
            )
        except Exception as error:  # one broken scenario must not lose the others
            log(f"scenario {name} failed: {error!r}")
            result = {"scenario": name, "error": repr(error)}
        result["seconds"] = round(time.perf_counter() - started, 1)
        busy_after, ours_after = _cpu_counters()
        # CPU that processes other than ours (and their children) used meanwhile: noise.
        result["foreign_cpu_s"] = round(
            max(0.0, (busy_after - busy_before) - (ours_after - ours_before)), 1
        )
        report.print_json_line(result)
        results.append(result)
    seconds = time.perf_counter() - began
    output = args.output or (BENCH_DIR / "results.md" if everything else None)
    text = report.markdown(results, info, command, jitter, seconds)
    if output is not None:
        output.with_suffix(".json").write_text(
            json.dumps(
                {"machine": info, "timer_jitter": jitter, "command": command, "results": results},
                indent=1,
                default=str,
            )
            + "\n"
        )
    _write(text, output, args.readme)
    if not everything and output is None:
        print(text, file=sys.stderr)
    log(f"done in {seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
