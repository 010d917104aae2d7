"""The house's size rules, checked on the source tree: a file one can hold in one's head, and
handlers that only parse, call a use case and answer."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 600
MAX_HANDLER_LINES = 30


def python_sources() -> list[Path]:
    """The project's Python files under version control (migrations are history, not code to
    read through)."""
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if "/migrations/" not in name]


def test_no_source_file_is_over_600_lines() -> None:
    sources = python_sources()
    assert len(sources) > 100  # the listing worked
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if path.exists()
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert too_long == {}


def test_no_handler_is_over_30_lines() -> None:
    handlers = {}
    for path in sorted((ROOT / "bot" / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "on_"
            ):
                handlers[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1  # type: ignore[operator]
    assert len(handlers) >= 30  # the handlers were found
    assert {name: n for name, n in handlers.items() if n > MAX_HANDLER_LINES} == {}
