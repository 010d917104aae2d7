"""Standalone ML triage for the help desk: category, team, priority and when to ask a human.

The library imports nothing from the rest of the project; categories and teams are plain
strings from the training data.

Typical use::

    from triage import train, save, load, load_seed, evaluate

    model, metrics = train(texts, categories, team_map, priorities=priorities)
    save(model, "var/model")
    result = load("var/model").predict("Не могу войти в личный кабинет, срочно!")
    result.category, result.team, result.priority, result.needs_human

Names are imported on first use (PEP 562): the bot process imports :mod:`triage.compact` and
:mod:`triage.text` without pulling in scikit-learn and scipy through this package.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.data import (
        Dataset,
        load_seed,
        load_seed_team_map,
        parse_team_map,
        read_dataset,
        read_team_map,
    )
    from triage.errors import (
        DataError,
        ModelLoadError,
        ModelVersionError,
        RegistryError,
        TriageError,
    )
    from triage.estimators import CentroidSimilarity
    from triage.features import build_features, normalise_text
    from triage.metrics import (
        Metrics,
        OutOfScopeChoice,
        ThresholdChoice,
        choose_oos_thresholds,
        choose_threshold,
        evaluate,
    )
    from triage.model import TriageModel, TriageResult
    from triage.persistence import library_versions, load, read_meta, save
    from triage.pipeline import build_pipeline
    from triage.priority import PRIORITY_LEVELS, PriorityAssessment, assess_priority
    from triage.registry import ModelRegistry, ModelVersion, should_promote
    from triage.train import (
        OOS_LABEL,
        data_sha256,
        default_model,
        fit_thresholds,
        train,
        train_default,
    )

_LAZY = {
    "CentroidSimilarity": "triage.estimators",
    "DataError": "triage.errors",
    "Dataset": "triage.data",
    "Metrics": "triage.metrics",
    "ModelLoadError": "triage.errors",
    "ModelRegistry": "triage.registry",
    "ModelVersion": "triage.registry",
    "ModelVersionError": "triage.errors",
    "OOS_LABEL": "triage.train",
    "OutOfScopeChoice": "triage.metrics",
    "PRIORITY_LEVELS": "triage.priority",
    "PriorityAssessment": "triage.priority",
    "RegistryError": "triage.errors",
    "ThresholdChoice": "triage.metrics",
    "TriageError": "triage.errors",
    "TriageModel": "triage.model",
    "TriageResult": "triage.model",
    "assess_priority": "triage.priority",
    "build_features": "triage.features",
    "build_pipeline": "triage.pipeline",
    "choose_oos_thresholds": "triage.metrics",
    "choose_threshold": "triage.metrics",
    "data_sha256": "triage.train",
    "default_model": "triage.train",
    "evaluate": "triage.metrics",
    "fit_thresholds": "triage.train",
    "library_versions": "triage.persistence",
    "load": "triage.persistence",
    "load_seed": "triage.data",
    "load_seed_team_map": "triage.data",
    "normalise_text": "triage.features",
    "parse_team_map": "triage.data",
    "read_dataset": "triage.data",
    "read_meta": "triage.persistence",
    "read_team_map": "triage.data",
    "save": "triage.persistence",
    "should_promote": "triage.registry",
    "train": "triage.train",
    "train_default": "triage.train",
}

__all__ = [
    "OOS_LABEL",
    "PRIORITY_LEVELS",
    "CentroidSimilarity",
    "DataError",
    "Dataset",
    "Metrics",
    "ModelLoadError",
    "ModelRegistry",
    "ModelVersion",
    "ModelVersionError",
    "OutOfScopeChoice",
    "PriorityAssessment",
    "RegistryError",
    "ThresholdChoice",
    "TriageError",
    "TriageModel",
    "TriageResult",
    "assess_priority",
    "build_features",
    "build_pipeline",
    "choose_oos_thresholds",
    "choose_threshold",
    "data_sha256",
    "default_model",
    "evaluate",
    "fit_thresholds",
    "library_versions",
    "load",
    "load_seed",
    "load_seed_team_map",
    "normalise_text",
    "parse_team_map",
    "read_dataset",
    "read_meta",
    "read_team_map",
    "save",
    "should_promote",
    "train",
    "train_default",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'triage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """``triage.train`` is the function, as it was when this package imported it eagerly:
    importing the submodule ``triage.train`` must not rebind the name to the module (it stays
    in ``sys.modules``, where ``from triage.train import ...`` finds it)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
