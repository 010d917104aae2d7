"""A directory of model versions with a ``current`` pointer, promotion and rollback.

Layout::

    <root>/versions/<id>/     one saved model each (model.joblib + meta.json)
    <root>/current            the id of the model in service (one line)
    <root>/history.json       ids in the order they were promoted (for rollback)

Pointer files are replaced atomically (write a temporary file, then ``os.replace``), and a
version directory appears only complete (see :func:`triage.save`), so a reader that follows
``current`` always finds a whole model.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.compact import CompactTriage
from triage.errors import ModelLoadError, RegistryError
from triage.saved import load_compact_model, read_meta

if TYPE_CHECKING:
    from triage.metrics import Metrics
    from triage.model import TriageModel

__all__ = ["ModelRegistry", "ModelVersion", "should_promote"]


def should_promote(
    candidate_metrics: Metrics | Mapping[str, Any],
    current_metrics: Metrics | Mapping[str, Any] | None,
    *,
    tolerance: float = 0.01,
) -> tuple[bool, str]:
    """Decide whether a retrained candidate may replace the current model.

    Rule: promote when there is no current model; otherwise promote only if, **measured on
    the same held-out labelled data** (e.g. both through :func:`triage.evaluate`),

    * candidate macro-F1 >= current macro-F1 - ``tolerance``, and
    * candidate accuracy-when-confident >= current accuracy-when-confident - ``tolerance``.

    The tolerance lets a retrain on fresher data through when it is statistically no worse;
    a missing metric counts as 0.

    Parameters
    ----------
    candidate_metrics, current_metrics : Metrics or mapping
        Need ``macro_f1`` and ``accuracy_when_confident``; ``current_metrics`` may be
        ``None``.
    tolerance : float, default=0.01
        Allowed drop of each metric.

    Returns
    -------
    promote : bool
    reason : str
        One sentence for logs and the admin.
    """
    if current_metrics is None:
        return True, "no current model"
    candidate = _as_mapping(candidate_metrics)
    current = _as_mapping(current_metrics)
    problems = []
    for key in ("macro_f1", "accuracy_when_confident"):
        new, old = float(candidate.get(key) or 0.0), float(current.get(key) or 0.0)
        if new < old - tolerance:
            problems.append(f"{key} {new:.4f} < current {old:.4f} - {tolerance:g}")
    if problems:
        return False, "candidate is worse: " + "; ".join(problems)
    return True, (
        f"candidate macro_f1 {float(candidate.get('macro_f1') or 0):.4f} and "
        f"accuracy_when_confident {float(candidate.get('accuracy_when_confident') or 0):.4f} "
        f"are within {tolerance:g} of or above the current model"
    )


def _as_mapping(metrics: Metrics | Mapping[str, Any]) -> Mapping[str, Any]:
    return metrics if isinstance(metrics, Mapping) else metrics.to_dict()


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One model version in the registry.

    ``metrics`` are :func:`triage.train`'s figures on the validation split of the model's own
    training data (they also chose its thresholds); ``evaluation`` is what the application
    measured on data the model never saw, with a ``data`` entry naming it, if it recorded
    any (``info["evaluation"]`` in ``meta.json``).
    """

    id: str
    path: Path
    created_at: str | None
    metrics: dict[str, Any] | None
    is_current: bool
    evaluation: dict[str, Any] | None = None


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ModelRegistry:
    """Model versions under one root directory.

    Parameters
    ----------
    root : str or Path
        Registry directory (created on first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self._current_file = self.root / "current"
        self._history_file = self.root / "history.json"

    # -- reading ---------------------------------------------------------------------------

    def current_id(self) -> str | None:
        """Id of the current model, or ``None``."""
        try:
            value = self._current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return value or None

    def _history(self) -> list[str]:
        try:
            history = json.loads(self._history_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except json.JSONDecodeError as error:
            raise RegistryError(f"{self._history_file} is corrupt: {error}") from None
        return [str(item) for item in history]

    def _version(self, version_id: str, current: str | None) -> ModelVersion:
        path = self.versions_dir / version_id
        try:
            meta = read_meta(path)
        except ModelLoadError:
            meta = {}
        return ModelVersion(
            id=version_id,
            path=path,
            created_at=meta.get("created_at"),
            metrics=meta.get("metrics"),
            is_current=version_id == current,
            evaluation=(meta.get("info") or {}).get("evaluation"),
        )

    def list_versions(self) -> list[ModelVersion]:
        """All stored versions, oldest first (ids sort by creation time)."""
        if not self.versions_dir.is_dir():
            return []
        current = self.current_id()
        return [
            self._version(path.name, current)
            for path in sorted(self.versions_dir.iterdir())
            if path.is_dir() and not path.name.startswith(".")
        ]

    def current(self) -> ModelVersion | None:
        """The current version, or ``None`` when nothing was promoted."""
        current = self.current_id()
        return None if current is None else self._version(current, current)

    def load_current(self) -> TriageModel:
        """Load the current model.

        Raises
        ------
        RegistryError
            When no model was promoted.
        ModelLoadError, ModelVersionError
            See :func:`triage.load`.
        """
        from triage.persistence import load  # scikit-learn: not in the bot process

        current = self.current_id()
        if current is None:
            raise RegistryError(f"no current model in {self.root}")
        return load(self.versions_dir / current)

    def load_current_compact(self) -> CompactTriage:
        """Load the current model's compact form (numpy only: what the bot serves with).

        Raises
        ------
        RegistryError
            When no model was promoted.
        triage.saved.CompactFormMissing
            When the current version was saved without one (export it in a process that
            may import scikit-learn: :func:`triage.persistence.add_compact_form`).
        ModelLoadError
            When a file is missing or corrupt.
        """
        current = self.current_id()
        if current is None:
            raise RegistryError(f"no current model in {self.root}")
        return load_compact_model(self.versions_dir / current)

    # -- writing ---------------------------------------------------------------------------

    @staticmethod
    def _new_id() -> str:
        return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"

    def add(self, candidate: TriageModel | str | Path) -> ModelVersion:
        """Store a model (or a copy of a saved model directory) as a new, unpromoted version.

        A directory is checked with :func:`triage.load` first, so a model of another
        scikit-learn version or a corrupt one never enters the registry.
        """
        from triage.persistence import load, save  # scikit-learn: not in the bot process

        self.versions_dir.mkdir(parents=True, exist_ok=True)
        version_id = self._new_id()
        target = self.versions_dir / version_id
        if not isinstance(candidate, str | Path):
            save(candidate, target)
        else:
            source = Path(candidate)
            load(source)
            temporary = Path(tempfile.mkdtemp(prefix=f".{version_id}.", dir=self.versions_dir))
            try:
                shutil.copytree(source, temporary, dirs_exist_ok=True)
                os.replace(temporary, target)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
        return self._version(version_id, self.current_id())

    def _point_to(self, version_id: str, history: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._history_file, json.dumps(history, indent=1))
        _write_atomically(self._current_file, version_id + "\n")

    def promote(self, candidate: TriageModel | str | Path) -> ModelVersion:
        """Make a model current.

        Parameters
        ----------
        candidate : TriageModel, str or Path
            A model (saved as a new version), the id of a stored version, or a saved model
            directory elsewhere (copied in as a new version after a successful load).

        Returns
        -------
        ModelVersion
            The new current version.
        """
        if isinstance(candidate, str) and (self.versions_dir / candidate).is_dir():
            from triage.persistence import load  # scikit-learn: not in the bot process

            version_id = candidate
            load(self.versions_dir / version_id)
        else:
            version_id = self.add(candidate).id
        history = [item for item in self._history() if item != version_id] + [version_id]
        self._point_to(version_id, history)
        return self._version(version_id, version_id)

    def rollback(self) -> ModelVersion:
        """Restore the previously promoted version.

        Raises
        ------
        RegistryError
            When there is no earlier promoted version still stored.
        """
        history = self._history()
        current = self.current_id()
        if current in history:
            history = history[: history.index(current)]
        while history and not (self.versions_dir / history[-1]).is_dir():
            history.pop()
        if not history:
            raise RegistryError(f"no previous model to roll back to in {self.root}")
        previous = history[-1]
        self._point_to(previous, history)
        return self._version(previous, previous)
