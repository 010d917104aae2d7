"""A small, fast smoke test on Banking77 (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

from triage import evaluate, read_dataset, read_team_map, train

N_INTENTS = 15


def test_banking77_subset(shared_data: Path) -> None:
    team_map = read_team_map(shared_data / "banking77_team_map.json")
    assert len(team_map) == 77
    train_set = read_dataset(shared_data / "banking77" / "train.csv")
    test_set = read_dataset(shared_data / "banking77" / "test.csv")
    intents = sorted(set(train_set.labels))[:N_INTENTS]
    keep = set(intents)
    rows = [i for i, label in enumerate(train_set.labels) if label in keep]
    model, metrics = train(
        [train_set.texts[i] for i in rows], [train_set.labels[i] for i in rows], team_map
    )
    assert metrics.validation == "holdout"
    test_rows = [i for i, label in enumerate(test_set.labels) if label in keep]
    report = evaluate(
        model,
        [test_set.texts[i] for i in test_rows],
        [test_set.labels[i] for i in test_rows],
        team_map,
        timing=False,
    )
    assert report["accuracy"] > 0.88
    assert report["team_accuracy"] >= report["accuracy"]
    assert report["accuracy_when_confident"] > report["accuracy"]
