"""A failure's lines as the remedies read them: the last ones, after the root cause of
each chained traceback they leave out (:func:`preview.logs.shown_lines`)."""

from __future__ import annotations

import trio

from preview.logs import shown_lines

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

_CHAINED = [
    "Traceback (most recent call last):",
    '  File "pytz/lazy.py", line 5, in <module>',
    "    from collections import Mapping as DictMixin",
    "ImportError: cannot import name 'Mapping' from 'collections'",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    *[f'  File "logging/config.py", line {n}, in configure' for n in range(20)],
    "ValueError: Unable to configure filter 'require_debug_true'",
]


def test_the_root_cause_of_a_chain_is_kept_before_the_last_lines() -> None:
    shown = shown_lines(_CHAINED, 15)
    assert shown[0] == "ImportError: cannot import name 'Mapping' from 'collections'"
    assert shown[1:] == _CHAINED[-15:]
    assert shown_lines(_CHAINED, 40) == _CHAINED  # all of it shown: nothing added
    assert shown_lines(["a", "b", "c"], 2) == ["b", "c"]
    # Two causes: the nearest first (an import its package got past is the earlier one).
    tried = ["ModuleNotFoundError: No module named 'UserDict'", "", _CHAINED[5], ""]
    assert shown_lines([*tried, *_CHAINED], 15)[:2] == [_CHAINED[3], tried[0]]


async def test_a_root_cause_above_the_last_lines_gets_its_fix(builder_service: Service) -> None:
    """brascher's docker-django-jwt: migrate died on "Unable to configure filter
    'require_debug_true'", caused by its pinned pytz's ``from collections import
    Mapping`` (gone in Python 3.10) 40 lines above; the remedies read the last 15 and
    found nothing. The root cause is read: relaunched with an older Python, it runs."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, app_files("flask_chained_root_cause"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"python": "older than 3.10"}
        system = messages(await service.history(body["gid"]), "system")
        assert any("collections.Mapping was removed" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200
