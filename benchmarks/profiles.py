"""``python -m benchmarks.profiles [raw files]``: summarise py-spy raw profiles as markdown.

Defaults to every ``benchmarks/profiles/*.txt`` (written by ``python -m benchmarks
--profile``). Shares are of the busy samples (threads waiting in epoll or idle worker
threads are counted apart); "self" is the function on top of the stack (time in C code
it called is its own), "inclusive" is every sample the function is on the stack.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .harness import BENCH_DIR, summarise_profile


def render(path: Path, top: int = 20) -> str:
    summary = summarise_profile(path, top)
    busy, idle = summary["samples"], summary["idle_samples"]
    lines = [f"### {path.stem}", "", f"{busy} busy samples ({idle} idle left out)", ""]
    lines += ["| self % | function | | inclusive % | function |", "| --: | --- | --- | --: | --- |"]
    for mine, all_of in zip(summary["self"], summary["inclusive"], strict=False):
        lines.append(f"| {mine[1]} | `{mine[0]}` | | {all_of[1]} | `{all_of[0]}` |")
    packages = ", ".join(f"{name} {share}%" for name, share in summary["packages"][:12])
    lines += ["", f"self time per package: {packages}", ""]
    return "\n".join(lines)


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or sorted((BENCH_DIR / "profiles").glob("*.txt"))
    for path in paths:
        print(render(path))


if __name__ == "__main__":
    main()
