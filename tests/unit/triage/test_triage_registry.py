"""Model registry: versions, current pointer, promotion, rollback, promotion rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from triage import (
    Metrics,
    ModelRegistry,
    ModelVersionError,
    RegistryError,
    TriageModel,
    should_promote,
)


class TestShouldPromote:
    def test_no_current_model(self) -> None:
        assert should_promote({"macro_f1": 0.1}, None) == (True, "no current model")

    def test_better_or_equal_candidate(self) -> None:
        promote, reason = should_promote(
            {"macro_f1": 0.90, "accuracy_when_confident": 0.95},
            {"macro_f1": 0.90, "accuracy_when_confident": 0.955},
            tolerance=0.01,
        )
        assert promote, reason

    def test_worse_macro_f1(self) -> None:
        promote, reason = should_promote(
            {"macro_f1": 0.85, "accuracy_when_confident": 0.99},
            {"macro_f1": 0.90, "accuracy_when_confident": 0.95},
        )
        assert not promote
        assert "macro_f1" in reason

    def test_worse_accuracy_when_confident(self) -> None:
        promote, reason = should_promote(
            {"macro_f1": 0.95, "accuracy_when_confident": 0.90},
            {"macro_f1": 0.90, "accuracy_when_confident": 0.95},
        )
        assert not promote
        assert "accuracy_when_confident" in reason

    def test_accepts_metrics_objects(self, trained: tuple[TriageModel, Metrics]) -> None:
        _, metrics = trained
        assert should_promote(metrics, metrics)[0]


class TestRegistry:
    def test_empty_registry(self, tmp_path: Path) -> None:
        registry = ModelRegistry(tmp_path / "registry")
        assert registry.list_versions() == []
        assert registry.current() is None
        with pytest.raises(RegistryError, match="no current model"):
            registry.load_current()
        with pytest.raises(RegistryError, match="roll back"):
            registry.rollback()

    def test_promote_and_rollback(self, model: TriageModel, tmp_path: Path) -> None:
        registry = ModelRegistry(tmp_path / "registry")
        first = registry.promote(model)
        assert registry.current_id() == first.id
        second = registry.promote(model)
        assert second.id != first.id
        assert registry.current_id() == second.id
        assert [v.id for v in registry.list_versions()] == [first.id, second.id]
        assert [v.is_current for v in registry.list_versions()] == [False, True]
        assert registry.load_current().labels == model.labels

        restored = registry.rollback()
        assert restored.id == first.id == registry.current_id()
        assert (registry.versions_dir / second.id).is_dir()  # kept for inspection
        with pytest.raises(RegistryError):
            registry.rollback()

    def test_promote_a_stored_version_by_id(self, model: TriageModel, tmp_path: Path) -> None:
        registry = ModelRegistry(tmp_path / "registry")
        candidate = registry.add(model)
        assert registry.current() is None
        assert registry.promote(candidate.id).id == candidate.id
        assert registry.current().metrics["macro_f1"] == model.info["metrics"]["macro_f1"]

    def test_promote_a_saved_directory(self, saved_model_dir: Path, tmp_path: Path) -> None:
        registry = ModelRegistry(tmp_path / "registry")
        version = registry.promote(saved_model_dir)
        assert version.path.parent == registry.versions_dir
        assert (version.path / "model.joblib").is_file()
        assert registry.load_current().threshold > 0

    def test_refuses_a_model_of_another_sklearn_version(
        self, saved_model_dir: Path, tmp_path: Path
    ) -> None:
        candidate = Path(shutil.copytree(saved_model_dir, tmp_path / "old"))
        meta = json.loads((candidate / "meta.json").read_text())
        meta["versions"]["sklearn"] = "0.23.2"
        (candidate / "meta.json").write_text(json.dumps(meta))
        registry = ModelRegistry(tmp_path / "registry")
        with pytest.raises(ModelVersionError):
            registry.promote(candidate)
        assert registry.list_versions() == []

    def test_pointer_files_are_plain_and_complete(
        self, model: TriageModel, tmp_path: Path
    ) -> None:
        registry = ModelRegistry(tmp_path / "registry")
        version = registry.promote(model)
        assert (registry.root / "current").read_text() == version.id + "\n"
        assert json.loads((registry.root / "history.json").read_text()) == [version.id]
        assert not [p for p in registry.root.iterdir() if p.name.startswith(".")]
