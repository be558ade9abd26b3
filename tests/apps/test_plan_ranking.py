"""The plans an upload declares, read from its files (``preview.apps.plans``): one test
per rule, each naming the shape that motivated it. Nothing runs here."""

from __future__ import annotations

import json

from preview.apps.detect import detect
from preview.apps.plans import declared_starts, dockerfile_facts, readme_scripts
from preview.apps.plans.pyplans import readme_starts
from preview.builds import PlanTries

from ..launching import app_files


def _node(scripts: dict[str, str], **more: str) -> dict[str, bytes]:
    package = {"name": "fixture", "scripts": scripts, "dependencies": {"express": "^4"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b"", "src/app.js": b""}
    return files | {path: text.encode() for path, text in more.items()}


def test_the_dockerfiles_last_stage_start_is_read_with_its_facts() -> None:
    # A multi-stage Node Dockerfile: the builder's RUN npm run build, the runner's ENV,
    # EXPOSE and exec-form CMD; an entrypoint script (docker-entrypoint.sh) stands aside.
    dockerfile = (
        'FROM node:20 AS build\nRUN npm ci && \\\n    npm run build\nCMD ["npm", "test"]\n'
        "FROM node:20-slim\nENV NODE_ENV=production PORT=8080\nEXPOSE 8080\n"
        'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node", "dist/main.js"]\n'
    )
    facts = dockerfile_facts({"Dockerfile": dockerfile.encode()})
    assert facts is not None
    assert facts.start == "node dist/main.js"
    assert facts.runs == ("npm ci && npm run build",)
    assert facts.env == {"NODE_ENV": "production", "PORT": "8080"}
    assert facts.exposed == (8080,)


def test_a_shell_form_cmd_is_its_text_as_the_shell_runs_it() -> None:
    """Docker runs a shell-form CMD as ``/bin/sh -c <text>``: split into words and joined
    again, its ``$PORT`` came back quoted, never expanded, its ``&&`` an argument, and an
    assignment of a quoted value a command ("not found", exit 127)."""

    def start(dockerfile: str) -> str | None:
        facts = dockerfile_facts({"Dockerfile": dockerfile.encode()})
        return facts.start if facts is not None else None

    assert start("FROM node\nCMD node server.js --port $PORT\n") == "node server.js --port $PORT"
    assert start('FROM node\nCMD OPTS="--require x" \\\n    npm start\n') == (
        'OPTS="--require x" npm start'
    )
    assert start("FROM node\nCMD npm run migrate && npm start\n") == (
        "npm run migrate && npm start"
    )
    # A shell-form ENTRYPOINT alone runs (Docker ignores CMD then); an entrypoint script
    # stands aside for CMD, in either form.
    assert start('FROM node\nENTRYPOINT node server.js\nCMD ["x"]\n') == "node server.js"
    assert start("FROM node\nENTRYPOINT ./docker-entrypoint.sh\nCMD npm start\n") == "npm start"
    assert start('FROM node\nENTRYPOINT ["npm"]\nCMD ["run", "serve"]\n') == "npm run serve"


def test_platform_files_are_read_in_the_order_their_providers_read_them() -> None:
    # Railway/Nixpacks apps declare their start in nixpacks.toml or railway.json, Render's
    # in render.yaml, Fly's in fly.toml; a compose file's app service (built from the
    # upload) its command, its worker's not.
    files = {
        "nixpacks.toml": b'[start]\ncmd = "npm run serve"\n',
        "railway.json": b'{"deploy": {"startCommand": "node server.js"}}',
        "render.yaml": b"services:\n  - type: web\n    startCommand: npm run start:prod\n",
        "fly.toml": b'[processes]\napp = "node app.js"\n',
        "docker-compose.yml": (
            b"services:\n  worker:\n    build: .\n    command: node worker.js\n"
            b"  api:\n    build: .\n    command: npm run dev\n"
        ),
    }
    assert [(d.command, d.origin) for d in declared_starts(files)] == [
        ("npm run serve", "nixpacks.toml's start.cmd"),
        ("node server.js", "railway.json's deploy.startCommand"),
        ("npm run start:prod", "render.yaml's startCommand"),
        ("node app.js", "fly.toml's processes.app"),
        ("npm run dev", "docker-compose.yml's service api command"),
    ]


def test_a_vercel_node_build_that_serves_itself_is_a_declared_start() -> None:
    """FM-Akib's hono-neon-postgres-2: its dev script's ``wrangler dev`` names a module
    absent from the upload; vercel.json builds ``api/index.ts``, which calls
    ``serve(app)``: a start. A function that only exports its handler is none."""
    vercel = (
        b'{"version": 2, "builds": [{"src": "api/index.ts", "use": "@vercel/node"},'
        b' {"src": "api/hook.js", "use": "@vercel/node"},'
        b' {"src": "app.py", "use": "@vercel/python"}]}'
    )
    files = {
        "vercel.json": vercel,
        "api/index.ts": b"import { serve } from '@hono/node-server'\nserve(app)\n",
        "api/hook.js": b"module.exports = (req, res) => res.end('ok')\n",
        "app.py": b"app.listen()\n",
    }
    assert [(d.command, d.origin) for d in declared_starts(files)] == [
        ("tsx api/index.ts", "vercel.json's build")
    ]
    assert declared_starts({"vercel.json": b"not json"}) == []


def test_a_declared_npm_command_npm_does_not_have_is_no_plan() -> None:
    """Leonardo190319's express-tareas: its Dockerfile's ``CMD ["npm", "index"]`` was a
    second plan, which npm refused ("Unknown command: "index"") and whose failure was the
    one told, not its first plan's cause. npm's own commands stay plans."""
    files = {"Dockerfile": b'FROM node:20\nCMD ["npm", "index"]\n'}
    assert declared_starts(files) == []
    files["Dockerfile"] = b'FROM node:20\nCMD ["npm", "run", "serve"]\n'
    assert [d.command for d in declared_starts(files)] == ["npm run serve"]


def test_a_built_start_after_a_source_start_gets_the_build_back() -> None:
    """gn4r4's typeorm-express-typescript: its ORM loads src/orm/entities/**/*.ts, so its
    first plan is the dev script (no build); plan 2, ``npm start`` (node
    ./dist/index.js), had no build either: "Cannot find module 'dist/index.js'"; plan 3
    was a README's ``npm run docker:dev`` (docker-compose: not found)."""
    scripts = {
        "dev": "ts-node-dev --respawn ./src/index.ts",
        "build": "rimraf dist && tsc",
        "start": "cross-env NODE_PATH=./dist node ./dist/index.js",
        "docker:dev": "docker-compose --file docker-compose.yml up --build",
    }
    package = {"scripts": scripts, "dependencies": {"express": "^4", "typeorm": "^0.2"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b"{}",
        "src/index.ts": b"",
        "src/orm/config/ormconfig.ts": b"export default { entities: ['src/orm/entities/*.ts'] };",
        "src/orm/entities/User.ts": b"",
        "README.md": b"```sh\nnpm run docker:dev\n```\n",
    }
    plans = detect(files).plans
    assert [p.command for p in plans] == ["tsx ./src/index.ts", "npm start"]  # dev's, once
    assert plans[0].setup == () and plans[1].setup == (("npm", "run", "build"),)
    assert plans[1].setup_from == ("package.json script build",)


def test_a_compose_service_kept_idle_or_running_tests_is_no_start() -> None:
    """gn4r4's typeorm-express-typescript: its compose file's be_boilerplate_test service
    runs ``sh -c "echo 'Test container ready' && tail -f /dev/null"``, which became plan 3
    (never listening: a start-up timeout)."""
    compose = (
        b"services:\n  be_boilerplate_test:\n    build: .\n"
        b"    command: sh -c \"echo 'Test container ready' && tail -f /dev/null\"\n"
        b"  e2e:\n    build: .\n    command: npm run serve\n"
        b"  idle:\n    build: .\n    command: tail -f /dev/null\n"
        b"  api:\n    build: .\n    command: node dist/index.js\n"
    )
    found = declared_starts({"docker-compose.yml": compose})
    assert [d.command for d in found] == ["node dist/index.js"]


def test_the_readme_names_scripts_as_hints_installs_and_tests_left_out() -> None:
    # A README's "Getting started": npm install, npm run dev, npm test; a seed is a task.
    readme = b"## Getting started\n```sh\nnpm install\nnpm run dev\nnpm test\n$ yarn seed\n```\n"
    assert readme_scripts({"README.md": readme}) == ["dev"]
    # Nor a task's undoing (hdinjos's express-todos: "npm run unmigrate" drops its table).
    undo = b"`npm run dev`\n`npm run migrate`\n`npm run unmigrate`\n`npm run unseed`\n"
    assert readme_scripts({"README.md": undo}) == ["dev"]


def test_a_script_the_readme_names_for_a_task_is_no_start() -> None:
    """A NestJS books API (nathan-oliveira's) whose README says ``npm run
    migration:create`` and ``npm run migration:run``: its third plan was the first, which
    exits asking for a migration's name."""
    readme = (
        "## Migrations\n```sh\nnpm run migration:create\nnpm run migration:run\n"
        "npm run db:seed\nyarn typeorm schema:sync\nnpm run start:dev\n```\n"
    )
    scripts = {
        "build": "nest build",
        "start": "nest start",
        "start:dev": "nest start --watch",
        "migration:create": "node ./src/database/create.migrations.ts",
        "migration:run": "typeorm migration:run",
        "db:seed": "node seed.js",
    }
    files = _node(scripts, **{"README.md": readme})
    assert readme_scripts(files) == ["start:dev"]
    assert not any("migration" in p.command or "seed" in p.command for p in detect(files).plans)


def test_a_script_that_manages_a_running_server_is_no_start() -> None:
    """A small Express app of the training set (express-knex-mysql-minimal): ``"start":
    "pm2 start index.js"``, ``"stop": "pm2 stop all"``, a README saying ``npm run dev``
    then ``npm run stop``: stop was its last plan. The start runs in the foreground."""
    readme = "```sh\nnpm run dev\nnpm run stop\nnpm run logs\nnpm run restart\n```\n"
    scripts = {
        "dev": "nodemon index.js",
        "start": "pm2 start index.js",
        "stop": "pm2 stop all",
        "logs": "pm2 logs",
        "restart": "pm2 restart all",
    }
    files = _node(scripts, **{"README.md": readme, "index.js": "require('express')"})
    assert readme_scripts(files) == ["dev"]
    plans = detect(files).plans
    assert not any(word in p.command for p in plans for word in ("stop", "logs", "restart"))
    assert plans[0].argv[-1].endswith("; node index.js"), plans[0]


def test_a_script_that_only_compiles_is_no_start_whatever_its_name() -> None:
    """undo-works' AutoCrypto-Hono: its README (a CDK project's) lists ``npm run watch``,
    ``tsc -w``; that was its plan 2 after a start that never served, and it ran out of
    memory compiling while its dev script, ``tsx watch src/local.ts``, serves."""
    readme = "## Useful commands\n\n* `npm run build`   compile\n* `npm run watch`   watch\n"
    scripts = {
        "dev": "tsx watch src/local.ts",
        "start": "tsx src/start.ts",
        "build": "tsc",
        "watch": "tsc -w",
        "bundle": "npm run watch",
    }
    files = _node(scripts, **{"README.md": readme, "src/local.ts": "", "src/start.ts": ""})
    assert [p.command for p in detect(files).plans] == ["npm start", "npm run dev"]
    # a compiler followed by what runs its output serves
    scripts["watch"] = "tsc && node dist/local.js"
    assert "npm run watch" in [
        p.command for p in detect(_node(scripts, **{"README.md": readme})).plans
    ]


def test_a_built_start_is_followed_by_the_dev_script_without_the_build() -> None:
    # The Express-TS app whose tsc output could not run (ERR_UNSUPPORTED_DIR_IMPORT):
    # plan 2 is its dev script run from source, its watcher off, with no build.
    files = _node({"build": "tsc", "start": "node dist/index.js", "dev": "tsx watch src/index.ts"})
    plans = detect(files).plans
    assert [p.command for p in plans] == ["npm start", "npm run dev"]
    assert plans[0].setup == (("npm", "run", "build"),) and plans[1].setup == ()
    assert plans[1].argv[-1].endswith("tsx src/index.ts")
    # The build adds the tsx it runs, and the TypeScript the first plan's tsc runs (one
    # install serves every plan; the app lists neither).
    assert plans[1].tools == ("typescript@^5", "tsx@^4")


def test_a_dev_plan_whose_nodemon_runs_a_lint_first_runs_the_app_alone() -> None:
    """unfetteredman2020's koa-service: its plan after the build's runs ``nodemon --exec
    "yarn lint && ts-node --files src/main.ts"``: the lint before every start, and yarn
    not here ("exec not found"). The plan runs what nodemon execs without the check."""
    dev = 'nodemon --ext js,ts --exec "yarn lint && ts-node --files src/index.ts"'
    files = _node(
        {"build": "tsc", "start": "node dist/index.js", "lint": "eslint src/", "dev": dev}
    )
    plans = detect(files).plans
    plan = next(p for p in plans if p.command == "npm run dev")
    assert "lint" not in plan.argv[-1] and plan.argv[-1].endswith("--files src/index.ts")
    assert any("without its checks" in note for note in plan.notes), plan.notes


def test_a_start_that_builds_first_is_followed_by_the_dev_script_without_the_build() -> None:
    # HernanAguilera's express-tasks-api: ``npm run build && node --env-file=.env
    # dist/index.js``, whose esbuild bundle fails; its README's ``npm run dev`` runs
    # ts-node on its sources, and waited on that build all the same.
    files = _node(
        {
            "build": "esbuild src/index.ts --bundle --platform=node --outfile=dist/index.js",
            "start": "npm run build && node --env-file=.env dist/index.js",
            "dev": "nodemon -r dotenv/config --exec ts-node src/index.ts",
        },
        **{"README.md": "Run the application\n\n```bash\nnpm run dev\n```\n"},
    )
    plans = detect(files).plans
    assert plans[0].setup  # the start's own build, first
    dev = next(p for p in plans if p.command == "npm run dev")
    assert dev.setup == (), dev.describe()


def test_the_same_start_declared_twice_is_one_plan_with_both_origins() -> None:
    # A Dockerfile whose CMD is `npm start` and a README that says `npm start`: one plan.
    files = _node(
        {"start": "node src/app.js", "dev": "tsx watch src/index.ts"},
        **{"Dockerfile": 'FROM node:20\nCMD ["npm", "start"]\n', "README.md": "run `npm start`"},
    )
    plans = detect(files).plans
    assert [p.command for p in plans] == ["npm start", "npm run dev"]
    assert plans[0].origin == "package.json script start, named in the README"


def test_a_declared_command_that_is_no_script_is_a_plan_of_its_own() -> None:
    # A Dockerfile's CMD running the built entry where package.json's start runs a dev
    # server: the Dockerfile's start ranks before the package's other scripts.
    files = _node(
        {"build": "tsc", "start": "ts-node src/index.ts", "serve": "node dist/serve.js"},
        Dockerfile='FROM node:20\nCMD ["node", "dist/index.js"]\n',
    )
    plans = detect(files).plans
    assert [(p.command, p.origin) for p in plans][1] == (
        "node dist/index.js",
        "the Dockerfile's CMD",
    )
    assert plans[1].setup == (("npm", "run", "build"),)  # it runs what the build writes
    assert len(plans) == 3


def test_a_seed_and_a_build_the_start_does_not_run_are_optional() -> None:
    # `"start": "babel-node src/server.js"` with a babel build nothing runs; a seed.
    files = _node(
        {"build": "babel src -d dist", "start": "babel-node src/app.js", "seed": "node seed.js"},
    )
    files["package.json"] = files["package.json"].replace(
        b'"express"', b'"sqlite3": "^5", "express"'
    )
    files["package.json"] = files["package.json"].replace(
        b'"seed"', b'"db:init": "node init.js", "seed"'
    )
    found = detect(files)
    assert ("npm", "run", "build") in found.optional
    assert ("npm", "run", "seed") in found.optional
    assert ("npm", "run", "db:init") not in found.optional


def test_a_revision_starts_with_the_plan_in_force_where_it_declares_it() -> None:
    # A revision of the app running on its dev script: its detection starts there too.
    files = _node({"build": "tsc", "start": "node dist/index.js", "dev": "tsx watch src/index.ts"})
    running = detect(files).with_plan(1)
    revised = detect({**files, "src/index.ts": b"// changed"})
    planned, said = PlanTries.applied(revised, running)
    assert planned.plan == 1 and planned.argv == running.argv
    assert said == "with the plan in force: plan 2 of 2: `npm run dev` (package.json script dev)"
    assert PlanTries.applied(revised, detect(files)) == (revised, None)


def test_a_python_app_has_one_plan_its_seed_optional() -> None:
    # A Flask app whose `flask seed` command fails on a fresh database.
    app = (
        b"from flask import Flask\nimport click\napp = Flask(__name__)\n"
        b"@app.cli.command('seed')\ndef seed():\n    pass\n"
    )
    found = detect({"app.py": app, "requirements.txt": b"flask\n"})
    assert len(found.plans) == 1
    seeds = [step for step in found.setup if "seed" in " ".join(step)]
    assert seeds and all(step in found.optional for step in seeds)


def test_a_plan_running_typescript_this_node_refuses_runs_it_as_the_first_plan_does() -> None:
    """DmitriyMolochkov's koa-boilerplate (an ES module project): start ``ts-node
    src/index.ts`` runs through ts-node's loader given to node (plan 1), but its Dockerfile's
    ``npm run deploy`` (``ts-node --swc src/index.ts``) and ``npm start`` were tried after
    it as they are, each failing on ERR_UNKNOWN_FILE_EXTENSION: now one plan, theirs too."""
    files = {p: t.encode() for p, t in app_files("node_esm_ts_node_plans").items()}
    found = detect(files)
    loader = "TS_NODE_TRANSPILE_ONLY=true node --loader ts-node/esm src/index.ts"
    assert [p.command for p in found.plans] == [loader], found.plans


def test_a_declared_start_installing_its_dependencies_first_starts_only() -> None:
    """knockinthecave's fastify-ts-api: its compose service runs ``sh -c "npm install &&
    npx ts-node src/server.ts"``; the install, in the preview, was killed at its memory
    limit. The service installs the dependencies: the start runs alone. A tool's install
    (``npm install -g nodemon``) is the start's own."""
    compose = (
        b"services:\n  api:\n    build: .\n"
        b'    command: sh -c "npm install && npx ts-node src/server.ts"\n'
    )
    found = declared_starts({"docker-compose.yml": compose})
    assert [(d.command, d.origin) for d in found] == [
        ("npx ts-node src/server.ts", "docker-compose.yml's service api command")
    ]
    # The Dockerfile's CMD the same: one plan, not two.
    docker = b'FROM node\nCMD ["npx", "ts-node", "src/server.ts"]\n'
    both = declared_starts({"docker-compose.yml": compose, "Dockerfile": docker})
    assert [d.origin for d in both] == ["the Dockerfile's CMD"]
    plain = b"services:\n  api:\n    build: .\n    command: npm ci --omit=dev && npm start\n"
    assert [d.command for d in declared_starts({"docker-compose.yml": plain})] == ["npm start"]
    tool = b"services:\n  api:\n    build: .\n    command: npm install -g nodemon && nodemon x\n"
    found = declared_starts({"docker-compose.yml": tool})
    assert [d.command for d in found] == ["npm install -g nodemon && nodemon x"]
    twice = b'FROM node\nCMD ["sh", "-c", "yarn; yarn install --frozen-lockfile && yarn start"]\n'
    assert [d.command for d in declared_starts({"Dockerfile": twice})] == ["yarn start"]


def _script_state_app() -> dict[str, bytes]:
    return {p: t.encode() for p, t in app_files("flask_main_script_state").items()}


def test_a_script_whose_main_block_sets_the_app_up_is_the_first_plan() -> None:
    """bmlrb2xh's simple-flask-backend-api: ``main.py`` imports the app from
    ``app/api/app.py`` and, under ``if __name__ == "__main__":``, sets the state its
    routes read (``state.engine = create_engine(…)``) before ``werkzeug.run_simple``.
    Served as an object, no route had it: its author's script is the first plan, the
    object (imported from the root: ``app/api/app.py`` imports ``app.routers``) the next."""
    files = _script_state_app()
    found = detect(files)
    assert found.argv == ("{python}", "main.py") and found.plan == 0
    assert [plan.command for plan in found.plans] == [
        "python main.py",
        "python -m gunicorn.app.wsgiapp --bind 127.0.0.1:{port} --workers 1 --threads 4 "
        "app.api.app:app",
    ]
    assert found.plans[0].origin == (
        "main.py's __main__ block, which starts its server after setting the app up"
    )
    assert any("state.greeting = {'text'" in note for note in found.notes), found.notes
    # A block that only starts the server: the object first, the script after it.
    bare = files["main.py"].replace(b"    state.greeting = {'text': 'set up by main.py'}\n", b"")
    bare = bare.replace(b'    state.greeting = {"text": "set up by main.py"}\n', b"")
    plain = detect({**files, "main.py": bare})
    assert plain.argv[-1] == "app.api.app:app"
    assert [plan.command for plan in plain.plans][1:] == ["python main.py"]
    assert plain.plans[1].origin == "main.py's __main__ block, which starts its server"


def test_the_served_modules_own_bare_main_block_is_no_plan() -> None:
    # `app.run()` under its own __main__: the very object the first plan serves.
    app = b"from flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n"
    found = detect({"app.py": app + b"    app.run(debug=True)\n", "requirements.txt": b"flask\n"})
    assert len(found.plans) == 1
    # An event loop's run or a CLI's is no server: no plan either.
    other = b"import asyncio\n\nif __name__ == '__main__':\n    asyncio.run(main())\n"
    files = {"app.py": app + b"    pass\n", "tool.py": other, "requirements.txt": b"flask\n"}
    found = detect(files)
    assert len(found.plans) == 1


def test_a_python_apps_declared_starts_are_its_next_plans() -> None:
    """The Python starts a Dockerfile's CMD and a compose service's command declare are
    what a deployment runs: each a later plan, run as a Procfile's web line is (one worker,
    no reloader), the Dockerfile's in the folder it copies as the app; one naming a path
    of the image's own, or a command that is not Python's, is none."""
    app = b"from fastapi import FastAPI\napp = FastAPI()\n"
    files = {
        "requirements.txt": b"fastapi\nuvicorn\n",
        "src/main.py": app,
        "src/server.py": b"from main import app\n",
        "Dockerfile": (
            b"FROM python:3.12\nWORKDIR /code\nCOPY src/ .\n"
            b'CMD ["uvicorn", "server:app", "--host", "0.0.0.0", "--port", "80", "--reload"]\n'
        ),
        "docker-compose.yml": (
            b"services:\n  api:\n    build: .\n"
            b"    command: gunicorn -w 4 -k uvicorn.workers.UvicornWorker server:app\n"
        ),
    }
    found = detect(files)
    assert [(plan.command, plan.origin) for plan in found.plans[1:]] == [
        ("cd src && uvicorn server:app --host 0.0.0.0 --port 80", "the Dockerfile's CMD"),
        (
            "gunicorn -w 1 -k uvicorn.workers.UvicornWorker server:app",
            "docker-compose.yml's service api command",
        ),
    ]
    assert found.plans[1].argv[-3:] == ("sh", "-c", "uvicorn server:app --host 0.0.0.0 --port 80")
    assert found.plans[1].setup == found.plans[0].setup
    image = files["Dockerfile"].replace(b'"server:app"', b'"server:app", "--app-dir", "/code"')
    compose = b"services:\n  api:\n    build: .\n    command: ./start.sh\n"
    alone = detect({**files, "Dockerfile": image, "docker-compose.yml": compose})
    assert len(alone.plans) == 1


def test_a_python_apps_readme_server_commands_are_plans_after_its_declared_ones() -> None:
    """A README's server commands (``uvicorn app.main:app --reload`` in a fenced block,
    ``flask --app app run`` in backquotes) are a human's account of the start: plans after
    the deployment files', without their reloader; its install steps, its migrations and
    a word in prose are none."""
    readme = (
        b"# Notes API\n\n```bash\npip install -r requirements.txt\npython manage.py migrate\n"
        b"$ uvicorn app.main:app --reload  # development\n```\n\n"
        b"Or `flask --app app run --debug`. uvicorn is fast.\n"
    )
    starts = readme_starts({"README.md": readme})
    assert [(d.command, d.origin) for d in starts] == [
        ("uvicorn app.main:app --reload", "the README.md's run command"),
        ("flask --app app run --debug", "the README.md's run command"),
    ]
    files = {
        "requirements.txt": b"fastapi\nuvicorn\n",
        "app/__init__.py": b"",
        "app/main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "README.md": readme,
    }
    found = detect(files)
    assert [plan.command for plan in found.plans[1:]] == ["flask --app app run --debug"]
    assert found.plans[0].argv[-1] == "app.main:app" or "app.main:app" in found.plans[0].command


def test_a_later_plan_gets_the_global_tool_its_own_start_calls() -> None:
    """JannickOste's express-learning-project: its start runs its build's output, its
    ``"dev": "ts-node ./src/App.ts"`` (ts-node its author's global one, not listed) the
    second plan: "ts-node: not found", exit 127. A later plan gets the tools its own start
    calls that the app does not list; not one it lists."""
    scripts = {"build": "tsc", "start": "node ./bin/App.js", "dev": "ts-node ./src/App.ts"}
    files = _node(scripts, **{"src/App.ts": "import express from 'express'\n"})
    plans = detect(files).plans
    dev = next(p for p in plans if "dev" in p.origin)
    assert any(t.startswith("ts-node@") for t in dev.tools), dev.tools
    assert not any(t.startswith("ts-node@") for t in plans[0].tools), plans[0].tools
    package = json.loads(files["package.json"])
    package["devDependencies"] = {"ts-node": "^10", "typescript": "^5"}
    files["package.json"] = json.dumps(package).encode()
    dev = next(p for p in detect(files).plans if "dev" in p.origin)
    assert not any(t.startswith("ts-node@") for t in dev.tools), dev.tools


def test_an_example_that_listens_is_a_plan_before_an_unusual_script_the_readme_runs() -> None:
    """llevintza's aws-fastify-prometheus, a Fastify plugin: its build's output and its dev
    script serve nothing (a plugin exports itself), and its third plan was the README's
    `npm run security:analyze`, an audit; examples/basic.ts serves the plugin on an app.
    The simplest example by its name first."""
    package = {
        "main": "dist/index.js",
        "scripts": {
            "build": "tsc",
            "dev": "ts-node src/index.ts",
            "security:analyze": "./scripts/security-check.sh",
        },
        "dependencies": {"fastify": "^5"},
        "devDependencies": {"typescript": "^5", "ts-node": "^10"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "README.md": b"```\nnpm run dev\nnpm run security:analyze\n```\n",
        "src/index.ts": b"export default function plugin() {}\n",
        "examples/advanced.ts": b"const app = Fastify();\nawait app.listen({ port: 3000 });\n",
        "examples/basic.ts": b"const app = Fastify();\nawait app.listen({ port: 3000 });\n",
        "examples/types.d.ts": b"declare const x: number;\n",
    }
    plans = detect(files).plans
    assert plans[-1].command == "tsx examples/basic.ts", [p.command for p in plans]
    assert plans[-1].origin == "examples/basic.ts, an example of its own that listens"
    assert "tsx@^4" in plans[-1].tools
    # No example listens: the README's script keeps its place.
    quiet = {k: v for k, v in files.items() if not k.startswith("examples/")}
    assert detect(quiet).plans[-1].command == "npm run security:analyze"
