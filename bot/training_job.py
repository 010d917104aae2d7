"""The training side of the model, run in its own interpreter by :mod:`bot.services.training`.

    python -m bot.training_job default REGISTRY_DIR   train the default model, promote it
    python -m bot.training_job retrain REGISTRY_DIR   stdin: {"labels": [...], "team_map": {...}}
    python -m bot.training_job export REGISTRY_DIR    write the current version's compact form

Each prints one JSON object on its last line. This process imports scikit-learn and scipy, so
the bot process does not: it only reads the files written here (see :mod:`triage.compact`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bot.services import training


def run(command: str, registry_dir: Path, payload: dict[str, Any]) -> dict[str, Any]:
    if command == "default":
        return {"version": training.train_default_and_promote(registry_dir)}
    if command == "retrain":
        labels = [training.label_from_json(item) for item in payload["labels"]]
        report = training.train_and_compare(registry_dir, labels, dict(payload["team_map"]))
        return report.to_dict()
    if command == "export":
        from triage import ModelRegistry, RegistryError
        from triage.persistence import add_compact_form

        registry = ModelRegistry(registry_dir)
        current = registry.current_id()
        if current is None:
            raise RegistryError(f"no current model in {registry_dir}")
        return {"version": current, "written": add_compact_form(registry.versions_dir / current)}
    raise SystemExit(f"unknown command {command!r}")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    payload = json.loads(sys.stdin.read() or "{}")
    result = run(argv[0], Path(argv[1]), payload)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
