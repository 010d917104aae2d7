"""The learning loop's use cases (bot.services.training): corrections become labels, a
retrain is asked with the labels and the team of every category, the taxonomy and the triage
topic are set up once. The training itself (a child process) is tested in tests/unit/triage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.presenter import Presenter
from bot.services import training
from models import Agent, Category, MessageDirection, NotAllowed, Priority, Team, TicketMessage
from models.training import OUT_OF_SCOPE, LabelledExample
from tests.support.fake_uow import FakeDatabase
from tests.support.services import (
    ADA,
    AGENTS_CHAT,
    BOB,
    T0,
    customer_and_ticket,
    sent,
    store,
    store_staff,
)


class TestRecordCorrection:
    async def test_the_first_text_is_stored_with_the_corrected_labels(
        self, db: FakeDatabase
    ) -> None:
        team = Team(name="Billing")
        agent = Agent(telegram_id=12, name="Bob", created_at=T0)
        await store(db, team, agent)
        _, ticket = await customer_and_ticket(
            db, category="refunds", team_id=team.id, priority=Priority.HIGH
        )
        await store(
            db,
            TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, None, media_kind="photo"),
            TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "I want my money back"),
            TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "please"),
        )
        async with db.uow() as uow:
            await training.record_correction(uow, ticket, agent, T0)
            await uow.commit()
        [label] = db.rows("labels")
        assert (label.text, label.category, label.team, label.priority) == (
            "I want my money back",
            "refunds",
            "Billing",
            "high",
        )
        assert (label.ticket_id, label.agent_id, label.created_at) == (ticket.id, agent.id, T0)

    async def test_without_a_text_the_subject_is_the_example(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db, "Card blocked", category=OUT_OF_SCOPE)
        async with db.uow() as uow:
            await training.record_correction(uow, ticket, None, T0)
            await uow.commit()
        [label] = db.rows("labels")
        assert (label.text, label.team, label.agent_id) == ("Card blocked", None, None)

    async def test_a_ticket_without_a_category_teaches_nothing(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            await training.record_correction(uow, ticket, None, T0)
            await uow.commit()
        assert db.rows("labels") == []


class RecordingJob:
    """Stands in for the training process: records what it is asked, answers a report."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Path, dict[str, Any]]] = []

    def __call__(self, command: str, registry_dir: Path, payload: dict[str, Any]) -> Any:
        self.asked.append((command, registry_dir, payload))
        return training.RetrainReport(
            promoted=True,
            reason="no current model",
            candidate={"macro_f1": 0.9},
            current=None,
            version="v2",
            training_examples=10,
            corrections=len(payload["labels"]),
            held_out=2,
        ).to_dict()


class TestRetrain:
    @pytest.fixture
    def job(self, monkeypatch: pytest.MonkeyPatch) -> RecordingJob:
        job = RecordingJob()
        monkeypatch.setattr(training, "run_job", job)
        return job

    async def test_the_job_gets_the_newest_label_per_ticket_and_every_categorys_team(
        self, db: FakeDatabase, job: RecordingJob, tmp_path: Path
    ) -> None:
        ops = Team(name="Ops")
        await store(db, ops)
        await store(db, Category(key="billing", title="Billing", team_id=ops.id))
        await store(
            db,
            LabelledExample("old", "billing", T0, ticket_id=7),
            LabelledExample("wires", "transfers", T0, team="Payments", ticket_id=8),
            LabelledExample("new", "delivery", T0, ticket_id=7),
            LabelledExample("hi", OUT_OF_SCOPE, T0, team="Ops", ticket_id=9),
        )
        report = await training.retrain(db.uow, tmp_path)
        [(command, registry, payload)] = job.asked
        assert (command, registry) == ("retrain", tmp_path)
        assert [(x["text"], x["category"]) for x in payload["labels"]] == [
            ("new", "delivery"),
            ("wires", "transfers"),
            ("hi", OUT_OF_SCOPE),
        ]
        team_map = payload["team_map"]
        assert team_map["billing"] == "Ops"  # the desk's own category wins over the seed
        assert team_map["delivery"] == "Logistics"  # from the seed
        assert team_map["transfers"] == "Payments"  # known from a correction only
        assert OUT_OF_SCOPE not in team_map  # "none of these" has no team
        assert (report.promoted, report.version, report.corrections) == (True, "v2", 3)

    async def test_agents_corrections_route_over_the_seed_map_the_latest_winning(
        self, db: FakeDatabase, job: RecordingJob, tmp_path: Path
    ) -> None:
        await store(
            db,
            LabelledExample("parcel", "delivery", T0, team="Couriers", ticket_id=1),
            LabelledExample("lost box", "delivery", T0, team="Warehouse", ticket_id=2),
        )
        await training.retrain(db.uow, tmp_path)
        [(_command, _registry, payload)] = job.asked
        assert payload["team_map"]["delivery"] == "Warehouse"  # not the seed's "Logistics"

    async def test_a_retrain_reads_only(
        self, db: FakeDatabase, job: RecordingJob, tmp_path: Path
    ) -> None:
        await training.retrain(db.uow, tmp_path)
        assert job.asked[0][2] == {"labels": [], "team_map": training._team_map([], {})}
        assert db.rows("labels") == []


class TestEnsureTaxonomy:
    async def test_missing_teams_and_categories_are_created_once(self, db: FakeDatabase) -> None:
        await store(db, Team(name="Billing"))
        await store(db, Category(key="refunds", title="Money back"))
        team_map = {"billing": "Billing", "refunds": "Billing", "delivery": "Logistics"}
        for _ in range(2):
            async with db.uow() as uow:
                await training.ensure_taxonomy(uow, team_map)
        teams = {t.name: t.id for t in db.rows("teams")}
        assert sorted(teams) == ["Billing", "Logistics"]
        categories = {c.key: (c.title, c.team_id) for c in db.rows("categories")}
        assert categories == {
            "billing": ("billing", teams["Billing"]),
            "delivery": ("delivery", teams["Logistics"]),
            "refunds": ("Money back", None),  # an existing category is left as it is
        }


class TestEnsureTriageTopic:
    async def test_the_topic_is_asked_for_once(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        for _ in range(2):
            async with db.uow() as uow:
                await training.ensure_triage_topic(uow, presenter, T0)
        assert sent(db) == [(AGENTS_CHAT, "createForumTopic")]
        assert db.settings[training.TRIAGE_TOPIC_REQUESTED] == T0.isoformat()

    async def test_a_topic_that_exists_is_not_asked_for(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        db.state.settings[training.TRIAGE_THREAD_KEY] = "77"
        async with db.uow() as uow:
            await training.ensure_triage_topic(uow, presenter, T0)
        assert db.outbox == []

    async def test_a_group_without_topics_asks_for_nothing(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        presenter.agent_chat_is_forum = False
        async with db.uow() as uow:
            await training.ensure_triage_topic(uow, presenter, T0)
        assert db.outbox == []
        assert training.TRIAGE_TOPIC_REQUESTED not in db.settings  # asked when it has topics


class TestModelInfo:
    async def test_an_empty_registry_shows_the_corrections(
        self, db: FakeDatabase, tmp_path: Path
    ) -> None:
        await store_staff(db)
        await store(db, LabelledExample("x", "billing", T0, ticket_id=1))
        async with db.uow() as uow:
            info = await training.model_info(uow, ADA, tmp_path)
        assert (info.version, info.versions, info.corrections) == (None, 0, 1)

    async def test_only_admins_see_it(self, db: FakeDatabase, tmp_path: Path) -> None:
        await store_staff(db)
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await training.model_info(uow, BOB, tmp_path)
