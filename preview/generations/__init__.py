"""Uploads of a generation: JSON file maps and archives, validated into safe relative files."""

from .uploads import UploadLimits, files_from_archive, files_from_json, normalize_path

__all__ = ["UploadLimits", "files_from_archive", "files_from_json", "normalize_path"]
