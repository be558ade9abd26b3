"""The configuration an upload only describes, read from its files (never run): the
variables its code cannot start without (:mod:`.required`), its ``.env``-like files
(:mod:`.envfiles`) and its compose files (:mod:`.compose`), each read once here for
every reader of them, and what each variable is (:mod:`.meanings`)."""

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
from .envfiles import (
    EXAMPLE_NAMES,
    dotenv_chain,
    dotenv_text,
    example_env_file,
    example_rank,
    fill_in,
    other_env_files,
    readme_copied_env,
    template_url,
)
from .meanings import (
    DATABASE,
    HOSTS,
    OWN_PORT,
    Meaning,
    ServedDatabase,
    compose_database_names,
    database_variables,
    engine_database,
    engine_value,
    meaning,
    served_database,
)
from .required import (
    OPTIONAL,
    json_settings_fields,
    read_variables,
    required_types,
    required_variables,
    settings_field_types,
)

__all__ = [
    "COMPOSE_NAMES",
    "DATABASE",
    "EXAMPLE_NAMES",
    "HOSTS",
    "OPTIONAL",
    "OWN_PORT",
    "ComposeProject",
    "Meaning",
    "ServedDatabase",
    "compose_database_names",
    "compose_environment",
    "compose_files",
    "compose_overlays",
    "compose_projects",
    "compose_services",
    "database_variables",
    "dotenv_chain",
    "dotenv_text",
    "engine_database",
    "engine_value",
    "example_env_file",
    "example_rank",
    "fill_in",
    "interpolated",
    "json_settings_fields",
    "meaning",
    "other_env_files",
    "read_variables",
    "readme_copied_env",
    "required_types",
    "required_variables",
    "served_database",
    "settings_field_types",
    "template_url",
]
