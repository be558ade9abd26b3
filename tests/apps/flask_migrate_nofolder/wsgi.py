"""The instance its Procfile serves, made by the package's factory."""

from shop import create_app

app = create_app()
