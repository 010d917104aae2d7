"""Saving and loading models: ``model.joblib`` never travels without ``meta.json``.

Layout of a saved model directory::

    model.joblib   {"pipeline": ..., "team_pipeline": ..., "priority_pipeline": ...,
                    "novelty": ...}
    compact.npz    the same fitted state as plain arrays, and compact.json the rest of it
                   (:mod:`triage.compact`: what the bot process loads, numpy only)
    meta.json      versions, labels, team map, out-of-scope label, confidence and
                   similarity thresholds and how they were chosen, data hash, training
                   metrics, creation time, sha256 of model.joblib

``model.joblib`` is a pickle: load only directories this library wrote. The checksum in
``meta.json`` catches truncated or swapped files, not a malicious author.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from triage.errors import ModelLoadError, ModelVersionError
from triage.export import export_model
from triage.model import TriageModel
from triage.saved import (
    ARRAYS_FILE,
    FORMAT,
    META_FILE,
    MODEL_FILE,
    SPEC_FILE,
    model_info,
    read_meta,
    save_compact,
)
from triage.saved import fsync as _fsync
from triage.saved import sha256 as _sha256

__all__ = [
    "FORMAT",
    "META_FILE",
    "MODEL_FILE",
    "add_compact_form",
    "library_versions",
    "load",
    "read_meta",
    "save",
]


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled model can be loaded safely."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def save(model: TriageModel, directory: str | Path) -> Path:
    """Save a model as ``model.joblib`` + ``meta.json``, atomically.

    Both files are written into a fresh temporary directory next to ``directory``, flushed
    to disk, and the temporary directory is then renamed to ``directory``. If anything
    fails, the temporary directory is removed and ``directory`` is left as it was. An
    existing ``directory`` is replaced by renaming it aside first (two renames, so a reader
    may briefly find no directory; use :class:`triage.registry.ModelRegistry` when readers
    must always see a complete model).

    Parameters
    ----------
    model : TriageModel
        The model to save.
    directory : str or Path
        Target directory.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        estimators = {
            "pipeline": model.pipeline,
            "team_pipeline": model.team_pipeline,
            "priority_pipeline": model.priority_pipeline,
            "novelty": model.novelty,
        }
        joblib.dump(estimators, temporary / MODEL_FILE, compress=3)
        _fsync(temporary / MODEL_FILE)
        compact_files = _write_compact(model, temporary)
        info = dict(model.info)
        meta: dict[str, Any] = {
            "format": FORMAT,
            "created_at": info.pop("created_at", None)
            or datetime.now(UTC).isoformat(timespec="seconds"),
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
            "labels": list(model.labels),
            "teams": list(model.teams),
            "team_map": model.team_map,
            "threshold": model.threshold,
            "similarity_threshold": model.similarity_threshold,
            "oos_label": model.oos_label,
            "threshold_selection": info.pop("threshold_selection", None),
            "data_sha256": info.pop("data_sha256", None),
            "metrics": info.pop("metrics", None),
            "info": info,
            "files": {MODEL_FILE: {"sha256": _sha256(temporary / MODEL_FILE)}, **compact_files},
        }
        meta_path = temporary / META_FILE
        meta_path.write_text(
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )
        _fsync(meta_path)
        aside = None
        if directory.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            aside.rmdir()
            os.replace(directory, aside)
        os.replace(temporary, directory)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return directory


def _write_compact(model: TriageModel, directory: Path) -> dict[str, dict[str, str]]:
    """Write the compact form into ``directory``; its ``files`` entries for ``meta.json``."""
    compact = export_model(model)  # fresh: info may have changed since the model was built
    written = save_compact(compact, directory)
    for path in written:
        _fsync(path)
    return {path.name: {"sha256": _sha256(path)} for path in written}


def add_compact_form(directory: str | Path) -> bool:
    """Write the compact form into a model directory saved before there was one.

    ``meta.json`` is rewritten atomically (temporary file, then ``os.replace``) after the
    compact files are on disk, so a reader sees either no compact form or a complete one.

    Returns
    -------
    bool
        False when the directory already had it.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    if ARRAYS_FILE in meta["files"] and SPEC_FILE in meta["files"]:
        return False
    model = load(directory)
    meta["files"].update(_write_compact(model, directory))
    temporary = directory / f".{META_FILE}.tmp"
    temporary.write_text(
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )
    _fsync(temporary)
    os.replace(temporary, directory / META_FILE)
    return True


def load(directory: str | Path) -> TriageModel:
    """Load a model saved by :func:`save`.

    Parameters
    ----------
    directory : str or Path
        Saved model directory.

    Returns
    -------
    TriageModel

    Raises
    ------
    ModelVersionError
        When ``meta.json`` records another scikit-learn version than the running one, or
        unpickling raises scikit-learn's ``InconsistentVersionWarning``: retrain the model.
    ModelLoadError
        When a file is missing, corrupt, or does not match its checksum.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    saved = meta["versions"].get("sklearn") if isinstance(meta["versions"], dict) else None
    if saved != sklearn.__version__:
        raise ModelVersionError(
            f"model in {directory} was saved with scikit-learn {saved}, but "
            f"{sklearn.__version__} is installed; retrain it with this version"
        )
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ModelLoadError(f"{directory} is incomplete: {MODEL_FILE} is missing")
    expected = meta["files"].get(MODEL_FILE, {}).get("sha256")
    if expected != _sha256(model_path):
        raise ModelLoadError(f"{model_path} is corrupt: its sha256 does not match {META_FILE}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            estimators = joblib.load(model_path)
    except InconsistentVersionWarning as warning:
        raise ModelVersionError(
            f"model in {directory} was pickled by another scikit-learn version "
            f"({warning.original_sklearn_version}); retrain it with {sklearn.__version__}"
        ) from None
    except Exception as error:
        raise ModelLoadError(f"cannot unpickle {model_path}: {error}") from None
    if not isinstance(estimators, dict) or "pipeline" not in estimators:
        raise ModelLoadError(f"{model_path} does not hold a triage model")
    info = model_info(meta)
    try:
        model = TriageModel(
            estimators["pipeline"],
            threshold=float(meta["threshold"]),
            similarity_threshold=float(meta.get("similarity_threshold") or 0.0),
            novelty=estimators.get("novelty"),
            oos_label=meta.get("oos_label"),
            team_map=meta.get("team_map"),
            team_pipeline=estimators.get("team_pipeline"),
            priority_pipeline=estimators.get("priority_pipeline"),
            info=info,
        )
    except (TypeError, ValueError, AttributeError) as error:
        raise ModelLoadError(f"{directory} holds an unusable model: {error}") from None
    if list(model.labels) != list(meta["labels"]):
        raise ModelLoadError(f"{directory}: labels in {META_FILE} do not match the model")
    return model
