"""Scenario reloadts: a revision changing one source file of a TypeScript app, applied to
its running preview (issue 68: "live in ≤ 2 s + the app's own start-up"), beside the
app's own start.

The app: Express in TypeScript built by ``tsc`` (its ``build`` script; ``start`` runs
``node dist/index.js``), its routes in :data:`MODULES` modules of their own, as a
generated backend's are. Two ways it comes to answer, each timed from the call that asks
for it to its first answer, in rounds whose order alternates (after one unmeasured
warm-up of each):

* bare: in a folder where ``npm install`` and ``npm run build`` ran once, ``node
  dist/index.js`` spawned → its first 200 at ``/health`` (the app's own start-up);
* swap: a revision of ``src/rev.ts`` (one file; ``GET /rev`` answers its number)
  ``POST``ed to the running preview (the service's defaults: sandboxed where the machine
  allows, its build as TypeScript's emit) → the new code's first answer through the
  proxy, with the apply's step timings (where its time went).

Reported: both medians, the swap less the bare start (the issue's bound: 2,000 ms) and
``uptime``'s load before and after. The first launch installs Express and TypeScript
from the registry (not timed).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..harness import ServiceServer, free_port, free_port_block, log
from .launch import first_answer_ms
from .reload import Preview, figures, in_rounds, load_average, stats

__all__ = ["run"]

RUNS = 10
MODULES = 30  # route modules besides the entry and the revised one
_PACKAGE = {
    "name": "reload-typescript-bench",
    "version": "1.0.0",
    "private": True,
    "scripts": {"build": "tsc -p tsconfig.json", "start": "node dist/index.js"},
    "dependencies": {"express": "^4.21.2"},
    "devDependencies": {
        "typescript": "~5.6.3",
        "@types/express": "^4.17.21",
        "@types/node": "^20.17.0",
    },
}
_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2020",
        "module": "commonjs",
        "outDir": "dist",
        "rootDir": "src",
        "strict": True,
        "esModuleInterop": True,
        "skipLibCheck": True,
    },
    "include": ["src"],
}
_ROUTE = """import {{ Router }} from "express";

export interface Item{n} {{
  id: number;
  name: string;
  tags: string[];
}}

const items: Item{n}[] = [{{ id: 1, name: "item {n}", tags: ["a", "b"] }}];

export const router{n} = Router();
router{n}.get("/", (_request, response) => {{
  response.json(items);
}});
router{n}.get("/:id", (request, response) => {{
  const found = items.find((item) => item.id === Number(request.params.id));
  if (found === undefined) {{
    response.status(404).json({{ detail: "not found" }});
    return;
  }}
  response.json(found);
}});
"""
_REV = "export const REV: number = {n};\n"


def _entry() -> str:
    imports = "".join(f'import {{ router{n} }} from "./routes/route{n}";\n' for n in range(MODULES))
    mounts = "".join(f'app.use("/r{n}", router{n});\n' for n in range(MODULES))
    return (
        'import express from "express";\nimport { REV } from "./rev";\n'
        + imports
        + "\nconst app = express();\n"
        + 'app.get("/health", (_request, response) => { response.json({ ok: true }); });\n'
        + 'app.get("/rev", (_request, response) => { response.json({ rev: REV }); });\n'
        + mounts
        + 'app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");\n'
    )


def app_files() -> dict[str, str]:
    """The app, less ``src/rev.ts`` (each revision's)."""
    files = {
        "package.json": json.dumps(_PACKAGE, indent=2),
        "tsconfig.json": json.dumps(_TSCONFIG, indent=2),
        "src/index.ts": _entry(),
    }
    files |= {f"src/routes/route{n}.ts": _ROUTE.format(n=n) for n in range(MODULES)}
    return files


def _revised(n: int) -> dict[str, str]:
    return {"src/rev.ts": _REV.format(n=n)}


def _built(workdir: Path) -> Path:
    """The app in ``workdir``, installed and built as its scripts say (untimed)."""
    for path, text in {**app_files(), **_revised(1)}.items():
        target = workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for argv in (["npm", "install", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        subprocess.run(argv, cwd=workdir, check=True, capture_output=True, timeout=600)
    return workdir


def bare_start(workdir: Path, port: int) -> float:
    """``node dist/index.js`` spawned → its first 200 at ``/health`` (ms)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "PORT": str(port)}
    return first_answer_ms(["node", "dist/index.js"], workdir, env, port)


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 3 if quick else RUNS
    workdir = Path(tempfile.mkdtemp(prefix="bare-reloadts-"))
    bare_port = free_port()
    port = free_port_block(4)
    env = {
        "PREVIEW_PORT_MIN": str(port),
        "PREVIEW_PORT_MAX": str(port + 3),
        "PREVIEW_BUILD": "on",  # the service's defaults (the harness's are off)
        "PREVIEW_SANDBOX": "auto",
    }
    try:
        app_dir = _built(workdir / "app")

        def bare() -> float:
            return bare_start(app_dir, bare_port)

        with ServiceServer(extra_env=env) as service:
            log(f"reloadts: first launch (installs from the registry), load {load_average()}")
            preview = Preview(service, app_files(), _revised)
            try:
                bare(), preview.swap()  # warm-up
                before = load_average()
                measured = in_rounds(runs, {"bare": bare, "swap": preview.swap}, "reloadts")
                status = service.http.get(f"/api/generations/{preview.gid}/preview/status")
                isolation = status.json().get("isolation")
            finally:
                preview.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    swaps = [s["new_code_ms"] for s in measured["swap"]]
    over = [s - b for s, b in zip(swaps, measured["bare"], strict=True)]
    return {
        "scenario": "reloadts",
        "runs": runs,
        "modules": MODULES + 2,
        "isolation": isolation,
        "load_average": [before, load_average()],
        "bare_first_200_ms": stats(measured["bare"]),
        **figures(measured["swap"]),
        "swap_less_bare_ms": {
            "of_medians": round(statistics.median(swaps) - statistics.median(measured["bare"])),
            "median_of_rounds": round(statistics.median(over)),
        },
        "bound_ms": 2000,
        "bare_all": [round(x) for x in measured["bare"]],
        "swap_all": [round(x) for x in swaps],
    }
