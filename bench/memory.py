"""Memory benchmark: what the bot process holds, and what each top package costs to import.

Prints one JSON object:

* ``imports``: RSS added by importing each top package alone, in a fresh interpreter each
  (``aiogram_eager`` is aiogram as it imports itself, every type model built; ``aiogram`` is
  how the bot imports it, models built on first use; see ``bot/lazy_aiogram.py``).
* ``stages``: RSS of a fresh interpreter, after importing the bot's code (``bot.app``), and
  after loading the triage model from disk (its compact form), and which of scikit-learn,
  scipy and joblib got imported (none: the bot serves with numpy).
* ``process``: the real ``helpdesk run`` against the emulator on SQLite: RSS once it polls
  (idle, model loaded; a first start trained and saved the model), after a burst of
  customer messages has reached the topics, and the peak (VmHWM).

    python bench/memory.py [--customers 40] [--messages 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import TOKEN, UNLIMITED, arrived_in_group, bench_env, machine  # noqa: E402

from bot.sandbox.emulator import BotApiEmulator  # noqa: E402
from tests.support.process import BotProcess  # noqa: E402
from tests.support.scenarios import switch_incidents_off  # noqa: E402

RSS = """
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
"""

IMPORTS = {
    "pydantic": "import pydantic",
    "sqlalchemy": "import sqlalchemy.ext.asyncio",
    "aiogram_eager": "import aiogram, aiogram.types",
    "aiogram": "import bot.lazy_aiogram as l; l.import_aiogram_lazily(); import aiogram",
    "scikit-learn": "import sklearn.svm, sklearn.calibration, sklearn.feature_extraction.text",
    # What the bot imports of the triage library: numpy, PyStemmer, mmh3, no scikit-learn.
    "triage_serving": "import triage.saved, triage.similar, triage.similarity, "
    "triage.acknowledgement",
    "alembic": "import alembic.command",
    "redis": "import redis.asyncio",
    "matplotlib": "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot",
    "apscheduler": "import apscheduler.schedulers.asyncio",
}


def in_fresh_python(code: str) -> Any:
    """Run ``code`` (which prints one JSON value) in a new interpreter at the repo root."""
    out = subprocess.run(
        [sys.executable, "-c", RSS + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_costs() -> dict[str, float]:
    costs = {}
    for name, statement in IMPORTS.items():
        report = "import json; print(json.dumps(round(rss() - before, 1)))"
        costs[name] = in_fresh_python(f"before = rss()\n{statement}\n{report}")
    return costs


def stages(model_dir: Path) -> dict[str, Any]:
    return in_fresh_python(
        f"""
        import json
        import sys
        from pathlib import Path
        values = {{"python": round(rss(), 1)}}
        import bot.app
        values["bot_code_imported"] = round(rss(), 1)
        from bot.services.training import load_or_train
        load_or_train(Path({str(model_dir)!r}))
        values["model_loaded"] = round(rss(), 1)
        heavy = [m for m in ("sklearn", "scipy", "joblib") if m in sys.modules]
        values["scikit_learn_or_scipy_imported"] = heavy
        print(json.dumps(values))
        """
    )


def status_mb(pid: int | None, field: str) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


async def process_rss(customers: int, messages: int, data_dir: Path) -> dict[str, Any]:
    emulator = BotApiEmulator(TOKEN, validate_updates=False)
    await emulator.start()
    group = emulator.add_supergroup("Agents")
    admin = emulator.add_user("Admin")
    people = [emulator.add_user(f"C{i}") for i in range(customers)]
    env = bench_env(emulator, group, admin, data_dir) | UNLIMITED
    result: dict[str, Any] = {"customers": customers, "messages_per_customer": messages}
    try:
        # The first start trains and saves the default model; the measured one loads it.
        for run in ("first_start", "measured"):
            proc = BotProcess(
                [sys.executable, "-m", "bot", "run"],
                env,
                cwd=data_dir,
                log_path=data_dir / f"{run}.log",
            )
            await proc.start()
            await proc.wait_ready(emulator, timeout=120)
            if run == "first_start":
                await proc.terminate(timeout=15)
                continue
            await asyncio.sleep(2.0)
            result["idle_after_start_mb"] = status_mb(proc.pid, "VmRSS")
            # Near-identical texts from everybody are a surge (one incident, nothing copied):
            # the burst is about delivery, as in bench/load.py.
            await switch_incidents_off(emulator, group["id"], admin, seconds=120)
            by_text: dict[str, tuple[int, int]] = {}
            for i in range(messages):
                for p in people:
                    text = f"message {i} from {p['first_name']}"
                    by_text[text] = (p["id"], emulator.user_sends_text(p, text)["message_id"])
            wanted = set(by_text.values())
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if wanted <= arrived_in_group(emulator, group["id"], by_text).keys():
                    break
                await asyncio.sleep(0.2)
            result["delivered_all"] = (
                wanted <= arrived_in_group(emulator, group["id"], by_text).keys()
            )
            result["after_burst_mb"] = status_mb(proc.pid, "VmRSS")
            result["peak_mb"] = status_mb(proc.pid, "VmHWM")
            result["exit_code"] = await proc.terminate(timeout=15)
    finally:
        await emulator.stop()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="helpdesk-memory-"))
    out: dict[str, Any] = {"machine": machine(), "unit": "MB (RSS)"}
    out["imports"] = import_costs()
    out["process"] = await process_rss(args.customers, args.messages, data_dir)
    out["stages"] = stages(data_dir / "models")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
