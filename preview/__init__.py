"""Preview service: run a generated web backend as a child process, stream its output.

Embed it with :func:`create_app` (an ASGI app for any trio server) or run it with
``python -m preview``.
"""

from .app import create_app
from .auth import Authenticator, JWTAuthenticator, User
from .errors import PreviewError
from .settings import Settings

__all__ = ["Authenticator", "JWTAuthenticator", "PreviewError", "Settings", "User", "create_app"]
