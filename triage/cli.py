"""Command line: ``helpdesk triage train|evaluate|predict|train-default``.

Also runs as ``python -m triage``.

Every command prints JSON on stdout. scikit-learn is imported by the commands that need it,
not with this module: the help desk mounts these commands in the same CLI as ``helpdesk run``,
whose process never imports scikit-learn. Bad input (missing or malformed files, a model saved
by another scikit-learn version, ...) prints one ``error: ...`` line on stderr and exits
with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from triage.acknowledgement import load_detector
from triage.data import read_dataset, read_team_map
from triage.errors import TriageError

__all__ = ["app", "main"]

app = typer.Typer(
    name="triage",
    help="Train, evaluate and run the ticket triage model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(code=EXIT_BAD_INPUT)


def _emit(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, sort_keys=False))


DataOption = Annotated[Path, typer.Option("--data", help="CSV with a text,category header.")]
TeamMapOption = Annotated[
    Path | None,
    typer.Option("--team-map", help='JSON {"Team": ["category", ...]} (or category -> team).'),
]
ModelOption = Annotated[Path, typer.Option("--model", help="Saved model directory.")]


@app.command()
def train(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Directory to save the model to.")],
    team_map: TeamMapOption = None,
    random_state: Annotated[int, typer.Option(help="Seed of splits and models.")] = 0,
    target_accuracy: Annotated[
        float,
        typer.Option(
            help="Accuracy wanted on messages answered without a human (used only when no "
            "out-of-scope validation rows exist)."
        ),
    ] = 0.95,
    oos_label: Annotated[
        str,
        typer.Option(
            "--oos-label",
            help='Category of out-of-scope ("none of these") rows: they train an explicit '
            "out-of-scope class and choose the thresholds.",
        ),
    ] = "oos",
) -> None:
    """Train on a CSV (optional team/priority columns) and save the model to --out."""
    from triage.persistence import save
    from triage.train import train as train_model

    try:
        dataset = read_dataset(data)
        mapping = read_team_map(team_map) if team_map is not None else None
        model, metrics = train_model(
            dataset.texts,
            dataset.labels,
            mapping,
            teams=dataset.teams,
            priorities=dataset.priorities,
            random_state=random_state,
            target_accuracy=target_accuracy,
            oos_label=oos_label,
        )
        save(model, out)
    except TriageError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write {out}: {error.strerror or error}")
    _emit(
        {
            "out": str(out),
            "labels": len(model.labels),
            "teams": len(model.teams),
            "threshold": model.threshold,
            "similarity_threshold": model.similarity_threshold,
            "oos_label": model.oos_label,
            "threshold_method": metrics.threshold_method,
            "metrics": metrics.to_dict(),
        }
    )


@app.command("train-default")
def train_default_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to save the model to.")],
) -> None:
    """Train the default model from the shipped seed examples and save it to --out."""
    from triage.persistence import save
    from triage.train import train_default

    try:
        model, metrics = train_default()
        save(model, out)
    except TriageError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write {out}: {error.strerror or error}")
    _emit({"out": str(out), "labels": len(model.labels), "metrics": metrics.to_dict()})


@app.command()
def evaluate(
    model: ModelOption,
    data: DataOption,
    team_map: TeamMapOption = None,
    oos_label: Annotated[
        str | None, typer.Option("--oos-label", help="Label of out-of-scope rows.")
    ] = None,
) -> None:
    """Evaluate a saved model on a labelled CSV."""
    from triage.metrics import evaluate as evaluate_model
    from triage.persistence import load

    try:
        loaded = load(model)
        dataset = read_dataset(data)
        mapping = read_team_map(team_map) if team_map is not None else None
        report = evaluate_model(loaded, dataset.texts, dataset.labels, mapping, oos_label)
    except TriageError as error:
        _fail(str(error))
    _emit(report)


@app.command()
def predict(
    model: ModelOption,
    texts: Annotated[list[str], typer.Argument(help="Messages to triage.")],
) -> None:
    """Print one JSON line per message: category, team, priority, confidence, needs_human."""
    from triage.persistence import load

    try:
        loaded = load(model)
    except TriageError as error:
        _fail(str(error))
    for result in loaded.predict_many(texts):
        _emit(
            {
                "category": result.category,
                "team": result.team,
                "priority": result.priority,
                "confidence": round(result.confidence, 4),
                "needs_human": result.needs_human,
                "team_confidence": round(result.team_confidence, 4),
                "priority_confidence": round(result.priority_confidence, 4),
                "alternatives": [[label, round(p, 4)] for label, p in result.alternatives],
            }
        )


@app.command()
def acknowledgements(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Directory to write to (default: the shipped triage/seed)."),
    ] = None,
) -> None:
    """Retrain the thank-you detector from the seed files and write its arrays."""
    from triage.acknowledgement_training import SEED_DIR, write_shipped

    directory = write_shipped(out or SEED_DIR)
    detector = load_detector(directory)
    _emit({"directory": str(directory), "threshold": detector.threshold, **detector.info})


def main() -> None:
    """Entry point of ``python -m triage``."""
    app(prog_name="triage")
