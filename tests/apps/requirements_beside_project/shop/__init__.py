"""A FastAPI package whose requirements.txt lists only its server: its own dependencies
are its pyproject.toml's, installed by ``pip install -e .`` after it (Azure's relecloud
sample, whose entrypoint.sh does so)."""
