"""Native modules compiled once a machine and copied into each app that installs them."""

from .compiled import NATIVE_BUILDS, BuildApart, NativeBuilds, NativePackage, native_packages

__all__ = ["NATIVE_BUILDS", "BuildApart", "NativeBuilds", "NativePackage", "native_packages"]
