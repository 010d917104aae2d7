"""Reading a saved model directory without scikit-learn: ``meta.json`` and the compact form.

:func:`triage.save` writes, beside ``model.joblib`` (the fitted scikit-learn objects, for
training, evaluation and export), ``compact.npz`` + ``compact.json`` (:mod:`triage.compact`:
plain arrays and JSON, no pickle), all listed with their sha256 in ``meta.json``. The bot
process reads only the compact form, through :func:`load_compact_model`; it never imports
scikit-learn, scipy or joblib, and a model survives an upgrade of scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from triage.compact import ARRAYS_FILE, SPEC_FILE, CompactTriage, load_compact
from triage.errors import ModelLoadError

__all__ = [
    "FORMAT",
    "META_FILE",
    "MODEL_FILE",
    "CompactFormMissing",
    "load_compact_model",
    "read_meta",
    "sha256",
]

FORMAT = "helpdesk-triage-model/1"
MODEL_FILE = "model.joblib"
META_FILE = "meta.json"


class CompactFormMissing(ModelLoadError):
    """The saved model has no compact form (saved before there was one): export it with
    ``helpdesk triage export`` (scikit-learn, so in another process than the bot's)."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_meta(directory: str | Path) -> dict[str, Any]:
    """Read and check ``meta.json`` of a saved model directory.

    Raises
    ------
    ModelLoadError
        When the directory or file is missing or the JSON is invalid or incomplete.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelLoadError(f"model directory not found: {directory}")
    path = directory / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{directory} is not a saved model: {META_FILE} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path} is corrupt: {error}") from None
    required = ("format", "versions", "labels", "threshold", "files")
    if not isinstance(meta, dict) or any(key not in meta for key in required):
        raise ModelLoadError(f"{path} is incomplete: expected keys {', '.join(required)}")
    if meta["format"] != FORMAT:
        raise ModelLoadError(f"{path}: unknown format {meta['format']!r} (expected {FORMAT})")
    return meta


def model_info(meta: dict[str, Any]) -> dict[str, Any]:
    """The model's ``info`` as :func:`triage.save` split it into ``meta.json``."""
    info = dict(meta.get("info") or {})
    info.update(
        created_at=meta.get("created_at"),
        data_sha256=meta.get("data_sha256"),
        threshold_selection=meta.get("threshold_selection"),
        metrics=meta.get("metrics"),
    )
    return info


def load_compact_model(directory: str | Path) -> CompactTriage:
    """Load the compact form of a model saved by :func:`triage.save` (numpy only).

    Raises
    ------
    CompactFormMissing
        When the directory holds no compact form (an older save; see the class).
    ModelLoadError
        When a file is missing, corrupt, or does not match its checksum.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    files = meta["files"] if isinstance(meta["files"], dict) else {}
    if ARRAYS_FILE not in files or SPEC_FILE not in files:
        raise CompactFormMissing(f"{directory} has no compact form ({ARRAYS_FILE})")
    for name in (ARRAYS_FILE, SPEC_FILE):
        path = directory / name
        if not path.is_file():
            raise ModelLoadError(f"{directory} is incomplete: {name} is missing")
        if files[name].get("sha256") != sha256(path):
            raise ModelLoadError(f"{path} is corrupt: its sha256 does not match {META_FILE}")
    try:
        model = load_compact(directory, info=model_info(meta))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{directory} holds an unusable compact model: {error}") from None
    if list(model.labels) != list(meta["labels"]):
        raise ModelLoadError(f"{directory}: labels in {META_FILE} do not match the model")
    return model
