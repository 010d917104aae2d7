"""Exceptions raised by the triage library."""

from __future__ import annotations

__all__ = ["DataError", "ModelLoadError", "ModelVersionError", "RegistryError", "TriageError"]


class TriageError(Exception):
    """Base class of every error the triage library raises on purpose."""


class DataError(TriageError, ValueError):
    """Training or evaluation data (CSV file, team map, labels) is unusable."""


class ModelLoadError(TriageError):
    """A saved model is missing, incomplete or corrupt."""


class ModelVersionError(ModelLoadError):
    """A saved model was written by another scikit-learn version and must be retrained."""


class RegistryError(TriageError):
    """The model registry cannot do what was asked (e.g. nothing to roll back to)."""
