"""bench/search.py still runs: a tiny SQLite run prints the JSON figures the README quotes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = module
    spec.loader.exec_module(module)
    return module


async def test_tiny_sqlite_run_reports_every_figure(bench, capsys) -> None:  # type: ignore[no-untyped-def]
    out = await bench.main(["--messages", "2000", "--queries", "21", "--backend", "sqlite"])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(out))
    assert set(printed) == {"machine", "params", "sqlite"}
    sqlite = printed["sqlite"]
    assert sqlite["rows"] == {"tickets": 400, "messages": 2000}
    assert sqlite["queries"] == 21
    assert set(sqlite["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert set(sqlite["by_shape_ms"]) == set(bench.SHAPES)
    assert sqlite["db_bytes"] > 0
    assert sqlite["generation_s"] >= 0
    assert sqlite["avg_hits_per_page"] > 0


def test_generator_is_deterministic_and_fills_every_ticket(bench) -> None:  # type: ignore[no-untyped-def]
    rows = list(bench.generate(500, 100, seed=3))
    assert rows == list(bench.generate(500, 100, seed=3))
    tickets = [r for kind, r in rows if kind == "ticket"]
    messages = [r for kind, r in rows if kind == "message"]
    assert (len(tickets), len(messages)) == (100, 500)
    assert {m[1] for m in messages} == {t[0] for t in tickets}
