"""The build tests' service: environments kept in one directory for the whole session,
so each dependency set is built once however many tests (of any module here) launch it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from preview import Settings

from ..conftest import Service, running_service


@pytest.fixture(scope="session")
def env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("envs")


@pytest.fixture
def build_settings(settings: Settings, env_dir: Path) -> Settings:
    return replace(settings, build="on", env_dir=str(env_dir), startup_timeout=60.0)


@pytest.fixture
async def builder_service(build_settings: Settings) -> AsyncIterator[Service]:
    async with running_service(build_settings) as running:
        yield running
