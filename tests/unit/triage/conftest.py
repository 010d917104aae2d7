"""Shared fixtures for the triage tests: one default model trained once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage import (
    Dataset,
    Metrics,
    TriageModel,
    load_seed,
    load_seed_team_map,
    save,
    train_default,
)

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.fixture(scope="session")
def seed() -> Dataset:
    return load_seed("examples")


@pytest.fixture(scope="session")
def holdout() -> Dataset:
    return load_seed("holdout")


@pytest.fixture(scope="session")
def team_map() -> dict[str, str]:
    return load_seed_team_map()


@pytest.fixture(scope="session")
def trained() -> tuple[TriageModel, Metrics]:
    return train_default(random_state=0)


@pytest.fixture(scope="session")
def model(trained: tuple[TriageModel, Metrics]) -> TriageModel:
    return trained[0]


@pytest.fixture(scope="session")
def saved_model_dir(model: TriageModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save(model, tmp_path_factory.mktemp("saved") / "model")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "banking77" / "train.csv").is_file():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return SHARED_DATA
