"""The README stays true: every setting documented, CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

from preview.settings import SETTINGS_HELP

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
)


def test_every_setting_is_documented_with_its_default() -> None:
    for name, default, unit, text in SETTINGS_HELP:
        row = f"| `{name}` | {default or '(empty)'} | {unit} | {text} |"
        assert row in README, f"README lacks or misstates {name}"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert TEST_COMMAND in README
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()


def test_serve_command_is_in_the_readme() -> None:
    # Quiet install (-q): the URL `preview serve` prints is not buried under pip's output.
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/preview serve" in (
        README
    )
