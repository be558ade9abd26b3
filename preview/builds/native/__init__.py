"""Native modules compiled once a machine and copied into each app that installs them."""

from .compiled import (
    NATIVE_BUILDS,
    SYSTEM_LIBRARIES,
    BuildApart,
    NativeBuilds,
    NativePackage,
    SystemLibrary,
    native_packages,
)

__all__ = [
    "NATIVE_BUILDS",
    "SYSTEM_LIBRARIES",
    "BuildApart",
    "NativeBuilds",
    "NativePackage",
    "SystemLibrary",
    "native_packages",
]
