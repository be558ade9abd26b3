"""The ways an upload can be started, ranked, each with where it came from: what its
deployment files and README declare (``declared``: Dockerfile, compose, nixpacks.toml,
railway, render.yaml, fly.toml, README run commands) and the plans made of them with the
package's scripts (``ranked``); a library's app, made as its README's example makes it
(``readmeapp``); a Python app's later plans, the starts it declares and its own scripts
that start its server (``pyplans``). Read from the files, never run: a launch tries them
in order, judged by health (``preview.builds.plantries``)."""

from .declared import Declared, DockerfileFacts, declared_starts, dockerfile_facts, readme_scripts
from .pyplans import IN_FOLDER, PythonStart, python_plans, python_starts, server_scripts
from .ranked import (
    MOST_PLANS,
    Plan,
    escaped,
    is_build,
    node_plans,
    optional_steps,
    shown,
    step_origin,
)
from .readmeapp import ReadmeApp, readme_app

__all__ = [
    "IN_FOLDER",
    "MOST_PLANS",
    "Declared",
    "DockerfileFacts",
    "Plan",
    "PythonStart",
    "ReadmeApp",
    "declared_starts",
    "dockerfile_facts",
    "escaped",
    "is_build",
    "node_plans",
    "optional_steps",
    "python_plans",
    "python_starts",
    "readme_app",
    "readme_scripts",
    "server_scripts",
    "shown",
    "step_origin",
]
