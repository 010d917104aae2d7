"""The learning loop: corrections become labels; a retrained candidate replaces the current
model only when it is not worse on held-out labelled data.

An "Other / not a category" correction (category :data:`models.training.OUT_OF_SCOPE`) is an
out-of-scope example: it trains the model's "none of these" class beside the shipped seed
off-topic examples, and its held-out share joins the out-of-scope validation rows.

Promotion rule (see :func:`triage.should_promote`): the candidate and the current model are
both evaluated on the same held-out data — the shipped seed hold-out sets (in scope and off
topic) plus every fifth correction (by ticket), which is never used for training — and the
candidate is promoted
when its macro-F1 and its accuracy-when-confident are each no more than 0.01 below the
current model's. With no current model, the candidate is promoted.

Training runs in another interpreter (``python -m bot.training_job``): scikit-learn and scipy
are loaded there, for the seconds the training takes, and never in the bot process, which
serves with the compact form of the model (:mod:`triage.compact`, numpy only). The job writes
the new version into the registry; the bot then loads its compact form.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import triage
from bot.services.auth import require_agent
from bot.services.ports import Presenter, TelegramUser, UowFactory
from models import Agent, Category, Role, Team, Ticket
from models.training import OUT_OF_SCOPE, LabelledExample
from storage import AbstractUnitOfWork
from triage.compact import CompactTriage
from triage.saved import CompactFormMissing

TOLERANCE = 0.01
#: What the retrain evaluates on, as recorded beside the figures (``/model`` shows it).
EVALUATION_DATA = "seed hold-out sets (in scope + off topic) + {corrections} held-out corrections"
TRIAGE_THREAD_KEY = "triage_thread_id"
TRIAGE_TOPIC_REQUESTED = "triage_topic_requested"


async def record_correction(
    uow: AbstractUnitOfWork, ticket: Ticket, agent: Agent | None, now: datetime
) -> None:
    """Store the ticket's text with its corrected category, team and priority as a label."""
    if not ticket.category:
        return
    messages = await uow.messages.for_ticket(ticket.id)  # type: ignore[arg-type]
    text = next((m.text for m in messages if m.text), None) or ticket.subject
    team = await uow.teams.get(ticket.team_id) if ticket.team_id else None
    await uow.labels.add(
        LabelledExample(
            text=text,
            category=ticket.category,
            team=team.name if team else None,
            priority=str(ticket.priority),
            ticket_id=ticket.id,
            agent_id=agent.id if agent else None,
            created_at=now,
        )
    )


@dataclass
class RetrainReport:
    promoted: bool
    reason: str
    candidate: dict[str, Any]
    current: dict[str, Any] | None
    version: str | None
    training_examples: int
    corrections: int
    held_out: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "reason": self.reason,
            "version": self.version,
            "candidate": self.candidate,
            "current": self.current,
            "training_examples": self.training_examples,
            "corrections": self.corrections,
            "held_out": self.held_out,
        }


def _team_map(labels: list[LabelledExample], teams_by_category: dict[str, str]) -> dict[str, str]:
    mapping = dict(triage.load_seed_team_map())
    mapping.update(teams_by_category)
    # The desk's own routing first; else the agents' corrections (the latest wins: labels come
    # oldest first) over the seed's map.
    for label in labels:
        if (
            label.team
            and label.category != OUT_OF_SCOPE
            and label.category not in teams_by_category
        ):
            mapping[label.category] = label.team
    return mapping


def train_and_compare(
    registry_dir: Path, labels: list[LabelledExample], team_map: dict[str, str]
) -> RetrainReport:
    seed = [triage.load_seed("examples"), triage.load_seed("off_topic")]
    holdout = [triage.load_seed("holdout"), triage.load_seed("off_topic_holdout")]
    train_part = [x for x in labels if not x.held_out]
    test_part = [x for x in labels if x.held_out]
    texts = [t for part in seed for t in part.texts] + [x.text for x in train_part]
    categories = [y for part in seed for y in part.labels] + [
        _training_label(x) for x in train_part
    ]
    priorities = [p for part in seed for p in (part.priorities or [None] * len(part))] + [
        x.priority for x in train_part
    ]
    candidate, _ = triage.train(
        texts, categories, team_map, priorities=priorities, oos_label=triage.OOS_LABEL
    )
    eval_texts = [t for part in holdout for t in part.texts] + [x.text for x in test_part]
    eval_labels = [y for part in holdout for y in part.labels] + [
        _training_label(x) for x in test_part
    ]
    cand = triage.evaluate(
        candidate, eval_texts, eval_labels, team_map, triage.OOS_LABEL, timing=False
    )
    candidate.info["evaluation"] = _evaluation(cand, len(test_part))
    registry = triage.ModelRegistry(registry_dir)
    current_metrics = None
    try:
        current_metrics = triage.evaluate(
            registry.load_current(), eval_texts, eval_labels, team_map, triage.OOS_LABEL
        )
    except (triage.RegistryError, triage.ModelLoadError, triage.ModelVersionError):
        current_metrics = None  # nothing (usable) to compare with: the candidate wins
    promote, reason = triage.should_promote(cand, current_metrics, tolerance=TOLERANCE)
    version = registry.promote(candidate).id if promote else registry.add(candidate).id
    return RetrainReport(
        promoted=promote,
        reason=reason,
        candidate=_metrics(cand),
        current=_metrics(current_metrics) if current_metrics is not None else None,
        version=version,
        training_examples=len(texts),
        corrections=len(labels),
        held_out=len(eval_texts),
    )


def _evaluation(report: dict[str, Any], corrections: int) -> dict[str, Any]:
    """Figures on data never trained on, named by that data (kept in ``meta.json``)."""
    return {
        "data": EVALUATION_DATA.format(corrections=corrections),
        "held_out_corrections": corrections,
        **_metrics(report),
    }


def _training_label(example: LabelledExample) -> str:
    return triage.OOS_LABEL if example.category == OUT_OF_SCOPE else example.category


def _metrics(metrics: Any) -> dict[str, Any]:
    data = metrics.to_dict() if hasattr(metrics, "to_dict") else dict(metrics)
    keep = (
        "n",
        "accuracy",
        "macro_f1",
        "team_accuracy",
        "abstain_rate",
        "accuracy_when_confident",
        "in_scope_accuracy",
        "oos_recall",
    )
    return {k: data[k] for k in keep if k in data}


async def retrain(uow_factory: UowFactory, registry_dir: Path) -> RetrainReport:
    """Train a candidate on seed examples plus corrections; promote it only if not worse.

    The training runs in a child process (see the module notes)."""
    async with uow_factory(readonly=True) as uow:  # type: ignore[call-arg]
        labels = await uow.labels.all()
        categories = await uow.categories.list()
        teams = {t.id: t.name for t in await uow.teams.list()}
    by_category = {c.key: teams[c.team_id] for c in categories if c.team_id in teams}
    payload = {
        "labels": [_label_to_json(label) for label in labels],
        "team_map": _team_map(labels, by_category),
    }
    result = await asyncio.to_thread(run_job, "retrain", registry_dir, payload)
    return RetrainReport(**result)


class TrainingJobError(RuntimeError):
    """The training process failed; its last lines of stderr are in the message."""


#: A training job longer than this is stuck (the default model takes seconds).
JOB_TIMEOUT = 3600.0


def run_job(command: str, registry_dir: Path, payload: dict[str, Any] | None = None) -> Any:
    """Run ``python -m bot.training_job COMMAND REGISTRY_DIR`` with ``payload`` as JSON on
    stdin; returns the JSON it prints last. Blocking: run in a thread."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.training_job", command, str(registry_dir)],
        input=json.dumps(payload or {}, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-5:])
        raise TrainingJobError(f"training job {command!r} failed ({done.returncode}): {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _label_to_json(label: LabelledExample) -> dict[str, Any]:
    data = asdict(label)
    data["created_at"] = label.created_at.isoformat()
    return data


def label_from_json(data: dict[str, Any]) -> LabelledExample:
    return LabelledExample(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


def load_current(registry_dir: Path) -> CompactTriage:
    """The current model's compact form; a version saved before there was one is exported
    first (in a child process). Blocking: run in a thread.

    Raises
    ------
    triage.RegistryError, triage.ModelLoadError, TrainingJobError
    """
    registry = triage.ModelRegistry(registry_dir)
    try:
        return registry.load_current_compact()
    except CompactFormMissing:
        run_job("export", registry_dir)
        return registry.load_current_compact()


def load_or_train(registry_dir: Path) -> tuple[CompactTriage, str, str]:
    """The current model's compact form, or — on a fresh install, or when the saved model
    cannot be used — a default model trained from the shipped seed examples (in a child
    process) and promoted as a new version. A model saved before the compact form existed is
    exported first (also in a child process).

    Returns the model, its version id and a note for the log. Blocking: run in a thread.
    """
    registry = triage.ModelRegistry(registry_dir)
    note = "loaded"
    try:
        return registry.load_current_compact(), registry.current_id() or "?", note
    except triage.RegistryError:
        note = "no model yet: trained the default model from the seed examples"
    except CompactFormMissing:
        try:
            run_job("export", registry_dir)
            note = "exported the compact form of the saved model"
            return registry.load_current_compact(), registry.current_id() or "?", note
        except (TrainingJobError, triage.ModelLoadError) as exc:
            note = f"saved model unusable ({exc}): retrained the default model"
    except triage.ModelLoadError as exc:
        note = f"saved model unusable ({exc}): retrained the default model"
    version = run_job("default", registry_dir)["version"]
    return triage.ModelRegistry(registry_dir).load_current_compact(), version, note


def train_default_and_promote(registry_dir: Path) -> str:
    """Train the default model from the seed examples, record its held-out figures and make
    it current; returns its version id (scikit-learn: runs in the training job)."""
    registry = triage.ModelRegistry(registry_dir)
    model, _ = triage.train_default()
    holdout = [triage.load_seed("holdout"), triage.load_seed("off_topic_holdout")]
    report = triage.evaluate(
        model,
        [t for part in holdout for t in part.texts],
        [y for part in holdout for y in part.labels],
        model.team_map,
        triage.OOS_LABEL,
        timing=False,
    )
    model.info["evaluation"] = _evaluation(report, 0)
    return registry.promote(model).id


async def ensure_taxonomy(uow: AbstractUnitOfWork, team_map: dict[str, str]) -> None:
    """Create the teams and categories the model knows, if they do not exist yet."""
    for category, team_name in sorted(team_map.items()):
        team = await uow.teams.by_name(team_name)
        if team is None:
            team = await uow.teams.add(Team(name=team_name))
        if await uow.categories.by_key(category) is None:
            await uow.categories.add(Category(key=category, title=category, team_id=team.id))
    await uow.commit()


@dataclass(frozen=True)
class ModelInfo:
    version: str | None
    created_at: str | None
    #: train()'s figures on the validation split of the model's own training data.
    validation: dict[str, Any]
    #: Figures on data the model never trained on, and which data that is.
    evaluation: dict[str, Any]
    #: Held-out corrections among the evaluation data; None: no evaluation recorded.
    evaluation_corrections: int | None
    versions: int
    corrections: int


async def model_info(uow: AbstractUnitOfWork, user: TelegramUser, registry_dir: Path) -> ModelInfo:
    await require_agent(uow, user, Role.ADMIN)
    registry = triage.ModelRegistry(registry_dir)
    versions = await asyncio.to_thread(registry.list_versions)
    current = next((v for v in versions if v.is_current), None)
    return ModelInfo(
        version=current.id if current else None,
        created_at=current.created_at if current else None,
        validation=_metrics(current.metrics or {}) if current else {},
        evaluation=_metrics(current.evaluation or {}) if current else {},
        evaluation_corrections=(current.evaluation or {}).get("held_out_corrections")
        if current
        else None,
        versions=len(versions),
        corrections=await uow.labels.count(),
    )


async def ensure_triage_topic(
    uow: AbstractUnitOfWork, presenter: Presenter, now: datetime
) -> None:
    """Ask for the triage queue's topic once (its id is stored when Telegram creates it)."""
    if await uow.desk_settings.get(TRIAGE_THREAD_KEY) or await uow.desk_settings.get(
        TRIAGE_TOPIC_REQUESTED
    ):
        return
    calls = presenter.triage_queue_topic()
    for call in calls:
        await uow.outbox.add(call, now)
    if calls:
        await uow.desk_settings.set(TRIAGE_TOPIC_REQUESTED, now.isoformat())
    await uow.commit()
