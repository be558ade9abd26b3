"""The ``openssl`` command making a self-signed certificate for the preview's own servers.

The PostgreSQL relay (``pgrelay``) and each private MariaDB (``mysql``) serve TLS to an
app that asks for it, on a key and certificate no public authority signs: made by
``openssl req -x509``, for ``localhost``, ``127.0.0.1`` and the names the app calls the
server by, which a Node app is then told to trust (``builds.appenv``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["self_signed_argv"]


def self_signed_argv(
    openssl: str, key_options: Sequence[str], key: str, certificate: str, names: Sequence[str] = ()
) -> list[str]:
    """``openssl``'s arguments writing a new key (``key_options``: ``-newkey``'s, such as
    ``rsa:2048``) to ``key`` and its certificate to ``certificate``, valid ten years for
    localhost, 127.0.0.1 and the host ``names``."""
    alternatives = ",".join(["DNS:localhost", "IP:127.0.0.1", *(f"DNS:{n}" for n in names)])
    return [
        openssl,
        "req",
        "-x509",
        "-newkey",
        *key_options,
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=localhost",
        "-addext",
        f"subjectAltName={alternatives}",
        "-keyout",
        key,
        "-out",
        certificate,
    ]
