"""Every request that crossed the proxy, kept with its answer: recorded off the hot path
and stored in batches (``capture``, ``rows``), credentials masked (``masking``), listed,
searched and exported as HAR 1.2 (``har``, ``routes``), and replayed against a running
preview with each answer compared (``replay``, ``compare``)."""

from .capture import BodySample, Capture, NoCapture, RequestHistory, SampledBody
from .compare import VOLATILE_HEADERS, compare_answers
from .har import har_document
from .masking import mask_headers, mask_query
from .routes import blueprint

__all__ = [
    "VOLATILE_HEADERS",
    "BodySample",
    "Capture",
    "NoCapture",
    "RequestHistory",
    "SampledBody",
    "blueprint",
    "compare_answers",
    "har_document",
    "mask_headers",
    "mask_query",
]
