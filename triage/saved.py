"""A saved model directory without scikit-learn: ``meta.json``, and the compact form's files.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from triage.analyzers import AnalyzerSpec
from triage.compact import (
    CalibratedHead,
    Centroids,
    CompactTriage,
    FeatureSpace,
    Member,
    TfidfBlock,
)
from triage.errors import ModelLoadError
from triage.policy import Policy

__all__ = [
    "ARRAYS_FILE",
    "COMPACT_FORMAT",
    "FORMAT",
    "META_FILE",
    "MODEL_FILE",
    "SPEC_FILE",
    "CompactFormMissing",
    "load_compact",
    "load_compact_model",
    "read_meta",
    "save_compact",
    "sha256",
]

FORMAT = "helpdesk-triage-model/1"
MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
COMPACT_FORMAT = "helpdesk-triage-compact/1"
ARRAYS_FILE = "compact.npz"
SPEC_FILE = "compact.json"


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


# -- the compact files ---------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, name: str, array: Any) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.asarray(array)
        return key


def _features_spec(space: FeatureSpace, writer: _Writer) -> list[dict[str, Any]]:
    return [
        {
            "analyzer": block.analyzer.to_dict(),
            "terms": writer.put("terms", block.terms()),
            "idf": None if block.idf is None else writer.put("idf", block.idf),
            "sublinear_tf": block.sublinear_tf,
            "binary": block.binary,
            "norm": block.norm,
            "weight": block.weight,
        }
        for block in space.blocks
    ]


def _head_spec(head: CalibratedHead, writer: _Writer) -> dict[str, Any]:
    members = []
    for member in head.members:
        params: dict[str, Any] = {}
        if member.method == "temperature":
            params["beta"] = float(member.params["beta"])
        elif member.method == "sigmoid":
            params["a"] = writer.put("a", member.params["a"])
            params["b"] = writer.put("b", member.params["b"])
        else:
            params["x"] = [writer.put("x", x) for x in member.params["x"]]
            params["y"] = [writer.put("y", y) for y in member.params["y"]]
            params["x_min"] = writer.put("x_min", member.params["x_min"])
            params["x_max"] = writer.put("x_max", member.params["x_max"])
        members.append(
            {
                "method": member.method,
                "coef": writer.put("coef", member.coef),
                "intercept": writer.put("intercept", member.intercept),
                "positions": writer.put("positions", member.positions),
                "params": params,
            }
        )
    return {"classes": list(head.classes), "members": members}


def save_compact(model: CompactTriage, directory: str | Path) -> tuple[Path, Path]:
    """Write ``compact.npz`` (arrays, no pickle) and ``compact.json`` (the rest).

    Returns
    -------
    tuple of Path
        The two files. The caller makes the directory appear atomically
        (see :func:`triage.save`).
    """
    directory = Path(directory)
    writer = _Writer()
    policy = model.policy
    spec: dict[str, Any] = {
        "format": COMPACT_FORMAT,
        "features": _features_spec(model.features, writer),
        "head": _head_spec(model.head, writer),
        "policy": {
            "threshold": policy.threshold,
            "similarity_threshold": policy.similarity_threshold,
            "oos_label": policy.oos_label,
            "team_map": policy.team_map,
        },
        "centroids": None,
        "team": None,
        "priority": None,
        "info": model.info,
    }
    if model.centroids is not None:
        c = model.centroids
        spec["centroids"] = {
            "indptr": writer.put("indptr", c.indptr),
            "indices": writer.put("indices", c.indices),
            "data": writer.put("data", c.data),
            "n": c.n_centroids,
        }
    if model.team is not None:
        features, head = model.team
        spec["team"] = {
            "features": None if features is None else _features_spec(features, writer),
            "head": _head_spec(head, writer),
        }
    if model.priority is not None:
        features, head = model.priority
        spec["priority"] = {
            "features": _features_spec(features, writer),
            "head": _head_spec(head, writer),
        }
    arrays, spec_path = directory / ARRAYS_FILE, directory / SPEC_FILE
    with arrays.open("wb") as stream:
        np.savez(stream, allow_pickle=False, **writer.arrays)
    spec_path.write_text(
        json.dumps(spec, ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8"
    )
    return arrays, spec_path


def _read_features(spec: list[dict[str, Any]], arrays: Mapping[str, np.ndarray]) -> FeatureSpace:
    return FeatureSpace(
        [
            TfidfBlock(
                AnalyzerSpec.from_dict(block["analyzer"]),
                arrays[block["terms"]].tolist(),
                None if block["idf"] is None else arrays[block["idf"]],
                sublinear_tf=block["sublinear_tf"],
                binary=block["binary"],
                norm=block["norm"],
                weight=block["weight"],
            )
            for block in spec
        ]
    )


def _read_head(spec: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> CalibratedHead:
    members = []
    for member in spec["members"]:
        stored = member["params"]
        params: dict[str, Any]
        if member["method"] == "temperature":
            params = {"beta": float(stored["beta"])}
        elif member["method"] == "sigmoid":
            params = {"a": arrays[stored["a"]], "b": arrays[stored["b"]]}
        else:
            params = {
                "x": [arrays[key] for key in stored["x"]],
                "y": [arrays[key] for key in stored["y"]],
                "x_min": arrays[stored["x_min"]],
                "x_max": arrays[stored["x_max"]],
            }
        members.append(
            Member(
                coef=arrays[member["coef"]],
                intercept=arrays[member["intercept"]],
                method=member["method"],
                positions=arrays[member["positions"]],
                params=params,
            )
        )
    return CalibratedHead(spec["classes"], members)


def load_compact(directory: str | Path, *, info: Mapping[str, Any] | None = None) -> CompactTriage:
    """Read a model written by :func:`save_compact`.

    Parameters
    ----------
    directory : str or Path
        The saved model directory.
    info : mapping, optional
        Provenance to keep on the model (``info`` of ``meta.json``, say) instead of the
        copy in ``compact.json``.

    Raises
    ------
    ValueError
        When the files are not a compact triage model of this format.
    OSError
        When a file cannot be read.
    """
    directory = Path(directory)
    spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or spec.get("format") != COMPACT_FORMAT:
        raise ValueError(f"{directory / SPEC_FILE}: not a {COMPACT_FORMAT} file")
    with np.load(directory / ARRAYS_FILE, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    features = _read_features(spec["features"], arrays)
    head = _read_head(spec["head"], arrays)
    team = priority = None
    if spec["team"] is not None:
        shared = spec["team"]["features"]
        team = (
            None if shared is None else _read_features(shared, arrays),
            _read_head(spec["team"]["head"], arrays),
        )
    if spec["priority"] is not None:
        priority = (
            _read_features(spec["priority"]["features"], arrays),
            _read_head(spec["priority"]["head"], arrays),
        )
    centroids = None
    if spec["centroids"] is not None:
        c = spec["centroids"]
        centroids = Centroids(arrays[c["indptr"]], arrays[c["indices"]], arrays[c["data"]], c["n"])
    stored_policy = spec["policy"]
    policy = Policy(
        head.classes,
        threshold=float(stored_policy["threshold"]),
        similarity_threshold=float(stored_policy["similarity_threshold"]),
        oos_label=stored_policy["oos_label"],
        team_map=stored_policy["team_map"],
        team_classes=None if team is None else team[1].classes,
        priority_classes=None if priority is None else priority[1].classes,
    )
    return CompactTriage(
        features,
        head,
        policy,
        centroids=centroids,
        team=team,
        priority=priority,
        info=spec.get("info") if info is None else info,
    )


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
