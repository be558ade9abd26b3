"""Settings: PREVIEW_* parsing, validation, the help table and the generated JWT secret."""

from __future__ import annotations

import dataclasses
import re
import stat
import sys
from pathlib import Path

import pytest

from preview.settings import SETTINGS_HELP, Settings, unknown_env_names

FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
ENV_NAMES = {"PREVIEW_" + name.upper() for name in FIELDS}

# One non-default value for every setting, as the environment spells it, and what it parses to.
SAMPLES: dict[str, tuple[str, object]] = {
    "data_dir": ("/srv/preview-data", Path("/srv/preview-data")),
    "db_url": ("postgresql+psycopg://u@db/preview", "postgresql+psycopg://u@db/preview"),
    "jwt_secret": ("s3cret-" + "z" * 40, "s3cret-" + "z" * 40),
    "port_min": ("4000", 4000),
    "port_max": ("4010", 4010),
    "max_uptime": ("90.5", 90.5),
    "inactive_timeout": ("60", 60.0),
    "session_timeout": ("7200.25", 7200.25),
    "startup_timeout": ("2.5", 2.5),
    "stop_grace": ("0.5", 0.5),
    "max_log_lines": ("250", 250),
    "subscriber_buffer": ("64", 64),
    "max_line_bytes": ("1024", 1024),
    "keepalive_interval": ("0.25", 0.25),
    "stream_interval": ("0.002", 0.002),
    "health_interval": ("1.5", 1.5),
    "memory_limit_mb": ("256", 256),
    "max_instances_free": ("2", 2),
    "max_instances_pro": ("5", 5),
    "python": ("/usr/bin/python3.12", "/usr/bin/python3.12"),
    "max_upload_bytes": ("1000000", 1_000_000),
    "max_file_bytes": ("2048", 2048),
    "max_files": ("12", 12),
    "max_total_bytes": ("4096", 4096),
    "db_threads": ("2", 2),
    "app_domain": ("preview.example.com", "preview.example.com"),
    "app_origin_template": (
        "https://{preview}.preview.example.com",
        "https://{preview}.preview.example.com",
    ),
    "cors_origins": ("https://app.example.com,http://127.0.0.1:5173",) * 2,
    "log_format": ("json", "json"),
    "build": ("off", "off"),
    "smoke_check": ("off", "off"),
    "webhook_private": ("on", "on"),
    "sandbox": ("off", "off"),
    "app_postgres": ("off", "off"),
    "app_redis": ("off", "off"),
    "app_mysql": ("off", "off"),
    "app_mongo": ("off", "off"),
    "pids_limit": ("64", 64),
    # Paths: made absolute at start (tests/runtime/test_relative_data_dir.py).
    "find_links": ("/srv/wheels", "/srv/wheels"),
    "env_dir": ("/srv/envs", "/srv/envs"),
    "run_dir": ("/srv/run", "/srv/run"),
    "redis_url": ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    "redis_prefix": ("t1:", "t1:"),
    "cluster_log_streams": ("forward", "forward"),
    "internal_url": ("http://10.0.0.5:8000", "http://10.0.0.5:8000"),
    "cluster_secret": ("c" * 32, "c" * 32),
}
# Cluster mode (PREVIEW_REDIS_URL) is refused without the settings it needs beside it.
CLUSTER = {
    "db_url": "postgresql+psycopg://u@db/preview",
    "internal_url": "http://10.0.0.5:8000",
    "cluster_secret": "c" * 32,
}
_TYPES = {"Path": Path, "str": str, "int": int, "float": float}


def _generic_sample(name: str) -> tuple[str, object]:
    """A non-default value for a setting the table above does not list yet."""
    default = FIELDS[name].default
    kind = _TYPES[FIELDS[name].type]
    if kind is Path:
        return f"/srv/{name}", Path(f"/srv/{name}")
    if kind is int:
        return str(default * 2 + 1), default * 2 + 1
    if kind is float:
        return str(default + 0.5), default + 0.5
    return f"value-of-{name}", f"value-of-{name}"


for _name in FIELDS:
    SAMPLES.setdefault(_name, _generic_sample(_name))


def env(**values: str) -> dict[str, str]:
    return {"PREVIEW_" + name.upper(): value for name, value in values.items()}


def test_from_env_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.data_dir == Path(".preview-data").absolute()  # made absolute at start
    assert (settings.port_min, settings.port_max) == (3001, 3100)
    assert settings.max_instances("free") == 1 and settings.max_instances("pro") == 3
    assert settings.python == sys.executable
    assert settings.jwt_secret == "" and settings.db_url == ""
    # Empty values mean "the default" as well.
    assert Settings.from_env(env(port_min="", stop_grace="")) == Settings()


def test_every_setting_has_a_known_type_and_a_sample() -> None:
    assert set(SAMPLES) == set(FIELDS)
    assert all(f.type in _TYPES for f in FIELDS.values())


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_setting_is_parsed_with_its_type(name: str) -> None:
    raw, expected = SAMPLES[name]
    extra = {"port_max": "65000"} if name == "port_min" else {}
    if name == "redis_url":
        extra = CLUSTER
    settings = Settings.from_env(env(**{name: raw}, **extra))
    value = getattr(settings, name)
    assert value == expected
    assert isinstance(value, _TYPES[FIELDS[name].type])
    # Nothing else changed.
    others = {n for n in FIELDS if n != name and n not in extra}
    assert all(getattr(settings, n) == getattr(Settings(), n) for n in others)


def test_all_settings_at_once() -> None:
    settings = Settings.from_env(env(**{name: raw for name, (raw, _) in SAMPLES.items()}))
    for name, (_, expected) in SAMPLES.items():
        assert getattr(settings, name) == expected, name


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PREVIEW_PORT_MIN", "abc"),
        ("PREVIEW_PORT_MAX", "3100.5"),
        ("PREVIEW_STOP_GRACE", "soon"),
        ("PREVIEW_MAX_FILES", "many"),
    ],
)
def test_malformed_value_names_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=name) as exc_info:
        Settings.from_env({name: raw})
    assert repr(raw) in str(exc_info.value)


@pytest.mark.parametrize(
    ("port_min", "port_max"),
    [("4000", "3999"), ("0", "10"), ("3001", "65536"), ("-5", "3100")],
)
def test_port_range_is_validated(port_min: str, port_max: str) -> None:
    with pytest.raises(ValueError, match="PREVIEW_PORT_MIN"):
        Settings.from_env(env(port_min=port_min, port_max=port_max))


def test_single_port_range_is_fine() -> None:
    assert Settings.from_env(env(port_min="5000", port_max="5000")).port_max == 5000


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("startup_timeout", "0"),
        ("keepalive_interval", "-1"),
        ("max_uptime", "nan"),
        ("max_uptime", "inf"),
        ("session_timeout", "0"),
        ("health_interval", "-0.5"),
        ("stop_grace", "-1"),
        ("stop_grace", "nan"),
        ("stream_interval", "-0.001"),
        ("stream_interval", "nan"),
        ("jwt_max_lifetime", "0"),
        ("jwt_max_lifetime", "nan"),
        ("max_streams_per_user", "0"),
    ],
)
def test_durations_must_be_finite_and_positive(name: str, raw: str) -> None:
    # A negative, NaN or infinite duration would only fail later, inside a running
    # preview (trio refuses negative/NaN timeouts; timedelta refuses infinity).
    with pytest.raises(ValueError, match="PREVIEW_" + name.upper()):
        Settings.from_env(env(**{name: raw}))


_NUMBERS = [name for name, f in FIELDS.items() if f.type in ("int", "float")]
# Where 0 means something (no grace, unpaced, no previews for a tier, twice the CPUs, no
# bound, nothing captured, no build or data-init cache); every other number must be above
# zero.
_ZERO_MEANS_SOMETHING = {
    "stop_grace",
    "stream_interval",
    "partial_line_flush",
    "max_starting",
    "user_storage_mb",
    "max_instances_free",
    "max_instances_pro",
    "capture_requests",
    "capture_mb",
    "capture_body_bytes",
    "build_cache_mb",
    "data_cache_mb",
    "audit_retention_days",
}


@pytest.mark.parametrize("name", _NUMBERS)
def test_no_number_setting_takes_a_negative_and_zero_only_where_it_means_something(
    name: str,
) -> None:
    # PREVIEW_PROXY_TIMEOUT=-1 started a service whose every proxied call was a 500
    # (trio refuses a negative timeout), PREVIEW_DB_THREADS=0 one that failed at its
    # first query: refused at start, naming the variable.
    with pytest.raises(ValueError):
        Settings.from_env(env(**{name: "-1"}))
    if name in _ZERO_MEANS_SOMETHING:
        assert getattr(Settings.from_env(env(**{name: "0"})), name) == 0
    else:
        with pytest.raises(ValueError):
            Settings.from_env(env(**{name: "0"}))


def test_zero_stop_grace_and_line_size_validation() -> None:
    assert Settings.from_env(env(stop_grace="0")).stop_grace == 0
    assert Settings.from_env(env(stream_interval="0")).stream_interval == 0  # unpaced
    with pytest.raises(ValueError):
        Settings.from_env(env(max_line_bytes="10"))


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("app_domain", "Preview.Example.com"),
        ("app_domain", "*.example.com"),
        ("app_domain", "example.com/x"),
        ("app_origin_template", "preview.example.com"),
        ("app_origin_template", "https://preview.example.com"),
        ("app_origin_template", "https://x{preview}.example.com"),
        ("app_origin_template", "https://{preview}.example.com/app"),
        ("app_origin_template", "ftp://{preview}.example.com"),
        ("app_ticket_timeout", "0"),
    ],
)
def test_app_origin_settings_are_validated(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match="PREVIEW_" + name.upper()):
        Settings.from_env(env(**{name: raw}))


@pytest.mark.parametrize("raw", ["node a", "a" * 65, "node/a", "nöde"])
def test_a_node_id_is_a_plain_name(raw: str) -> None:
    with pytest.raises(ValueError, match="PREVIEW_NODE_ID"):
        Settings.from_env(env(node_id=raw))
    assert Settings.from_env(env(node_id="node-1.eu_west")).node == "node-1.eu_west"


def test_the_node_name_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "data").node
    assert first and (tmp_path / "data" / "node-id").read_text() == first
    assert Settings(data_dir=tmp_path / "data").node == first  # a restart: the same node
    assert Settings(data_dir=tmp_path / "other").node != first


def test_unknown_env_names_reports_typos_only() -> None:
    environ = {
        "PREVIEW_TYPO": "1",
        "PREVIEW_PORT_MINN": "3001",
        "PREVIEW_PORT_MIN": "3001",
        "PREVIEW_STOP_GRACE": "1",
        "PREVIEW_URL": "http://127.0.0.1:8000",
        "PREVIEW_TOKEN": "t",
        "PREVIEW_TEST_POSTGRES_URL": "postgresql://",
        "PREVIEW_TEST_REQUIRE_NPM": "1",  # the test suite's own
        "PREVIEW_BENCH_SANDBOX": "auto",  # the benchmarks' own
        "HOME": "/root",
        "PREVIEWTYPO": "x",
        "MY_PREVIEW_TYPO": "x",
    }
    assert unknown_env_names(environ) == ["PREVIEW_PORT_MINN", "PREVIEW_TYPO"]
    assert unknown_env_names({name: "1" for name in ENV_NAMES}) == []


def test_settings_help_has_a_row_for_every_field() -> None:
    names = [row[0] for row in SETTINGS_HELP]
    assert sorted(names) == sorted(ENV_NAMES)
    assert len(names) == len(set(names))
    for name, default, unit, text in SETTINGS_HELP:
        assert unit and text, name
        assert isinstance(default, str)
    rows = {row[0]: row for row in SETTINGS_HELP}
    assert rows["PREVIEW_PORT_MIN"][1] == "3001"
    assert rows["PREVIEW_JWT_SECRET"][1] == ""
    assert rows["PREVIEW_PYTHON"][1] == "(service's python)"


def test_resolve_jwt_secret_generates_once_and_persists(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Settings(data_dir=data_dir).resolve_jwt_secret()
    path = data_dir / "jwt-secret"
    assert len(first) >= 32
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A second call (a restart) reads it back rather than making a new one.
    assert Settings(data_dir=data_dir).resolve_jwt_secret() == first
    assert Settings(data_dir=tmp_path / "other").resolve_jwt_secret() != first


def test_configured_jwt_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", jwt_secret="configured")
    assert settings.resolve_jwt_secret() == "configured"
    assert not (tmp_path / "data" / "jwt-secret").exists()


def test_database_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    expected = f"sqlite:///{(tmp_path / 'data' / 'preview.db').resolve()}"
    assert settings.database_url == expected
    assert tmp_path / "data" not in settings.previews_dir.parents
    url = "postgresql+psycopg://user@localhost/preview"
    assert Settings(data_dir=tmp_path, db_url=url).database_url == url
    from_env = Settings.from_env(env(data_dir=str(tmp_path / "d")))
    assert from_env.database_url == f"sqlite:///{(tmp_path / 'd' / 'preview.db').resolve()}"


def test_single_node_is_the_default_and_cluster_mode_needs_redis() -> None:
    assert not Settings().cluster
    # The cluster's other settings alone change nothing: Redis turns cluster mode on.
    assert not Settings.from_env(env(**CLUSTER)).cluster
    assert Settings.from_env(env(redis_url="redis://127.0.0.1:6379/0", **CLUSTER)).cluster


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"db_url": ""}, "needs PREVIEW_DB_URL on PostgreSQL"),
        ({"db_url": "sqlite:////srv/preview.db"}, "needs PREVIEW_DB_URL on PostgreSQL"),
        ({"db_url": "mysql://u@db/preview"}, "needs PREVIEW_DB_URL on PostgreSQL"),
        ({"cluster_secret": ""}, "needs PREVIEW_CLUSTER_SECRET"),
        ({"cluster_secret": "short"}, "at least 32 characters (it is shorter)"),
        ({"internal_url": ""}, "needs PREVIEW_INTERNAL_URL"),
        ({"internal_url": "http://10.0.0.5:8000/path"}, "http://host:port"),
        ({"internal_url": "10.0.0.5:8000"}, "http://host:port"),
        ({"redis_url": "http://127.0.0.1:6379"}, "PREVIEW_REDIS_URL must look like"),
    ],
)
def test_cluster_mode_without_what_it_needs_is_refused_in_one_line(
    changed: dict[str, str], said: str
) -> None:
    values = {"redis_url": "redis://127.0.0.1:6379/0", **CLUSTER, **changed}
    with pytest.raises(ValueError, match=re.escape(said)) as refused:
        Settings.from_env(env(**{name: value for name, value in values.items() if value}))
    assert "\n" not in str(refused.value)
