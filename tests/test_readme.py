"""The README and the docs stay true: every setting documented (docs/operating.md), CI runs
the README's test command."""

from __future__ import annotations

from pathlib import Path

from preview.settings import SETTINGS_HELP

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
OPERATING = (ROOT / "docs" / "operating.md").read_text()  # the settings table's home
TEST_COMMAND = "./dev test"
DEV = (ROOT / "dev").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    for name, default, unit, text in SETTINGS_HELP:
        row = f"| `{name}` | {default or '(empty)'} | {unit} | {text} |"
        assert row in OPERATING, f"docs/operating.md lacks or misstates {name}"


# dev's install (when pyproject.toml changed): quiet (-q), so that the URL `preview
# serve` prints is not buried under pip's output.
_INSTALLS = (
    "    [ -x .venv/bin/python ] || python3 -m venv .venv\n"
    '    .venv/bin/pip install -q -e "$spec" && echo "$want" > "$stamp"\n'
)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert f"```sh\n   {TEST_COMMAND}\n   ```" in README
    assert f"\n{TEST_COMMAND}\n" in (ROOT / ".ci" / "run").read_text()
    assert "    install '.[test]' test\n" in DEV and _INSTALLS in DEV
    assert 'exec .venv/bin/python -m pytest "$@"' in DEV
    # With no arguments every test runs, in the processes the README says.
    assert '[ $# -gt 0 ] || set -- -n "${PREVIEW_TEST_WORKERS:-4}" --dist loadfile' in DEV
    assert "pytest -n 4 --dist loadfile`:" in README and "`PREVIEW_TEST_WORKERS`" in README


def test_serve_command_is_in_the_readme() -> None:
    assert "```sh\n   ./dev serve\n   ```" in README
    # Quiet install (-q): the URL `preview serve` prints is not buried under pip's output.
    assert 'install . serve test && exec .venv/bin/preview serve "$@"' in DEV and _INSTALLS in DEV
