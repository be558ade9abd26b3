"""Shapes of the twenty-fourth batch of real Django and Flask apps (issue 66's training
side: the first held-out set's, once its round ended): each rule reads what the app
itself declares, tested on a fixture app of its shape."""

from __future__ import annotations

from preview.apps.configvars import OPTIONAL, required_types
from preview.builds.configdefaults import config_defaults

from ..launching import app_files


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_a_settings_module_reading_with_getenv_alone_is_read() -> None:
    """yurinakanishi's django-rest-framework-sample-api: its settings module reads
    ``SECRET_KEY = getenv("DJANGO_SECRET_KEY")`` after ``from os import getenv`` (no
    ``environ`` anywhere in it), which went unread: no throwaway secret, and
    ``makemigrations`` died on "The SECRET_KEY setting must not be empty"."""
    files = _bytes("django_settings_getenv")
    assert required_types(files) == {"DJANGO_SECRET_KEY": OPTIONAL}
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["DJANGO_SECRET_KEY"]
    assert "DJANGO_SECRET_KEY" in found.generated
