"""One preview's whole life: :class:`PreviewRuntime` (``runtime``: from launch to its
child's end), and its teardown once that child has ended, whatever ended it
(``teardown``: its row's last fields, the parts it holds given back)."""

from .runtime import PreviewRuntime

__all__ = ["PreviewRuntime"]
