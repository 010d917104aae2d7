"""Workers sharing a model directory start using a model another process promoted."""

from __future__ import annotations

import json
from pathlib import Path

from bot.adapters.triage_model import ModelTriage
from bot.jobs import follow_current_model
from triage import ModelRegistry, TriageModel
from triage.compact import CompactTriage


async def test_a_model_promoted_elsewhere_is_picked_up(model: TriageModel, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    first = registry.promote(model)
    classifier = ModelTriage(model, first.id)
    await follow_current_model(tmp_path / "models", classifier)
    assert classifier.version == first.id  # nothing new: nothing loaded

    second = registry.promote(model)  # e.g. the nightly retrain, in another worker
    await follow_current_model(tmp_path / "models", classifier)
    assert classifier.version == second.id
    assert classifier.model is not model  # loaded from disk

    registry._point_to("missing-version", [])  # a broken pointer: keep what we have
    await follow_current_model(tmp_path / "models", classifier)
    assert classifier.version == second.id


async def test_a_version_without_the_compact_form_is_exported_then_used(
    model: TriageModel, tmp_path: Path
) -> None:
    """A rollback by hand to a version saved before the bot served the compact form."""
    registry = ModelRegistry(tmp_path / "models")
    first = registry.promote(model)
    classifier = ModelTriage(model, first.id)
    second = registry.promote(model)
    meta_path = second.path / "meta.json"
    meta = json.loads(meta_path.read_text())
    for name in ("compact.npz", "compact.json"):
        del meta["files"][name]
        (second.path / name).unlink()
    meta_path.write_text(json.dumps(meta))

    await follow_current_model(tmp_path / "models", classifier)
    assert classifier.version == second.id
    assert isinstance(classifier.model, CompactTriage)
    assert (second.path / "compact.npz").is_file()
