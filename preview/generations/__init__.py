"""Uploads of a generation: JSON file maps and archives, validated into safe relative files;
a revision's changes, validated alike."""

from .changes import changes_from_json, check_tree
from .uploads import UploadLimits, files_from_archive, files_from_json, normalize_path

__all__ = [
    "UploadLimits",
    "changes_from_json",
    "check_tree",
    "files_from_archive",
    "files_from_json",
    "normalize_path",
]
