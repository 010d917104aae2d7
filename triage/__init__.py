"""Standalone ML triage for the help desk: category, team, priority and when to ask a human.

The library imports nothing from the rest of the project; categories and teams are plain
strings from the training data.

Typical use::

    from triage import train, save, load, load_seed, evaluate

    model, metrics = train(texts, categories, team_map, priorities=priorities)
    save(model, "var/model")
    result = load("var/model").predict("Не могу войти в личный кабинет, срочно!")
    result.category, result.team, result.priority, result.needs_human
"""

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
