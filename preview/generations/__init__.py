"""Uploads of a generation: JSON file maps and archives, validated into safe relative files;
a revision's changes, validated alike; JSON that others wrote (an upload's, an app's),
parsed so that its shape cannot break the service."""

from .changes import changes_from_json, check_tree
from .jsondata import MAX_DEPTH, loads_bounded, nests_deeper
from .uploads import UploadLimits, files_from_archive, files_from_json, normalize_path

__all__ = [
    "MAX_DEPTH",
    "UploadLimits",
    "changes_from_json",
    "check_tree",
    "files_from_archive",
    "files_from_json",
    "loads_bounded",
    "nests_deeper",
    "normalize_path",
]
