"""A Python app is given ``PYTHON_VERSION``, its built environment's Python's, as the
official python image sets it (the Dockerfile it is deployed with): docker-django-example's
home page reads ``os.environ["PYTHON_VERSION"]`` and answered 500 without it. What the
app's own files set wins."""

from __future__ import annotations

from pathlib import Path

import trio

from preview.builds.appenv import _python_version

from ..conftest import SERVER_COMMAND, Service, server_app
from ..launching import BUILD_WAIT, launched

READS_IT = """
class Version(Handler):
    def do_GET(self):
        body = os.environ["PYTHON_VERSION"].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Version
"""


def test_the_version_is_read_from_pyvenv_cfg(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text(
        "home = /usr/bin\nimplementation = CPython\n"
        "version_info = 3.13.0\ninclude-system-site-packages = false\n"
    )
    assert _python_version(tmp_path) == "3.13.0"
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    assert _python_version(tmp_path) == "3.11.7"
    assert _python_version(tmp_path / "missing") is None


async def test_a_python_app_reads_the_python_version_it_runs_on(builder_service: Service) -> None:
    files = server_app(before_serving=READS_IT, **{"requirements.txt": "idna\n"})
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files, command=SERVER_COMMAND)
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        version = (await builder_service.app_get(body, "/")).text
        assert version == body["runtime"]["python"], (version, body["runtime"])
        assert (await builder_service.stop(body["gid"])).status_code == 200
        own = {**files, ".env": "PYTHON_VERSION=3.0.0\n"}
        body = await launched(builder_service, own, command=SERVER_COMMAND)
        assert (await builder_service.app_get(body, "/")).text == "3.0.0"
        assert (await builder_service.stop(body["gid"])).status_code == 200
