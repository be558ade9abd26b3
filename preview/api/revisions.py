"""``/api/generations/{gid}/revisions``: a generation's later versions of its files
(store.revisions keeps them), their file lists and diffs, and their application to the
running preview (``runtime.swaps``).

A revision applied to a running preview is answered once its new process has taken over
or failed (``apply``: ``switched`` or ``failed``, with ``applied`` true only for the
first), waiting at most ``_APPLY_WAIT``: a swap that takes longer (a build of changed
dependencies) is answered ``202`` with ``apply.state`` ``applying``; the preview's log
and its status (``lastApply``) tell the outcome. When the generation's last preview
failed (a crash, a failed start) and none has been launched since, a revision to apply
launches it again as it was launched (its command, set-up, env, workers), on the new
revision (``relaunched``, with the new preview and its token): fixing what made it
fail brings it back.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, Response, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..clock import isoformat
from ..errors import BadRequest, Conflict, NotFound, PreviewError
from ..generations import UploadLimits, changes_from_json, check_tree, files_from_archive
from ..services import Services, services
from ..services.audit import record_action
from ..services.bodies import json_object, read_body
from ..services.callers import generation_access, generation_not_found, owned_generation
from ..store import Generation, GenerationGone
from ..store.revisions import (
    RevisionRecord,
    add_revision,
    latest_tree,
    list_revisions,
    revision_tree,
)
from ..store.usage import check_storage
from .alerts import arm_alerts

if TYPE_CHECKING:
    from ..auth import User
    from ..runtime import PreviewRuntime
    from ..runtime.swaps import SwapResult

__all__ = ["blueprint", "tree_of_revision"]

blueprint = Blueprint("revisions", __name__, url_prefix="/api/generations/<gid>/revisions")
_MAX_DIFF_LINES = 20_000  # a diff longer than this is cut (and says so)
_APPLY_WAIT = 30.0  # s a revision's POST waits for its swap (then 202, applying)


def _describe(record: RevisionRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "revision": record.number,
        "createdAt": isoformat(record.created_at),
        "author": record.author,
        "changed": list(record.changed),
        "dependenciesChanged": record.dependencies_changed,
    }
    if record.file_count is not None:
        data["fileCount"] = record.file_count
    return data


async def _changes(limits: UploadLimits, gid: str) -> tuple[dict[str, bytes | None], bool]:
    """(changes, apply) from a JSON body ``{files, apply}`` or an archive (the whole
    tree: what it lacks is deleted)."""
    state = services()
    if request.args.get("apply", "true") not in ("0", "1", "false", "true"):  # ("no": applied)
        raise BadRequest("apply must be true or false.", code="invalid_apply")
    raw = await read_body(state.settings.max_upload_bytes, state.settings.body_timeout)
    if request.mimetype == "application/json":
        body = await json_object(raw)
        apply = body.get("apply", True)
        if not isinstance(apply, bool):
            raise BadRequest("apply must be true or false.", code="invalid_apply")
        changes = await trio.to_thread.run_sync(changes_from_json, body.get("files"), limits)
        return changes, apply
    tree = await trio.to_thread.run_sync(
        lambda: files_from_archive(raw, limits, content_type=request.mimetype)
    )
    assert state.store is not None
    current = await state.store.generation_file_list(gid)
    changes: dict[str, bytes | None] = dict.fromkeys(
        (path for path, _ in current if path not in tree), None
    )
    changes.update(tree)
    return changes, request.args.get("apply", "true") in ("1", "true")


async def tree_of_revision(gid: str, number: int) -> dict[str, bytes]:
    """Revision ``number``'s files (404 ``revision_not_found`` if it has none such)."""
    state = services()
    assert state.store is not None
    tree = await state.store.run_sync(revision_tree, state.store.engine, gid, number)
    if tree is None:
        raise NotFound(
            f"Generation {gid!r} has no revision {number}.",
            code="revision_not_found",
            details={"generationId": gid, "revision": number},
        )
    return tree


@blueprint.post("")
async def add(gid: str) -> tuple[Response, int]:
    marks = {"received": trio.current_time()}  # the swap's timings (runtime.swaps)
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    limits = UploadLimits.from_settings(state.settings)
    changes, apply = await _changes(limits, gid)
    marks["validated"] = trio.current_time()
    assert state.store is not None and state.supervisor is not None
    adding = sum(len(content) for content in changes.values() if content is not None)
    await check_storage(state.store, state.settings.user_storage_mb, user.id, adding)
    try:
        record = await state.store.run_sync(
            add_revision,
            state.store.engine,
            gid,
            changes,
            user.id,
            lambda sizes: check_tree(sizes, limits),
        )
    except GenerationGone:  # deleted meanwhile
        raise generation_not_found(gid) from None
    except IntegrityError:
        raise Conflict(
            "Another revision of this generation was saved at the same moment; send it again.",
            code="revision_conflict",
            details={"generationId": gid},
            retry_after=1.0,
        ) from None
    marks["stored"] = trio.current_time()
    state.forget_generation(gid)
    state.discovery_cache.discard(f"source:{gid}")
    state.discovery_cache.discard(f"docs:{gid}")
    runtime = state.supervisor.for_generation(gid)
    if record is None:
        latest = (await state.store.run_sync(list_revisions, state.store.engine, gid))[-1]
        data = _describe(latest) | {"changed": [], "dependenciesChanged": False}
        return jsonify(data | {"unchanged": True, "applied": False}), 200
    data = _describe(record) | {"applyRequested": apply}
    owner = generation.user_id
    await record_action(
        state,
        user,
        "revision",
        owner=owner,
        generation_id=gid,
        revision=record.number,
        changed=len(record.changed),
    )
    if runtime is not None and runtime.status != "failed" and apply:
        tree = await _tree(gid, record)
        outcome = await _apply(runtime, record.number, tree, record.changed, marks)
        await _record_apply(state, user, owner, gid, record.number, runtime.id, outcome)
        return jsonify(data | outcome), 202 if outcome["apply"]["state"] == "applying" else 201
    if apply:
        tree = await _tree(gid, record)
        relaunch = await _relaunch_failed(state, user, generation, runtime, record.number, tree)
        if relaunch is not None:
            await _record_apply(state, user, owner, gid, record.number, None, relaunch)
            return jsonify(data | relaunch), 201
    return jsonify(data | _applied(runtime, None)), 201


async def _tree(gid: str, record: RevisionRecord) -> dict[str, bytes]:
    if record.tree is not None:  # (add_revision gives it)
        return record.tree
    state = services()
    assert state.store is not None
    return (await state.store.run_sync(latest_tree, state.store.engine, gid))[1]


async def _relaunch_failed(
    state: Services,
    user: User,
    generation: Generation,
    runtime: PreviewRuntime | None,
    number: int,
    tree: dict[str, bytes],
) -> dict[str, Any] | None:
    """The generation's last preview failed (``runtime``: its end under way): launched
    again as it was, on revision ``number`` (``tree``). What the answer says of it (None:
    its last preview did not fail, or that launch is not known: the service restarted
    since)."""
    assert state.supervisor is not None
    if runtime is not None:
        with trio.move_on_after(_APPLY_WAIT):
            await runtime.finished.wait()  # its row final, its launch kept (Supervisor)
    spec = state.supervisor.failed_launch(generation.id)
    if spec is None:
        return None
    from ..apps.spec import LaunchOptions  # (imported by that launch already)

    try:
        launched = await state.supervisor.launch(
            user, generation, LaunchOptions.repeating(spec, (number, tree))
        )
    except GenerationGone:  # deleted meanwhile
        raise generation_not_found(generation.id) from None
    except PreviewError as error:  # a limit, the service stopping: the revision is kept
        refused = {"code": error.code, "message": error.message}
        return {"applied": False, "apply": None, "preview": None, "relaunch": refused}
    preview = launched.runtime
    await arm_alerts(state, preview)
    return {
        "applied": False,
        "apply": None,
        "relaunched": True,
        "preview": {
            "previewInstanceId": preview.id,
            "status": preview.status,
            "revision": preview.spec.revision,
        },
        "previewToken": launched.preview_token,
    }


async def _apply(
    runtime: PreviewRuntime,
    number: int,
    tree: dict[str, bytes],
    changed: tuple[str, ...],
    marks: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Revision ``number`` applied to ``runtime``, waited for (module doc)."""
    result = runtime.swaps.apply(number, tree, changed, marks)
    with trio.move_on_after(_APPLY_WAIT):
        await result.done.wait()
    return _applied(runtime, result)


def _applied(runtime: PreviewRuntime | None, result: SwapResult | None) -> dict[str, Any]:
    preview = None
    if runtime is not None:
        preview = {
            "previewInstanceId": runtime.id,
            "status": runtime.status,
            "revision": runtime.spec.revision,
        }
    return {
        "applied": result is not None and result.state == "switched",
        "apply": result.describe() if result is not None else None,
        "preview": preview,
    }


@blueprint.post("/<int:n>/apply")
async def apply_revision(gid: str, n: int) -> tuple[Response, int]:
    """Revision ``n`` (an older one, or one sent with ``apply: false``) applied to the
    running preview (its last preview failed: relaunched on it)."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    assert state.supervisor is not None
    tree = await tree_of_revision(gid, n)
    runtime = state.supervisor.for_generation(gid)
    if runtime is None or runtime.status == "failed":
        relaunch = await _relaunch_failed(state, user, generation, runtime, n, tree)
        if relaunch is not None:
            await _record_apply(state, user, generation.user_id, gid, n, None, relaunch)
            return jsonify({"generationId": gid, "revision": n} | relaunch), 201
        runtime = state.supervisor.for_generation(gid)
    if runtime is None:
        raise await _nothing_to_apply_to(state, gid)
    if runtime.status != "running":  # starting, or its stop under way: a moment's conflict
        raise Conflict(
            f"Its preview is {runtime.status}: a revision can be applied once it runs.",
            code="preview_not_running",
            details={"generationId": gid, "status": runtime.status},
            retry_after=2.0,
        )
    serving = runtime.spec.files
    changed = tuple(sorted(p for p in set(serving) | set(tree) if serving.get(p) != tree.get(p)))
    outcome = await _apply(runtime, n, tree, changed)
    await _record_apply(state, user, generation.user_id, gid, n, runtime.id, outcome)
    status = 202 if outcome["apply"]["state"] == "applying" else 200
    return jsonify({"generationId": gid, "revision": n, "changed": list(changed)} | outcome), status


async def _record_apply(
    state: Services,
    user: User,
    owner: str,
    gid: str,
    number: int,
    preview_id: str | None,
    outcome: dict[str, Any],
) -> None:
    """The audit trail's entry of a revision applied live (its state then: ``switched``,
    ``applying``, ``failed`` …: ``swap``), or of a failed preview relaunched on it."""
    preview = outcome.get("preview") or {}
    await record_action(
        state,
        user,
        "revision_apply",
        owner=owner,
        generation_id=gid,
        preview_id=preview_id or preview.get("previewInstanceId"),
        revision=number,
        swap=(outcome.get("apply") or {}).get("state"),
        relaunched=bool(outcome.get("relaunched")),
    )


async def _nothing_to_apply_to(state: Services, gid: str) -> NotFound:
    """No preview of ``gid`` to apply to: its stop (or its generation's delete) finished,
    maybe while this call read the revision. A 404 as the preview's DELETE and token
    answer it, not a conflict: waiting changes nothing (a launch does)."""
    assert state.store is not None
    if await state.store.get_generation(gid) is None:  # deleted since owned_generation
        return generation_not_found(gid)
    return NotFound(
        "This generation has no running preview; launch one (it may name the revision).",
        code="no_active_preview",
        details={"generationId": gid},
    )


@blueprint.get("")
async def listing(gid: str) -> Response:
    state = services()
    await generation_access(gid, state.user())
    assert state.store is not None
    records = await state.store.run_sync(list_revisions, state.store.engine, gid)
    return jsonify({"generationId": gid, "revisions": [_describe(r) for r in records]})


@blueprint.get("/<int:n>")
async def show(gid: str, n: int) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    assert state.store is not None
    tree = await tree_of_revision(gid, n)
    records = await state.store.run_sync(list_revisions, state.store.engine, gid)
    record = next(r for r in records if r.number == n)
    data = _describe(record) | {"fileCount": len(tree)}
    data["files"] = [{"path": path, "size": len(tree[path])} for path in sorted(tree)]
    return jsonify(data)


def _unified(before: dict[str, bytes], after: dict[str, bytes], a: int, b: int) -> list[str]:
    lines: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        old_text = _text(old)
        new_text = _text(new)
        if old_text is None or new_text is None:
            lines.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        lines.extend(
            _ended(line)
            for line in difflib.unified_diff(
                old_text.splitlines(keepends=True),
                new_text.splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
                fromfiledate=f"revision {a}",
                tofiledate=f"revision {b}",
            )
        )
    return lines


def _ended(line: str) -> str:
    """A diff line that came without its newline (a file's last line, which has none)
    ended as git ends it: difflib left it to run into the next (``-one+two``)."""
    if line.endswith("\n"):
        return line
    return f"{line}\n\\ No newline at end of file\n"


def _text(content: bytes | None) -> str | None:
    if content is None:
        return ""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


@blueprint.get("/<int:n>/diff")
async def diff(gid: str, n: int) -> Response:
    """The unified diff from revision ``from`` (default: the one before) to ``n``."""
    number = n
    state = services()
    await owned_generation(gid, state.user())
    raw_from = request.args.get("from", str(number - 1))
    if not raw_from.isdigit():
        raise BadRequest("from must be a revision number.", code="invalid_revision")
    base = int(raw_from)
    after = await tree_of_revision(gid, number)
    before = await tree_of_revision(gid, base) if base >= 1 else {}
    lines = await trio.to_thread.run_sync(_unified, before, after, base, number)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    truncated = len(lines) > _MAX_DIFF_LINES
    return jsonify(
        {
            "generationId": gid,
            "from": base,
            "to": number,
            "changed": changed,
            "diff": "".join(lines[:_MAX_DIFF_LINES]),
            "truncated": truncated,
        }
    )
