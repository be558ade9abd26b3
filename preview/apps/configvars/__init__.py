"""The configuration an upload only describes, read from its files (never run): the
variables its code cannot start without (:mod:`.required`), its ``.env``-like files
(:mod:`.envfiles`) and its compose files (:mod:`.compose`), each read once here for
every reader of them."""

from .compose import (
    COMPOSE_NAMES,
    ComposeProject,
    compose_environment,
    compose_files,
    compose_overlays,
    compose_projects,
    compose_services,
    interpolated,
)
from .envfiles import EXAMPLE_NAMES, dotenv_chain, dotenv_text, example_env_file, template_url
from .required import OPTIONAL, required_types, required_variables

__all__ = [
    "COMPOSE_NAMES",
    "EXAMPLE_NAMES",
    "OPTIONAL",
    "ComposeProject",
    "compose_environment",
    "compose_files",
    "compose_overlays",
    "compose_projects",
    "compose_services",
    "dotenv_chain",
    "dotenv_text",
    "example_env_file",
    "interpolated",
    "required_types",
    "required_variables",
    "template_url",
]
