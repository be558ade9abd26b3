"""The project's data set-up, run as its Pipfile's `init` script by the Procfile's release line."""

from pathlib import Path

Path("data.txt").write_text("seeded by pipenv run init\n")
