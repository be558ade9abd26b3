"""What a sandboxed app finds around it. An app that writes beside its own folder
(``../log/app.log``, as in a container whose ``/`` is root's): inside its sandbox the
folder's parent is a tmpfs of its own, bounded, where it may write, and the service's
folder of previews stays out of its sight and untouched (fastapi-sqlmodel-starter's
loguru sink, ``../log/fast_web/log.txt``, failed its start with EACCES on the read-only
parent). Its own host name resolves, to its loopback, as a container's does (Django
settings' debug-toolbar idiom, ``gethostbyname_ex(gethostname())``, failed EAI_AGAIN in
docker-django-example's). The directories its compose service mounts are there, writable,
the same for its set-up steps and its run (ra-ky's fastapi-sqlite opens
``sqlite:////data/data.db`` in its ``sqlite-data:/data`` volume: "unable to open database
file" on the read-only root). So are the folders of the absolute SQLite files its author's
checkout had, the upload's own where it holds the file (Sunikka's nestjs-photo-service:
"EROFS: read-only file system, mkdir '/home'"), and its own folder where its image holds it
(``WORKDIR /app``)."""

from __future__ import annotations

import json

import trio

from preview import Settings
from preview.sandbox.outbound import HOSTNAME, hosts_text

from ..conftest import SERVER_COMMAND, Service, server_app
from .test_sandbox import require_sandbox

BESIDE_APP = """
import json
os.makedirs("../log/fast_web", exist_ok=True)  # at import, as a logging sink does
with open("../log/fast_web/log.txt", "a") as sink:
    sink.write("started\\n")

class Beside(Handler):
    def do_GET(self):
        if self.path == "/beside":
            here = os.path.basename(os.getcwd())
            body = json.dumps({
                "siblings": sorted(set(os.listdir("..")) - {here}),
                "log": open("../log/fast_web/log.txt").read(),
            }).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
        else:
            super().do_GET()
Handler = Beside
"""


async def test_an_app_writing_beside_its_folder_starts_and_writes_only_its_own(
    service: Service, settings: Settings
) -> None:
    require_sandbox(service)
    with trio.fail_after(60):
        first_gid = await service.upload(server_app(), user="bob")
        first = (await service.launch(first_gid, command=SERVER_COMMAND, user="bob")).json()
        assert first["status"] == "running", first.get("errorMessage")
        gid = await service.upload(server_app(before_serving=BESIDE_APP))
        launched = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        seen = json.loads((await service.app_get(launched, "/beside")).text)
        # Its own log, and nothing of the service's folder: no other preview's directory.
        assert seen == {"siblings": ["log"], "log": "started\n"}, seen
        assert not await trio.Path(settings.previews_dir / "log").exists()
        await service.stop(gid)
        await service.stop(first_gid, user="bob")


HOST_APP = """
import json, socket
NAME, _, IPS = socket.gethostbyname_ex(socket.gethostname())  # at import, as settings do
# A container's own file (Aback231's Travel-Flask-API: ``cat /etc/hostname`` in a route).
FILE = open("/etc/hostname").read()

class Host(Handler):
    def do_GET(self):
        body = json.dumps({"name": NAME, "ips": IPS, "file": FILE}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Host
"""


async def test_its_own_host_name_resolves_to_its_loopback_and_etc_hostname_says_it(
    service: Service,
) -> None:
    require_sandbox(service)
    assert f"127.0.0.1\tlocalhost {HOSTNAME} postgres" in hosts_text(("postgres",))
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=HOST_APP))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        seen = json.loads((await service.app_get(launched, "/")).text)
        assert seen == {"name": HOSTNAME, "ips": ["127.0.0.1"], "file": f"{HOSTNAME}\n"}, seen
        await service.stop(gid)


VOLUMES_APP = """
import json, sqlite3
# At import, as its module-level database does, where its compose file mounts a volume.
with sqlite3.connect("/data/data.db") as db:
    db.execute("CREATE TABLE IF NOT EXISTS hits (at TEXT)")
    db.execute("INSERT INTO hits VALUES ('run')")
open("/srv/uploads/run.txt", "w").write("run")

class Volumes(Handler):
    def do_GET(self):
        if self.path == "/volumes":
            with sqlite3.connect("/data/data.db") as db:
                hits = [at for (at,) in db.execute("SELECT at FROM hits ORDER BY rowid")]
            body = json.dumps({
                "hits": hits,
                "uploads": sorted(os.listdir("uploads")),  # its folder, bound there
                "cache": os.listdir("/var/cache/app"),
            }).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
        else:
            super().do_GET()
Handler = Volumes
"""
VOLUMES_COMPOSE = """services:
  api:
    build: .
    ports: ["8000:8000"]
    volumes:
      - sqlite-data:/data
      - ./uploads:/srv/uploads
      - /var/cache/app
      - /var/run/docker.sock:/var/run/docker.sock
      - ./nginx.conf:/etc/nginx/nginx.conf
  db:
    image: postgres:16
    volumes: [pg-data:/var/lib/postgresql/data]
volumes:
  sqlite-data:
  pg-data:
"""
# A set-up step (a migration) writes the volume before the app starts.
MIGRATE_STEP = ["{python}", "migrate.py"]
MIGRATE = """import sqlite3
with sqlite3.connect("/data/data.db") as db:
    db.execute("CREATE TABLE hits (at TEXT)")
    db.execute("INSERT INTO hits VALUES ('setup')")
"""


async def test_its_compose_services_volumes_are_its_own_writable_directories(
    service: Service,
) -> None:
    require_sandbox(service)
    with trio.fail_after(60):
        files = server_app(
            before_serving=VOLUMES_APP,
            **{
                "docker-compose.yml": VOLUMES_COMPOSE,
                "nginx.conf": "events {}\n",
                "uploads/kept.txt": "uploaded",
                "migrate.py": MIGRATE,
            },
        )
        gid = await service.upload(files)
        launched = (await service.launch(gid, command=SERVER_COMMAND, setup=MIGRATE_STEP)).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        seen = json.loads((await service.app_get(launched, "/volumes")).text)
        assert seen == {"hits": ["setup", "run"], "uploads": ["kept.txt", "run.txt"], "cache": []}


async def test_a_volume_folder_a_set_up_step_made_a_link_is_not_bound(service: Service) -> None:
    """ThQuangDang's nestjs-clean-architecture binds ``./node_modules`` (a link to the
    built environment in a preview) as a volume: its build step's sandbox could not be
    made, "Not a directory: 'node_modules'", an incident. A volume's folder that is a
    link when a step starts (the app's code made it one) is left unbound, never
    followed, and the step runs."""
    require_sandbox(service)
    with trio.fail_after(60):
        compose = "services:\n  api:\n    build: .\n    volumes:\n      - ./uploads:/srv/uploads\n"
        files = server_app(**{"docker-compose.yml": compose, "uploads/kept.txt": "uploaded"})
        gid = await service.upload(files)
        linked = ["sh", "-c", "rm -r uploads && ln -s /tmp uploads"]
        launched = (await service.launch(gid, command=SERVER_COMMAND, setup=linked)).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        await service.stop(gid)


IMAGE_APP = """
import json
# Its middleware's log, as its image's path names it: its container holds the app in /app
# (and its compose file's volume makes /app/logs).
open("/app/logs/requests.log", "a").write("started\\n")

class Image(Handler):
    def do_GET(self):
        if self.path == "/image":
            body = json.dumps({
                "own": open("/app/version.txt").read(),
                "logs": sorted(os.listdir("logs")),  # its own folder, the same files
            }).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
        else:
            super().do_GET()
Handler = Image
"""
IMAGE_DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY server.py version.txt ./
CMD ["python", "server.py"]
"""


async def test_its_own_folder_is_where_its_image_holds_it(service: Service) -> None:
    """tecteluy's docker-fastapi-auth: ``WORKDIR /app`` in its Dockerfile, and its
    middleware's ``logging.FileHandler("/app/logs/requests.log")`` ("FileNotFoundError" on
    a preview's root, which has no /app). Its sandbox gives its own folder there too."""
    require_sandbox(service)
    with trio.fail_after(60):
        files = server_app(
            before_serving=IMAGE_APP,
            **{"Dockerfile": IMAGE_DOCKERFILE, "version.txt": "v1", "requirements.txt": ""},
        )
        gid = await service.upload(files)
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        seen = json.loads((await service.app_get(launched, "/image")).text)
        assert seen == {"own": "v1", "logs": [".gitkeep", "requests.log"]}
        await service.stop(gid)


AUTHOR_APP = """
import json, sqlite3
# As its author's checkout had them: its committed database/notes.db, and a cache.
NOTES = "/home/someone/notes-service/database/notes.db"
with sqlite3.connect(NOTES) as db:
    db.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('run')")
with sqlite3.connect("/home/someone/.cache/notes/cache.db") as db:
    db.execute("CREATE TABLE IF NOT EXISTS hits (at TEXT)")

class Author(Handler):
    def do_GET(self):
        if self.path == "/author":
            with sqlite3.connect(NOTES) as db:
                notes = [body for (body,) in db.execute("SELECT body FROM notes")]
            body = json.dumps({"notes": notes, "own": sorted(os.listdir("database"))}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
        else:
            super().do_GET()
Handler = Author
"""


async def test_the_folders_of_absolute_sqlite_files_its_author_had_are_there(
    service: Service,
) -> None:
    require_sandbox(service)
    with trio.fail_after(60):
        files = server_app(before_serving=AUTHOR_APP, **{"database/notes.db": ""})
        gid = await service.upload(files)
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (
            launched.get("errorMessage"),
            launched.get("errorLines"),
        )
        seen = json.loads((await service.app_get(launched, "/author")).text)
        # Written in the upload's own database/ (an empty file is an empty database).
        assert seen == {"notes": ["run"], "own": ["notes.db"]}
        await service.stop(gid)


CACHES_APP = """
import json
# What @babel/register does as babel-node starts: its cache where BABEL_CACHE_PATH says
# (by default node_modules/.cache, read-only in a sandbox: "EROFS … mkdir").
cache = os.environ["BABEL_CACHE_PATH"]
os.makedirs(os.path.dirname(cache), exist_ok=True)
with open(cache, "w") as file:
    file.write("{}")

class Caches(Handler):
    def do_GET(self):
        body = json.dumps({"inside": os.path.abspath(cache).startswith(os.getcwd())}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Caches
"""


async def test_a_tools_cache_is_written_in_its_own_directory(service: Service) -> None:
    require_sandbox(service)
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=CACHES_APP))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched.get("errorMessage")
        assert json.loads((await service.app_get(launched, "/")).text) == {"inside": True}
