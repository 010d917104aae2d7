"""Workers sharing a model directory start using a model another process promoted."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.triage_model import ModelTriage
from bot.app import follow_current_model
from triage import ModelRegistry, TriageModel


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
