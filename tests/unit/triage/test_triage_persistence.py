"""save/load: round trip, metadata, version refusal, corrupt files, atomic writes."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import joblib
import pytest
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

import triage.persistence
from triage import (
    Dataset,
    ModelLoadError,
    ModelVersionError,
    TriageModel,
    library_versions,
    load,
    read_meta,
    save,
)


def _copy(source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / "copy"))


def _edit_meta(directory: Path, **changes: object) -> None:
    path = directory / "meta.json"
    meta = json.loads(path.read_text())
    for key, value in changes.items():
        meta[key] = value
    path.write_text(json.dumps(meta))


class TestRoundTrip:
    def test_same_predictions_after_loading(
        self, model: TriageModel, saved_model_dir: Path, holdout: Dataset
    ) -> None:
        loaded = load(saved_model_dir)
        assert loaded.predict_many(holdout.texts) == model.predict_many(holdout.texts)
        assert loaded.predict(holdout.texts[0]) == model.predict(holdout.texts[0])
        assert loaded.threshold == model.threshold
        assert loaded.team_map == model.team_map
        assert loaded.labels == model.labels
        assert loaded.priority_pipeline is not None
        assert loaded.team_pipeline is not None
        assert loaded.team_pipeline["features"] is loaded.pipeline["features"]  # stored once

    def test_meta_describes_the_model(self, model: TriageModel, saved_model_dir: Path) -> None:
        assert sorted(p.name for p in saved_model_dir.iterdir()) == [
            "compact.json",
            "compact.npz",
            "meta.json",
            "model.joblib",
        ]
        meta = read_meta(saved_model_dir)
        assert meta["versions"] == library_versions()
        assert set(meta["versions"]) == {"python", "sklearn", "numpy", "scipy", "joblib"}
        assert meta["labels"] == list(model.labels)
        assert meta["team_map"] == model.team_map
        assert meta["threshold"] == model.threshold
        assert meta["threshold_selection"]["method"].startswith("most out-of-scope rows")
        assert meta["similarity_threshold"] == model.similarity_threshold
        assert meta["threshold_selection"]["similarity_threshold"] == model.similarity_threshold
        assert meta["oos_label"] == "oos"
        assert len(meta["data_sha256"]) == 64
        assert meta["metrics"]["macro_f1"] == model.info["metrics"]["macro_f1"]
        assert meta["created_at"].endswith("+00:00")
        assert len(meta["files"]["model.joblib"]["sha256"]) == 64

    def test_overwrites_an_existing_directory(self, model: TriageModel, tmp_path: Path) -> None:
        target = tmp_path / "model"
        target.mkdir()
        (target / "stale.txt").write_text("old")
        save(model, target)
        assert not (target / "stale.txt").exists()
        assert load(target).labels == model.labels
        assert [p.name for p in tmp_path.iterdir()] == ["model"]


class TestVersionRefusal:
    def test_other_sklearn_version_in_meta(self, saved_model_dir: Path, tmp_path: Path) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        meta = json.loads((directory / "meta.json").read_text())
        _edit_meta(directory, versions=meta["versions"] | {"sklearn": "1.0.2"})
        with pytest.raises(ModelVersionError, match=r"scikit-learn 1\.0\.2.*retrain"):
            load(directory)

    def test_inconsistent_version_warning_becomes_an_error(
        self, saved_model_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def warn_and_load(path: object) -> object:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name="LinearSVC",
                    current_sklearn_version=sklearn.__version__,
                    original_sklearn_version="0.24.0",
                ),
                stacklevel=2,
            )
            return joblib.load(path)

        monkeypatch.setattr(triage.persistence.joblib, "load", warn_and_load)
        with pytest.raises(ModelVersionError, match=r"0\.24\.0"):
            load(saved_model_dir)


class TestBrokenFiles:
    def test_missing_directory(self, tmp_path: Path) -> None:
        with pytest.raises(ModelLoadError, match="not found"):
            load(tmp_path / "nope")

    def test_missing_meta(self, saved_model_dir: Path, tmp_path: Path) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        (directory / "meta.json").unlink()
        with pytest.raises(ModelLoadError, match=r"meta\.json is missing"):
            load(directory)

    def test_corrupt_meta(self, saved_model_dir: Path, tmp_path: Path) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        (directory / "meta.json").write_text("{not json")
        with pytest.raises(ModelLoadError, match="corrupt"):
            load(directory)

    def test_missing_model_file(self, saved_model_dir: Path, tmp_path: Path) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        (directory / "model.joblib").unlink()
        with pytest.raises(ModelLoadError, match=r"model\.joblib is missing"):
            load(directory)

    def test_truncated_model_file(self, saved_model_dir: Path, tmp_path: Path) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        data = (directory / "model.joblib").read_bytes()
        (directory / "model.joblib").write_bytes(data[: len(data) // 2])
        with pytest.raises(ModelLoadError, match="sha256 does not match"):
            load(directory)

    def test_unpicklable_content_with_matching_checksum(
        self, saved_model_dir: Path, tmp_path: Path
    ) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        (directory / "model.joblib").write_bytes(b"garbage")
        files = {
            "model.joblib": {"sha256": triage.persistence._sha256(directory / "model.joblib")}
        }
        _edit_meta(directory, files=files)
        with pytest.raises(ModelLoadError, match="cannot unpickle"):
            load(directory)


class TestAtomicWrite:
    def test_failure_leaves_no_partial_directory(
        self, model: TriageModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_dump(value: object, filename: Path, **kwargs: object) -> None:
            Path(filename).write_bytes(b"half a model")
            raise OSError("disk full")

        monkeypatch.setattr(triage.persistence.joblib, "dump", broken_dump)
        with pytest.raises(OSError, match="disk full"):
            save(model, tmp_path / "model")
        assert list(tmp_path.iterdir()) == []

    def test_failure_keeps_the_previous_model(
        self,
        model: TriageModel,
        saved_model_dir: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        directory = _copy(saved_model_dir, tmp_path)
        before = (directory / "model.joblib").read_bytes()

        def broken_write(*args: object, **kwargs: object) -> None:
            raise OSError("read-only")

        monkeypatch.setattr(triage.persistence, "_fsync", broken_write)
        with pytest.raises(OSError, match="read-only"):
            save(model, directory)
        assert (directory / "model.joblib").read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]
