"""Structured log lines and downloads (issue 69, items 5 and 3): a real app's JSON lines
have their fields in the history, filtered by ``field.NAME=value``; the history downloads
as CSV (chosen fields as columns) and as one JSON array, streamed, with the same filters."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import trio

from preview.api import streams

from ..conftest import auth
from .jsonlog_app import call, launched, observed_service


async def test_json_lines_have_fields_filtered_by_field_and_downloaded(settings: Any) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/items/7", "/items/8", "/boom", "/items/7"):
                await call(service, preview, path)
            url = f"/api/generations/{gid}/preview/logs"

            async def get(**params: Any) -> Any:
                return await service.client.get(url, params=params, headers=auth())

            everything = (await get()).json()["events"]
            sevens = (await get(**{"field.userId": "7"})).json()
            both = (await get(**{"field.userId": "7", "field.level": "error"})).json()
            nested = (await get(**{"field.request.path": "/boom"})).json()
            paged = (await get(**{"field.userId": "7", "limit": "1"})).json()
            errors = (await get(level="ERROR", **{"field.userId": "7"})).json()
            table = await get(format="csv", fields="userId,request.path", source="app")
            array = await get(format="json", **{"field.userId": "7"})
            ndjson = await get(format="ndjson", **{"field.message": "boom"})
            bad_name = await get(**{"field.a b": "1"})
            bad_columns = await get(format="csv", fields="a,,b c")
            too_many = await get(**{f"field.k{n}": "1" for n in range(11)})
            await service.stop(gid)
    reads = [e for e in everything if e["message"].startswith('{"level": "info"')]
    assert len(reads) == 3 and reads[0]["fields"]["userId"] == 7
    assert reads[0]["level"] == "INFO" and reads[0]["fields"]["message"] == "item read"
    plain = next(e for e in everything if e["message"].startswith("plain line"))
    assert "fields" not in plain  # not JSON: as it was
    assert [e["fields"]["userId"] for e in sevens["events"]] == [7, 7, 7]
    assert [e["fields"]["message"] for e in sevens["events"]] == ["item read", "boom", "item read"]
    assert [e["fields"]["message"] for e in both["events"]] == ["boom"]
    assert [e["fields"]["message"] for e in nested["events"]] == ["boom"]
    assert paged["hasMore"] is True and len(paged["events"]) == 1
    assert [e["level"] for e in errors["events"]] == ["ERROR"]

    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert f'filename="{preview["previewInstanceId"]}.csv"' in table.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(table.text)))
    assert rows[0] == [
        "id",
        "timestamp",
        "level",
        "source",
        "stream",
        "process",
        "message",
        "userId",
        "request.path",
    ]
    by_message = {row[6]: row for row in rows[1:]}
    boom = next(row for message, row in by_message.items() if '"boom"' in message)
    assert boom[2] == "ERROR" and boom[7] == "7" and boom[8] == "/boom"
    assert by_message["plain line userId=7 =SUM(A1)"][7:] == ["", ""]
    read = next(row for message, row in by_message.items() if '"item read"' in message)
    assert read[8] == ""  # the line has no such field
    assert len(rows) - 1 == len([e for e in everything if e["source"] == "app"])

    assert array.status_code == 200 and array.headers["content-type"] == "application/json"
    downloaded = json.loads(array.text)
    assert downloaded == sevens["events"]
    assert [json.loads(line)["id"] for line in ndjson.text.splitlines()] == [
        e["id"] for e in both["events"]
    ]
    assert bad_name.status_code == 400 and bad_name.json()["error"] == "invalid_field"
    assert bad_columns.status_code == 400 and bad_columns.json()["error"] == "invalid_fields"
    assert too_many.status_code == 400 and too_many.json()["error"] == "invalid_field"


async def test_logfmt_lines_have_fields_filtered_and_downloaded_as_json_ones(
    settings: Any,
) -> None:
    """A line of nothing but ``key=value`` pairs (Go's slog, logrus, structlog's logfmt) has
    its fields as a JSON line does: in the history, in a filter, as CSV columns."""
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/gone", "/items/9", "/boom"):
                await call(service, preview, path)
            url = f"/api/generations/{gid}/preview/logs"

            async def get(**params: Any) -> Any:
                return await service.client.get(url, params=params, headers=auth())

            everything = (await get(source="app")).json()["events"]
            nines = (await get(**{"field.userId": "9"})).json()["events"]
            warned = (await get(**{"field.level": "WARN", "field.request.path": "/gone"})).json()
            table = await get(format="csv", fields="userId,msg", source="app")
            await service.stop(gid)
    gone = next(e for e in everything if e["message"].startswith("time="))
    assert gone["fields"] == {
        "time": "2026-11-28T10:00:00Z",
        "level": "WARN",
        "msg": "item gone",
        "userId": "9",
        "request.path": "/gone",
    }
    plain = next(e for e in everything if e["message"].startswith("plain line"))
    assert "fields" not in plain  # prose with an "=" in it is no record
    assert [e["message"] for e in nines] == [
        gone["message"],
        next(e["message"] for e in everything if '"item read"' in e["message"]),
    ]  # the logfmt line's text 9 and the JSON line's number 9 alike
    assert [e["id"] for e in warned["events"]] == [gone["id"]]
    rows = {row[6]: row for row in csv.reader(io.StringIO(table.text))}
    assert rows[gone["message"]][7:] == ["9", "item gone"]


async def test_field_filters_compare_numbers_and_exclude_values(settings: Any) -> None:
    """``field.userId>=8`` (the query's key ends in ``>``), ``<=``, ``>``, ``<`` between
    numbers (``field.userId>7``: a key with no value), a
    field's text that is a number (logfmt's) compared as one; ``!=`` for another value;
    a field that is no number never holds a comparison."""
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/items/7", "/items/8", "/gone", "/boom"):
                await call(service, preview, path)
            url = f"/api/generations/{gid}/preview/logs"

            async def users(query: str) -> list[Any]:
                answer = await service.client.get(f"{url}?{query}", headers=auth())
                assert answer.status_code == 200, answer.text
                return [e["fields"]["userId"] for e in answer.json()["events"]]

            at_least = await users("field.userId>=8")
            at_most = await users("field.userId<=7")
            not_info = await users("field.level!=info")
            not_numbers = await users("field.message>=1")
            above = await users("field.userId>7")  # a key with no value: strict comparisons
            below = await users("field.userId<8")
            refused = await service.client.get(f"{url}?field.userId>seven", headers=auth())
            await service.stop(gid)
    assert above == [8, "9"]
    assert below == [7, 7]
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_field"
    assert "compares numbers" in refused.json()["message"]
    assert at_least == [8, "9"]  # the JSON line's number and the logfmt line's text
    assert at_most == [7, 7]
    assert not_info == ["9", 7]  # WARN (logfmt) and error: the info lines left out
    assert not_numbers == []


async def test_a_csv_cell_that_would_be_a_formula_is_quoted(settings: Any) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            await call(service, preview, "/items/5")
            table = await service.client.get(
                f"/api/generations/{gid}/preview/logs",
                params={"format": "csv", "fields": "note,userId", "field.userId": "5"},
                headers=auth(),
            )
            await service.stop(gid)
    rows = list(csv.reader(io.StringIO(table.text)))
    assert len(rows) == 2
    assert rows[1][7] == "'=cmd|x" and rows[1][8] == "5"


async def test_field_filters_and_downloads_span_the_stores_pages(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 JSON lines: more than one page of the store's reads (256, then 2,000), so the
    filter and the downloads go on across pages, and a page of the history says where
    the next begins; one that read its most candidates without a match says where it
    stopped (the bound made 500 here, 20,000 in the service)."""
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            assert await call(service, preview, "/many?n=3000") == 200
            url = f"/api/generations/{gid}/preview/logs"
            even = {"field.even": "true", "source": "app"}

            async def get(**params: Any) -> Any:
                return await service.client.get(url, params=params, headers=auth())

            whole = (await get(limit="5000", **even)).json()
            first = (await get(limit="1000", **even)).json()
            second = (await get(limit="1000", after=str(first["nextAfter"]), **even)).json()
            table = await get(format="csv", fields="i", **even)
            monkeypatch.setattr(streams, "_FIELD_SCAN", 500)  # the service runs in-process
            searched, after, found = 0, 0, []
            while True:  # a rare value, page after page of candidates
                page = (await get(after=str(after), **{"field.i": "2999"})).json()
                searched, after, found = searched + 1, page["nextAfter"], found + page["events"]
                if not page["hasMore"]:
                    break
            array = await get(format="json", **even)
            await service.stop(gid)
    numbers = [event["fields"]["i"] for event in whole["events"]]
    assert numbers == list(range(0, 3000, 2)) and whole["hasMore"] is False
    assert first["hasMore"] is True and len(first["events"]) == 1000
    assert [e["fields"]["i"] for e in first["events"] + second["events"]] == numbers
    assert second["hasMore"] is False
    rows = list(csv.reader(io.StringIO(table.text)))
    assert [int(row[7]) for row in rows[1:]] == numbers
    assert [event["fields"]["i"] for event in json.loads(array.text)] == numbers
    assert [event["fields"]["i"] for event in found] == [2999] and searched >= 6
