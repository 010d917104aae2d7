"""The Docker files name only settings, commands and packages that exist.

CI builds the image and runs two commands in it (``.ci/image``); these checks catch, in a second,
the drift that build would not catch (a renamed setting, a removed command, a new package left
out) and cover the compose file, which CI cannot run.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER_FILES = [
    ROOT / "Dockerfile",
    ROOT / "docker-compose.yml",
    ROOT / "docker" / "entrypoint.sh",
    ROOT / "docker" / "healthcheck.py",
]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _helpdesk_commands() -> list[list[str]]:
    """The helpdesk command lines the image runs: the entrypoint's own, and the default
    arguments (Dockerfile CMD, compose ``command``) that it hands to ``helpdesk``."""
    entrypoint = _text(ROOT / "docker" / "entrypoint.sh")
    own = [
        shlex.split(m.group(1))
        for m in re.finditer(r"^\s*helpdesk ([a-z][a-z -]*)$", entrypoint, re.MULTILINE)
    ]
    cmd = re.search(r"^CMD (\[.*\])$", _text(ROOT / "Dockerfile"), re.MULTILINE)
    assert cmd is not None
    # compose: ``run`` plus BOT_RUN_FLAGS, empty (polling) or --webhook.
    assert "command: run ${BOT_RUN_FLAGS:-}" in _text(ROOT / "docker-compose.yml")
    return [*own, json.loads(cmd.group(1)), ["run", "--webhook"]]


def test_every_helpdesk_variable_is_a_setting() -> None:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    used = {
        name
        for path in DOCKER_FILES
        for name in re.findall(rf"\b{ENV_PREFIX}[A-Z0-9_]+", _text(path))
    }
    assert used
    assert used <= known


@pytest.mark.parametrize("words", _helpdesk_commands(), ids=" ".join)
def test_commands_the_image_runs_exist(words: list[str]) -> None:
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output


def test_the_image_gets_every_package_and_nothing_else() -> None:
    config = tomllib.loads(_text(ROOT / "pyproject.toml"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.rstrip("*") for p in include)
    dockerfile = _text(ROOT / "Dockerfile")
    copied = sorted(re.findall(r"^COPY (\w+) \./\1$", dockerfile, re.MULTILINE))
    assert copied == packages
    kept = re.findall(r"^!(\w+)/$", _text(ROOT / ".dockerignore"), re.MULTILINE)
    assert set(packages) <= set(kept)


def test_health_check_and_compose_agree_on_the_metrics_endpoint() -> None:
    dockerfile = _text(ROOT / "Dockerfile")
    compose = _text(ROOT / "docker-compose.yml")
    assert "HELPDESK_METRICS_PORT=9100" in dockerfile
    assert 'HELPDESK_METRICS_PORT: "9100"' in compose
    assert "127.0.0.1:9100:9100" in compose
    assert "/health" in _text(ROOT / "docker" / "healthcheck.py")
