"""Files an app expects beside its code that its upload lacks, and which the service
writes before it starts (read from the upload, never run): the log files its logging
opens in a folder the upload does not have (:mod:`.logfiles`), and the metadata of a
project that reads its own installed version (:mod:`.ownmetadata`)."""

from .logfiles import log_files
from .ownmetadata import own_metadata

__all__ = ["log_files", "own_metadata"]
