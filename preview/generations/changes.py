"""A revision's changes (``{files: {path: text | null}}``), validated as an upload is,
and the resulting tree checked against the same limits."""

from __future__ import annotations

from preview.errors import BadRequest, TooLarge

from .uploads import (
    UploadLimits,
    _check_file_size,
    _check_no_file_is_a_folder,
    _check_total,
    files_from_json,
    normalize_path,
)

__all__ = ["changes_from_json", "check_tree"]


def changes_from_json(files: object, limits: UploadLimits) -> dict[str, bytes | None]:
    """path → new content, or None to delete it; paths canonical, sizes within limits."""
    if not isinstance(files, dict) or not files:
        raise BadRequest(
            '"files" must be a non-empty object mapping file paths to their text '
            "(null deletes the file).",
            code="invalid_files",
        )
    deleted = [name for name, text in files.items() if text is None]
    written = {name: text for name, text in files.items() if text is not None}
    changes: dict[str, bytes | None] = {}
    if written:
        changes.update(files_from_json(written, limits))
    for name in deleted:
        path = normalize_path(name)
        if path in changes:
            raise BadRequest(
                f"{path!r} is both written and deleted.",
                code="invalid_files",
                details={"path": path},
            )
        changes[path] = None
    return changes


def check_tree(sizes: dict[str, int], limits: UploadLimits) -> None:
    """The tree a revision leaves (path → size) within one generation's limits."""
    if not sizes:
        raise BadRequest(
            "A revision cannot delete every file of the generation.", code="empty_generation"
        )
    if len(sizes) > limits.max_files:
        raise TooLarge(
            f"The generation would have {len(sizes)} files; at most {limits.max_files} "
            "are allowed.",
            code="too_many_files",
            details={"count": len(sizes), "limit": limits.max_files},
        )
    for path, size in sizes.items():
        _check_file_size(path, size, limits)
    _check_total(sum(sizes.values()), limits)
    _check_no_file_is_a_folder(dict.fromkeys(sizes))
