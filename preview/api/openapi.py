"""This API described: an OpenAPI 3.1 document, served at ``/api/openapi.json`` with a docs
page at ``/api/docs`` (Swagger UI, whose files the ``swagger-ui-py`` package ships: served
from here, nothing from a CDN, under a strict Content-Security-Policy) by ``ui.py``, which
imports this table at the document's first request (in a worker thread: an idle service
does not hold it).

The document is written here, not generated. quart-schema (the maintained generator for
Quart) was tried first: it lists the routes Quart knows, but without their query
parameters and error codes unless every route is re-declared with models, its
validation reads bodies through Quart (not the bounded readers, and never on the fast
paths that answer before Quart: the log stream, the envelope, the path proxy), it maps
``<path:path>`` to the wrong path, leaves the WebSocket routes out, and its docs page
loads Swagger UI from a CDN with an inline script. ``tests/api/test_openapi.py`` keeps
this one honest instead: it validates it (openapi-spec-validator) and checks it against
the Quart routes and the API table of docs/api.md both ways (every route, query parameter and
error code, and nothing else).
"""

from __future__ import annotations

import re
from typing import Any

from ..auth import SECURE_SESSION_COOKIE, SESSION_COOKIE

__all__ = [
    "AUTH_ERRORS",
    "OPERATIONS",
    "SHARED_OPERATIONS",
    "SHARE_ERRORS",
    "openapi_document",
]

# Every route that needs the caller (all but the public ones) may answer these.
AUTH_ERRORS: dict[int, tuple[str, ...]] = {
    401: (
        "missing_credentials",
        "invalid_authorization",
        "invalid_token",
        "token_expired",
        "token_lifetime_too_long",
    ),
    403: ("session_cookie_refused",),
    503: ("store_unavailable",),
}
# Every route of a generation but those a user it is shared with may call (below) answers
# them this (docs/api.md says it once, as it says AUTH_ERRORS).
SHARE_ERRORS: dict[int, tuple[str, ...]] = {403: ("owner_only",)}
# What a shared user may call: a viewer reads, a caller also calls the app (api.shares).
SHARED_OPERATIONS = {
    ("get", "/api/generations/{gid}"),
    ("get", "/api/generations/{gid}/preview/status"),
    ("get", "/api/generations/{gid}/preview/logs"),
    ("get", "/api/generations/{gid}/preview/logs/stream"),
    ("get", "/api/generations/{gid}/preview/logs/ws"),
    ("get", "/api/generations/{gid}/preview/requests"),
    ("get", "/api/generations/{gid}/preview/requests.har"),
    ("get", "/api/generations/{gid}/preview/requests/{rid}"),
    ("get", "/api/generations/{gid}/preview/requests/volatile"),
    ("post", "/api/generations/{gid}/preview/annotations"),
    ("get", "/api/generations/{gid}/preview/annotations"),
    ("delete", "/api/generations/{gid}/preview/annotations/{nid}"),
    ("get", "/api/generations/{gid}/endpoints"),
    ("get", "/api/generations/{gid}/preview/endpoints"),
    ("get", "/api/generations/{gid}/preview/endpoints/stats"),
    ("get", "/api/generations/{gid}/revisions"),
    ("get", "/api/generations/{gid}/preview/viewers"),
    ("post", "/api/generations/{gid}/preview/request"),  # a caller's
    ("*", "/api/generations/{gid}/preview/proxy/{path}"),  # a caller's
}
_SHARE_ROLE = {403: ("share_role",)}  # a viewer asking what a caller may
_GEN = {404: ("generation_not_found",)}
_LIVE = {404: ("generation_not_found", "no_active_preview")}
_SNAPSHOT = {404: ("generation_not_found", "snapshot_not_found")}
_JSON = {400: ("invalid_json",), 408: ("request_body_timeout",), 413: ("request_entity_too_large",)}
_PREVIEW_TOKEN = {
    403: ("missing_preview_token", "invalid_preview_token", "preview_token_expired"),
    503: ("preview_not_running",),
}
_UPSTREAM = {
    502: ("upstream_unavailable", "response_too_large"),
    504: ("upstream_timeout",),
}
_STREAM_ERRORS = {400: ("invalid_last_event_id", "invalid_tail"), 429: ("too_many_streams",)}
_STATUS_NAMES = {
    400: "Bad input",
    401: "No or invalid credentials",
    403: "Not allowed",
    404: "Unknown or not yours",
    408: "The request's body stalled",
    409: "Conflict or limit",
    413: "Too large",
    429: "Too many",
    502: "The app could not answer",
    503: "Unavailable (with Retry-After)",
    504: "The app was too slow",
}


def _merge(*groups: dict[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    merged: dict[int, tuple[str, ...]] = {}
    for group in groups:
        for status, codes in group.items():
            known = merged.get(status, ())
            merged[status] = known + tuple(c for c in codes if c not in known)
    return merged


# (method, path, summary, query parameters, JSON body?, its own errors). The path is the
# API table's (docs/api.md); methods "*" is every method of the transparent proxy.
OPERATIONS: list[tuple[str, str, str, tuple[str, ...], bool, dict[int, tuple[str, ...]]]] = [
    (
        "post",
        "/api/generations",
        "Upload a generation (JSON, zip or tar.gz)",
        ("projectId", "existing"),
        True,
        _merge(
            _JSON,
            {
                400: (
                    "unsupported_media_type",
                    "invalid_project_id",
                    "missing_archive",
                    "invalid_files",
                    "unsafe_path",
                    "duplicate_path",
                    "file_and_folder",
                    "empty_generation",
                    "unsupported_archive",
                    "unsupported_member",
                    "corrupt_archive",
                ),
                409: ("storage_quota_reached",),
                413: ("file_too_large", "too_many_files", "generation_too_large"),
            },
        ),
    ),
    ("get", "/api/generations", "My generations", (), False, {}),
    ("get", "/api/generations/{gid}", "One generation with its files", (), False, _GEN),
    (
        "patch",
        "/api/generations/{gid}",
        "Rename a generation",
        (),
        True,
        _merge(_GEN, _JSON, {400: ("missing_name", "invalid_project_id")}),
    ),
    (
        "delete",
        "/api/generations/{gid}",
        "Delete a generation (stopping its preview)",
        (),
        False,
        _merge(_GEN, {409: ("preview_still_stopping",)}),
    ),
    (
        "get",
        "/api/generations/{gid}/files/{path}",
        "One file's text",
        (),
        False,
        {404: ("generation_not_found", "file_not_found")},
    ),
    (
        "post",
        "/api/generations/{gid}/revisions",
        "A new revision of its files (JSON or archive)",
        ("apply",),
        True,
        _merge(
            _GEN,
            _JSON,
            {
                400: (
                    "unsupported_media_type",
                    "invalid_apply",
                    "invalid_files",
                    "unsafe_path",
                    "duplicate_path",
                    "file_and_folder",
                    "empty_generation",
                    "unsupported_archive",
                    "unsupported_member",
                    "corrupt_archive",
                ),
                409: ("revision_conflict", "storage_quota_reached"),
                413: ("file_too_large", "too_many_files", "generation_too_large"),
            },
        ),
    ),
    ("get", "/api/generations/{gid}/revisions", "Its revisions", (), False, _GEN),
    (
        "get",
        "/api/generations/{gid}/revisions/{n}",
        "One revision with its file list",
        (),
        False,
        {404: ("generation_not_found", "revision_not_found")},
    ),
    (
        "get",
        "/api/generations/{gid}/revisions/{n}/diff",
        "A unified diff between revisions",
        ("from",),
        False,
        {400: ("invalid_revision",), 404: ("generation_not_found", "revision_not_found")},
    ),
    (
        "post",
        "/api/generations/{gid}/revisions/{n}/apply",
        "Apply a revision to the running preview",
        (),
        False,
        _merge(_LIVE, {404: ("revision_not_found",), 409: ("preview_not_running",)}),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/launch",
        "Launch a preview",
        ("wait",),
        True,
        _merge(
            _GEN,
            _JSON,
            {
                400: (
                    "invalid_command",
                    "invalid_setup",
                    "invalid_env",
                    "invalid_health_path",
                    "invalid_revision",
                    "invalid_snapshot",
                    "invalid_workers",
                    "invalid_wait",
                    "invalid_preset",
                    "nothing_to_run",
                ),
                404: ("revision_not_found", "snapshot_not_found", "preset_not_found"),
                409: ("preview_already_running", "preview_limit_reached"),
                503: (
                    "port_pool_exhausted",
                    "cluster_full",
                    "sandbox_unavailable",
                    "launch_failed",
                    "shutting_down",
                ),
            },
        ),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/snapshots",
        "Save its running preview's data",
        (),
        True,
        _merge(
            _LIVE,
            _JSON,
            {
                400: ("invalid_snapshot_name",),
                409: (
                    "preview_not_running",
                    "snapshot_limit_reached",
                    "snapshot_busy",
                    "storage_quota_reached",
                ),
                413: ("snapshot_too_large",),
                503: ("snapshot_failed",),
            },
        ),
    ),
    ("get", "/api/generations/{gid}/preview/snapshots", "Its snapshots", (), False, _GEN),
    (
        "delete",
        "/api/generations/{gid}/preview/snapshots/{sid}",
        "Delete a snapshot",
        (),
        False,
        _SNAPSHOT,
    ),
    (
        "post",
        "/api/generations/{gid}/preview/snapshots/{sid}/restore",
        "Put a snapshot's data back into its running preview",
        (),
        False,
        _merge(
            _SNAPSHOT,
            _LIVE,
            {
                409: ("preview_not_running", "restore_busy"),
                503: ("restore_failed", "snapshot_unavailable"),
            },
        ),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/snapshots/{sid}/diff",
        "Two snapshots compared, table by table",
        ("with",),
        False,
        _merge(_SNAPSHOT, {400: ("invalid_with",), 503: ("snapshot_unavailable",)}),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/status",
        "Its preview's status",
        ("previewId",),
        False,
        _LIVE,
    ),
    ("delete", "/api/generations/{gid}/preview", "Stop its preview", (), False, _LIVE),
    ("get", "/api/generations/{gid}/preview/config", "Limits for my tier", (), False, _GEN),
    (
        "get",
        "/api/generations/{gid}/preview/logs/stream",
        "The log, live (Server-Sent Events)",
        ("lastEventId", "tail", "previewId"),
        False,
        _merge(_LIVE, _STREAM_ERRORS),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/logs",
        "The log's history",
        (
            "after",
            "limit",
            "level",
            "source",
            "stream",
            "process",
            "q",
            "format",
            "fields",
            "previewId",
        ),
        False,
        _merge(
            _LIVE,
            {
                400: (
                    "invalid_after",
                    "invalid_limit",
                    "invalid_level",
                    "invalid_source",
                    "invalid_stream",
                    "invalid_process",
                    "invalid_q",
                    "invalid_format",
                    "invalid_field",
                    "invalid_fields",
                )
            },
        ),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/logs/ws",
        "The log, live (WebSocket)",
        ("lastEventId", "tail", "previewId"),
        False,
        _merge(_LIVE, _STREAM_ERRORS, {400: ("websocket_required",)}),
    ),
    ("get", "/api/generations/{gid}/endpoints", "The app's endpoints", ("from",), False, _GEN),
    (
        "get",
        "/api/generations/{gid}/preview/endpoints",
        "The app's endpoints",
        ("from",),
        False,
        _GEN,
    ),
    (
        "get",
        "/api/generations/{gid}/preview/endpoints/stats",
        "Each endpoint's latency: count, errors, p50/p95/p99 of its recorded calls",
        ("previewId",),
        False,
        _merge(_GEN, {400: ("invalid_preview_id",)}),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/request",
        "Call the app with a JSON envelope",
        (),
        True,
        _merge(
            _GEN,
            _JSON,
            _PREVIEW_TOKEN,
            _UPSTREAM,
            _SHARE_ROLE,
            {
                400: (
                    "invalid_method",
                    "invalid_path",
                    "invalid_query",
                    "invalid_header",
                    "invalid_body",
                ),
                408: ("request_body_timeout",),
                413: ("request_body_too_large",),
            },
        ),
    ),
    (
        "*",
        "/api/generations/{gid}/preview/proxy/{path}",
        "The app, through a reverse proxy",
        ("previewToken",),
        False,
        _merge(
            _GEN,
            _PREVIEW_TOKEN,
            _UPSTREAM,
            _SHARE_ROLE,
            {
                400: ("invalid_proxy_path", "malformed_request"),
                408: ("request_body_timeout",),
                413: ("request_body_too_large",),
                502: ("bad_gateway",),
            },
        ),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/requests",
        "Its proxied requests, newest first",
        ("method", "path", "status", "limit", "before", "replays", "format"),
        False,
        _merge(
            _GEN,
            {
                400: (
                    "invalid_method",
                    "invalid_path",
                    "invalid_status",
                    "invalid_limit",
                    "invalid_before",
                    "invalid_replays",
                    "invalid_format",
                )
            },
        ),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/requests.har",
        "Its proxied requests as HAR 1.2",
        (),
        False,
        _GEN,
    ),
    (
        "get",
        "/api/generations/{gid}/preview/requests/{rid}",
        "One proxied request, whole",
        (),
        False,
        {404: ("generation_not_found", "request_not_found")},
    ),
    (
        "post",
        "/api/generations/{gid}/preview/requests/replay",
        "Replay kept requests against a running preview, each answer compared",
        (),
        True,
        _merge(
            _GEN,
            _JSON,
            _PREVIEW_TOKEN,
            {
                400: ("invalid_ids", "invalid_headers", "invalid_target"),
                404: ("request_not_found",),
            },
        ),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/annotations",
        "Pin a note to a log line or a kept request",
        (),
        True,
        _merge(
            _GEN,
            _JSON,
            {
                400: ("invalid_annotation",),
                404: ("line_not_found", "request_not_found"),
                409: ("too_many_annotations",),
            },
        ),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/annotations",
        "The notes pinned to its previews",
        ("previewId",),
        False,
        _GEN,
    ),
    (
        "delete",
        "/api/generations/{gid}/preview/annotations/{nid}",
        "Delete a note",
        (),
        False,
        _merge(_GEN, {403: ("not_the_author",), 404: ("annotation_not_found",)}),
    ),
    (
        "get",
        "/api/generations/{gid}/preview/requests/volatile",
        "The paths a replay's comparison ignores",
        (),
        False,
        _GEN,
    ),
    (
        "put",
        "/api/generations/{gid}/preview/requests/volatile",
        "Mark the paths a replay's comparison ignores",
        (),
        True,
        _merge(_GEN, _JSON, {400: ("invalid_volatile_paths",)}),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/ticket",
        "A one-time URL of the app's origin",
        (),
        True,
        _merge(_GEN, _JSON, _PREVIEW_TOKEN, {400: ("invalid_path",)}),
    ),
    (
        "post",
        "/api/generations/{gid}/preview/token",
        "One more preview token (the others keep working)",
        (),
        True,
        _merge(
            _LIVE,
            _JSON,
            {400: ("invalid_label", "invalid_revoke_others"), 409: ("too_many_preview_tokens",)},
        ),
    ),
    ("get", "/api/generations/{gid}/preview/tokens", "The live preview tokens", (), False, _LIVE),
    (
        "delete",
        "/api/generations/{gid}/preview/tokens/{token_id}",
        "Revoke one preview token",
        (),
        False,
        {404: ("generation_not_found", "no_active_preview", "preview_token_not_found")},
    ),
    (
        "post",
        "/api/generations/{gid}/alerts",
        "A new alert rule on its log lines (a pattern, a level, a field condition) or on a"
        " route (its p95 or error rate over a window); a webhook",
        (),
        True,
        _merge(
            _GEN,
            _JSON,
            {
                400: (
                    "invalid_pattern",
                    "invalid_level",
                    "invalid_field",
                    "invalid_route",
                    "invalid_metric",
                    "invalid_threshold",
                    "invalid_window",
                    "invalid_rule",
                    "invalid_name",
                    "invalid_webhook",
                ),
                409: ("too_many_alert_rules",),
            },
        ),
    ),
    ("get", "/api/generations/{gid}/alerts", "Its alert rules", (), False, _GEN),
    (
        "delete",
        "/api/generations/{gid}/alerts/{rule_id}",
        "Delete an alert rule",
        (),
        False,
        {404: ("generation_not_found", "alert_rule_not_found")},
    ),
    (
        "put",
        "/api/generations/{gid}/presets/{name}",
        "Make or replace an environment preset",
        (),
        True,
        _merge(
            _GEN,
            _JSON,
            {
                400: ("invalid_preset_name", "invalid_env", "invalid_secret"),
                409: ("too_many_presets",),
            },
        ),
    ),
    ("get", "/api/generations/{gid}/presets", "Its environment presets", (), False, _GEN),
    (
        "get",
        "/api/generations/{gid}/presets/{name}",
        "One environment preset (secret values never shown)",
        (),
        False,
        {400: ("invalid_preset_name",), 404: ("generation_not_found", "preset_not_found")},
    ),
    (
        "delete",
        "/api/generations/{gid}/presets/{name}",
        "Delete an environment preset",
        (),
        False,
        {400: ("invalid_preset_name",), 404: ("generation_not_found", "preset_not_found")},
    ),
    (
        "get",
        "/api/audit",
        "The actions taken on my generations, newest first (an operator's: anyone's)",
        ("generation", "limit", "before", "all", "owner"),
        False,
        {
            400: (
                "invalid_generation",
                "invalid_limit",
                "invalid_before",
                "invalid_all",
                "invalid_owner",
            ),
            403: ("admin_required",),
        },
    ),
    (
        "post",
        "/api/generations/{gid}/shares",
        "Share it with a user, or make a link (its secret shown once)",
        (),
        True,
        _merge(_GEN, _JSON, {400: ("invalid_share",), 409: ("share_limit",)}),
    ),
    ("get", "/api/generations/{gid}/shares", "Its shares and links", (), False, _GEN),
    (
        "delete",
        "/api/generations/{gid}/shares/{share_id}",
        "Revoke a share or a link (its open streams end)",
        (),
        False,
        {404: ("generation_not_found", "share_not_found")},
    ),
    (
        "post",
        "/api/shares/redeem",
        "Redeem a link's secret: the generation shared with me",
        (),
        True,
        _merge(_JSON, {400: ("invalid_share",), 404: ("share_link_not_found",)}),
    ),
    ("get", "/api/shares", "The generations shared with me", (), False, {}),
    (
        "get",
        "/api/generations/{gid}/preview/viewers",
        "Who watches its preview now",
        (),
        False,
        _GEN,
    ),
    ("post", "/api/session", "Trade the bearer token for the session cookie", (), False, {}),
    ("get", "/api/session", "Who the caller is", (), False, {}),
    ("delete", "/api/session", "Drop the session cookie", (), False, {}),
    ("get", "/api/health", "The API answers (no credentials)", (), False, {}),
    ("get", "/api/openapi.json", "This document (no credentials)", (), False, {}),
    ("get", "/api/docs", "This document's docs page (no credentials)", (), False, {}),
]
PUBLIC = {"/api/health", "/api/openapi.json", "/api/docs"}
_PROXY_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_INTEGERS = {"after", "limit", "tail", "lastEventId", "before"}

_STR = {"type": "string"}
_ARGV = {"type": "array", "items": _STR, "minItems": 1, "maxItems": 64}
_NAMES = {"type": "object", "additionalProperties": _STR}
_ARCHIVES = ("application/zip", "application/gzip", "application/x-tar")
# The JSON bodies, as the rows of docs/api.md give them.
_BODIES: dict[str, dict[str, Any]] = {
    "/api/generations/{gid}/alerts": {
        "type": "object",
        "properties": {
            "pattern": _STR,
            "level": {"enum": ["WARN", "ERROR"]},
            "field": _STR,
            "route": _STR,
            "metric": {"enum": ["p95", "errorRate"]},
            "above": {"type": "number", "minimum": 0},
            "window": {"type": "integer", "minimum": 10, "maximum": 3600, "default": 60},
            "name": _STR,
            "webhook": {"type": "string", "format": "uri"},
        },
    },
    "/api/generations/{gid}/shares": {
        "type": "object",
        "properties": {
            "user": _STR,
            "link": {"type": "boolean"},
            "role": {"enum": ["viewer", "caller"], "default": "viewer"},
            "expiresIn": {"type": "integer", "minimum": 60, "maximum": 2592000},
        },
    },
    "/api/shares/redeem": {
        "type": "object",
        "required": ["secret"],
        "properties": {"secret": _STR},
    },
    "/api/generations/{gid}/presets/{name}": {
        "type": "object",
        "required": ["env"],
        "properties": {
            # null: a secret variable's stored value, kept
            "env": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
            "secret": {"type": "array", "items": _STR},
        },
    },
    "/api/generations": {
        "type": "object",
        "required": ["files"],
        "properties": {"projectId": _STR, "files": _NAMES},
    },
    "/api/generations/{gid}": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": ["string", "null"]}},
    },
    "/api/generations/{gid}/preview/launch": {
        "type": "object",
        "properties": {
            "wait": {"type": "boolean"},
            "command": _ARGV,
            "setup": _ARGV,
            "env": _NAMES,
            "healthPath": _STR,
            "preset": _STR,  # its variables under env's
            # false: none of its detected workers runs; {"beat": false}: not that one
            "workers": {
                "oneOf": [
                    {"type": "boolean"},
                    {"type": "object", "additionalProperties": {"type": "boolean"}},
                ]
            },
        },
    },
    "/api/generations/{gid}/preview/request": {
        "type": "object",
        "required": ["path"],
        "properties": {
            "method": {**_STR, "default": "GET"},
            "path": _STR,
            "query": {"type": ["object", "string"]},
            "headers": _NAMES,
            "body": {},
            "bodyEncoding": {"enum": ["base64"]},
        },
    },
    "/api/generations/{gid}/preview/annotations": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": _STR,
            "seq": {"type": "integer", "minimum": 1},
            "previewId": _STR,
            "requestId": _STR,
        },
    },
    "/api/generations/{gid}/preview/requests/volatile": {
        "type": "object",
        "required": ["paths"],
        "properties": {"paths": {"type": "array", "items": _STR, "maxItems": 100}},
    },
    "/api/generations/{gid}/preview/requests/replay": {
        "type": "object",
        "required": ["ids"],
        "properties": {
            "ids": {"oneOf": [{"const": "all"}, {"type": "array", "items": {"type": "integer"}}]},
            "target": {
                "oneOf": [
                    {"const": "current"},
                    {
                        "type": "object",
                        "required": ["generation"],
                        "properties": {"generation": _STR, "previewToken": _STR},
                    },
                ]
            },
            "headers": _NAMES,
        },
    },
    "/api/generations/{gid}/preview/ticket": {
        "type": "object",
        "properties": {"path": _STR, "previewToken": _STR},
    },
}

_ERROR = {
    "type": "object",
    "required": ["status", "error", "message"],
    "properties": {
        "status": {"const": "failed"},
        "error": {"type": "string", "description": "snake_case code"},
        "message": {"type": "string", "description": "a human sentence"},
        "details": {"type": "object"},
    },
}


# The answers that are not a plain 200 (the rest answer 200 alone).
_APPLYING = "still being applied (the status's lastApply tells)"
_SUCCESS: dict[tuple[str, str], dict[str, str]] = {
    ("post", "/api/generations"): {"201": "Created"},
    ("post", "/api/generations/{gid}/alerts"): {"201": "Created"},
    ("post", "/api/generations/{gid}/shares"): {"201": "Created"},
    ("put", "/api/generations/{gid}/presets/{name}"): {"200": "Replaced", "201": "Created"},
    ("post", "/api/generations/{gid}/revisions"): {
        "200": "Nothing changed (unchanged: true)",
        "201": "Created",
        "202": _APPLYING,
    },
    ("post", "/api/generations/{gid}/revisions/{n}/apply"): {
        "200": "Applied",
        "201": "Its failed preview relaunched on it",
        "202": _APPLYING,
    },
    ("post", "/api/generations/{gid}/preview/snapshots"): {"201": "Created"},
    ("get", "/api/generations/{gid}/preview/logs/stream"): {
        "200": "The stream",
        "204": "Over, with nothing after Last-Event-ID",
    },
}


def _operation(
    method: str,
    path: str,
    summary: str,
    query: tuple[str, ...],
    body: bool,
    errors: dict[int, tuple[str, ...]],
) -> dict[str, Any]:
    public = path in PUBLIC
    if not public:
        errors = _merge(errors, AUTH_ERRORS)
    shared = (method, path) in SHARED_OPERATIONS or ("*", path) in SHARED_OPERATIONS
    if "{gid}" in path and not shared:
        errors = _merge(errors, SHARE_ERRORS)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ] + [
        {
            "name": name,
            "in": "query",
            "schema": {"type": "integer" if name in _INTEGERS else "string"},
        }
        for name in query
    ]
    success = _SUCCESS.get((method, path), {"200": "OK"})
    responses: dict[str, Any] = {code: {"description": said} for code, said in success.items()}
    for status in sorted(errors):
        responses[str(status)] = {
            "description": f"{_STATUS_NAMES[status]}: " + ", ".join(errors[status]),
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"},
                    "examples": {
                        code: {"value": {"status": "failed", "error": code, "message": "…"}}
                        for code in errors[status]
                    },
                }
            },
        }
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "tags": ["public" if public else path.split("/")[2]],
        "parameters": parameters,
        "responses": responses,
    }
    if body:
        content = {"application/json": {"schema": _BODIES.get(path, {"type": "object"})}}
        if path == "/api/generations":  # or an archive: raw, or a form's field "file"
            archive = {"type": "string", "contentMediaType": "application/octet-stream"}
            content |= {kind: {"schema": archive} for kind in _ARCHIVES}
            content["multipart/form-data"] = {
                "schema": {"type": "object", "properties": {"file": archive, "projectId": _STR}}
            }
        operation["requestBody"] = {"required": path == "/api/generations", "content": content}
    if public:
        operation["security"] = []
    return operation


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, query, body, errors in OPERATIONS:
        methods = _PROXY_METHODS if method == "*" else (method,)
        for each in methods:
            paths.setdefault(path, {})[each] = _operation(each, path, summary, query, body, errors)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Preview service",
            "version": "1",
            "description": "Upload a generated backend, launch it in a sandbox, follow its "
            "log, call it. Errors always have the shape of the Error schema; docs/api.md's "
            "API table says the rest.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": f"over HTTPS: {SECURE_SESSION_COOKIE} (POST /api/session)",
                },
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }
