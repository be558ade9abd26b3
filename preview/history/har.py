"""Kept requests as the API shows them (:func:`request_json`) and as HAR 1.2
(:func:`har_document`), the HTTP Archive that browser devtools, Insomnia and Postman
import.

Each entry's URL is the app's path at its preview's own origin (what the app saw, the
way in aside); headers and the query are as kept (credentials masked); a body is text
when it is UTF-8, else base64 (``content.encoding``), and a body cut at
PREVIEW_CAPTURE_BODY_BYTES says so in its ``comment``. A request the app did not answer
has status 0, as browsers write it, and its error in ``_error``. The service's own
fields start with ``_`` (HAR's rule for custom fields): ``_id``, ``_requestId``,
``_eventId`` (its ``proxy`` line in the log), ``_way``, ``_replayOf``.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import datetime
from http import HTTPStatus
from typing import Any

from ..clock import isoformat

__all__ = ["body_json", "har_document", "request_json", "summary_json"]


def summary_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the list: who, what, how it went, and its links."""
    return {
        "id": row["id"],
        "previewId": row["preview_id"],
        "requestId": row["request_id"],
        "eventId": row["event_id"],
        "way": row["way"],
        "replayOf": row["replay_of"],
        "startedAt": isoformat(row["started_at"]),
        "elapsedMs": row["elapsed_ms"],
        "totalMs": row["total_ms"],
        "method": row["method"],
        "path": row["path"],
        "status": row["status"],
        "error": row["error"],
        "requestBodySize": row["request_size"],
        "responseBodySize": row["response_size"],
    }


def _text_or_base64(body: bytes | None) -> tuple[str | None, str | None]:
    if body is None:
        return None, None
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def body_json(body: bytes | None, size: int) -> dict[str, Any] | None:
    """``{text, encoding?, size, truncated}``, or None for no body; a body not kept (a
    page's asset: ``masking.is_asset``) ``{text: null, size, truncated, omitted}``."""
    if body is None:
        if not size:
            return None
        return {"text": None, "size": size, "truncated": True, "omitted": "asset"}
    text, encoding = _text_or_base64(body or b"")
    shown: dict[str, Any] = {"text": text, "size": size, "truncated": len(body or b"") < size}
    if encoding:
        shown["encoding"] = encoding
    return shown


def request_json(row: dict[str, Any]) -> dict[str, Any]:
    """One request whole: the summary with both heads and bodies."""
    return summary_json(row) | {
        "requestHeaders": json.loads(row["request_headers"]),
        "requestBody": body_json(row["request_body"], row["request_size"]),
        "responseHeaders": json.loads(row["response_headers"]),
        "responseBody": body_json(row["response_body"], row["response_size"]),
    }


def _pairs(headers: list[list[str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _header(headers: list[list[str]], wanted: str) -> str:
    return next((value for name, value in headers if name.lower() == wanted), "")


def _cookies(headers: list[list[str]], name: str) -> list[dict[str, str]]:
    found = []
    for key, value in headers:
        if key.lower() != name:
            continue
        pairs = [value.split(";", 1)[0]] if name == "set-cookie" else value.split(";")
        for pair in pairs:
            cookie, _, content = pair.strip().partition("=")
            if cookie:
                found.append({"name": cookie, "value": content})
    return found


def _entry(row: dict[str, Any], origin: str) -> dict[str, Any]:
    request_headers = json.loads(row["request_headers"])
    response_headers = json.loads(row["response_headers"])
    query = row["path"].partition("?")[2]
    request: dict[str, Any] = {
        "method": row["method"],
        "url": origin.rstrip("/") + row["path"],
        "httpVersion": "HTTP/1.1",
        "cookies": _cookies(request_headers, "cookie"),
        "headers": _pairs(request_headers),
        "queryString": [
            {"name": name, "value": value}
            for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": row["request_size"] if row["request_body"] is not None else 0,
    }
    if row["request_body"] is not None:
        text, _ = _text_or_base64(row["request_body"])
        mime = _header(request_headers, "content-type") or "application/octet-stream"
        request["postData"] = {"mimeType": mime, "text": text or ""}
        if row["request_size"] > len(row["request_body"]):
            request["postData"]["comment"] = f"cut at {len(row['request_body'])} bytes"
    status = row["status"] or 0
    body = row["response_body"]
    text, encoding = _text_or_base64(body)
    content: dict[str, Any] = {
        "size": row["response_size"],
        "mimeType": _header(response_headers, "content-type") or "x-unknown",
    }
    if text is not None:
        content["text"] = text
    if encoding:
        content["encoding"] = encoding
    if body is not None and row["response_size"] > len(body):
        content["comment"] = f"cut at {len(body)} bytes of {row['response_size']}"
    elif body is None and row["response_size"]:
        content["comment"] = "not kept: a page's asset (a script, a style sheet, an image …)"
    try:
        reason = HTTPStatus(status).phrase if status else ""
    except ValueError:
        reason = ""
    entry: dict[str, Any] = {
        "startedDateTime": isoformat(row["started_at"]),
        "time": row["total_ms"],
        "request": request,
        "response": {
            "status": status,
            "statusText": reason,
            "httpVersion": "HTTP/1.1",
            "cookies": _cookies(response_headers, "set-cookie"),
            "headers": _pairs(response_headers),
            "content": content,
            "redirectURL": _header(response_headers, "location"),
            "headersSize": -1,
            "bodySize": row["response_size"] if status else -1,
        },
        "cache": {},
        "timings": {
            "send": 0,
            "wait": row["elapsed_ms"],
            "receive": round(max(row["total_ms"] - row["elapsed_ms"], 0.0), 3),
        },
        "_id": row["id"],
        "_requestId": row["request_id"],
        "_eventId": row["event_id"],
        "_way": row["way"],
        "_replayOf": row["replay_of"],
    }
    if row["error"]:
        entry["_error"] = row["error"]
    return entry


def har_document(rows: list[dict[str, Any]], *, created: datetime) -> dict[str, Any]:
    """HAR 1.2 of ``rows`` (whole, oldest first; each with its preview's ``base_url``)."""
    entries = [_entry(row, row.get("base_url") or "http://preview.invalid") for row in rows]
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "preview-service", "version": "1"},
            "pages": [],
            "entries": entries,
            "comment": f"exported {isoformat(created)}; credentials masked",
        }
    }
