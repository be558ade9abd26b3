"""The locales a Python app sets that this machine lacks (preview.apps.written.locales): read
from its setlocale calls and its environment, compiled for it alone, named by LOCPATH."""

from __future__ import annotations

import locale
from pathlib import Path

import pytest
import trio

from preview.apps.written.locales import missing_locales

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched


def _installed(name: str) -> bool:
    try:
        previous = locale.setlocale(locale.LC_TIME)
        locale.setlocale(locale.LC_TIME, name)
    except locale.Error:
        return False
    locale.setlocale(locale.LC_TIME, previous)
    return True


pytestmark = pytest.mark.skipif(
    _installed("ru_RU.utf8") or not Path("/usr/share/i18n/locales/ru_RU").is_file(),
    reason="needs a machine without ru_RU.utf8 and with glibc's locale sources",
)


def test_the_locale_its_setlocale_asks_for_is_read_from_its_environment() -> None:
    files = {p: t.encode() for p, t in app_files("fastapi_time_locale").items()}
    assert missing_locales(files, {"TIME_LOCALE": "ru_RU.utf8"}) == ["ru_RU.utf8"]
    assert missing_locales(files, {"TIME_LOCALE": "ru_RU.UTF-8"}) == ["ru_RU.utf8"]
    assert missing_locales(files, {"TIME_LOCALE": "C.UTF-8"}) == []  # installed
    assert missing_locales(files, {}) == []  # none said
    constant = {"app.py": b"import locale\nlocale.setlocale(locale.LC_ALL, 'ru_RU.UTF-8')\n"}
    assert missing_locales(constant, {}) == ["ru_RU.utf8"]


async def test_an_app_setting_a_locale_the_machine_lacks_runs_in_it(
    builder_service: Service,
) -> None:
    """steqa's fastapi-jwt-auth sets TIME_LOCALE=ru_RU.utf8 (its .env.template; its image
    installs locales-all): "locale.Error: unsupported locale setting" at import."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_time_locale"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        month = (await service.app_get(body, "/")).json()["month"]
        assert month.lower().startswith("янв"), month
        assert (await service.stop(body["gid"])).status_code == 200
