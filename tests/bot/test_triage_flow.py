"""Triage in the bot: predictions on the card, the not-sure queue, corrections and retraining."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import triage
from bot.adapters.triage_model import ModelTriage
from bot.services import training
from models import Priority
from models.training import OUT_OF_SCOPE
from tests.support.desk import Desk, button_data, card_of, make_desk, press
from triage.compact import CompactTriage


@pytest.fixture
async def smart_desk(tmp_path: Path, seed_model: CompactTriage) -> AsyncIterator[Desk]:
    desk = await make_desk(tmp_path, triage=ModelTriage(seed_model, "seed"))
    async with desk.uow_factory() as uow:
        await training.ensure_taxonomy(uow, seed_model.team_map or {})
    async with desk.uow_factory() as uow:
        await training.ensure_triage_topic(uow, desk.presenter, desk.settings_now())
    await desk.step()
    yield desk
    await desk.close()


async def open_ticket(desk: Desk, text: str):
    customer = desk.emulator.add_user("Ann")
    desk.emulator.user_sends_text(customer, text)
    await desk.step()
    async with desk.uow_factory() as uow:
        row = await uow.customers.by_telegram_id(customer["id"])
        return await uow.tickets.latest_for_customer(row.id)


async def test_card_shows_predicted_category_team_and_priority(smart_desk: Desk) -> None:
    ticket = await open_ticket(smart_desk, "I was charged twice for my subscription, urgent!")
    assert ticket.category == "billing"
    assert ticket.priority in (Priority.HIGH, Priority.URGENT)
    assert not ticket.needs_human
    card = card_of(smart_desk, ticket)["text"]
    assert "Category: billing (" in card
    assert "Team: Billing" in card
    topic = smart_desk.emulator.topic(smart_desk.group_id, ticket.agent_thread_id)
    assert topic["name"].startswith("#1 · billing · ")


async def test_unsure_ticket_goes_to_the_triage_queue(smart_desk: Desk) -> None:
    ticket = await open_ticket(smart_desk, "qwe zxc asd")
    assert ticket.needs_human
    assert "not sure" in card_of(smart_desk, ticket)["text"]
    queue_topic = next(
        t for t in smart_desk.emulator.topics(smart_desk.group_id) if "Triage queue" in t["name"]
    )
    [notice] = smart_desk.topic_messages(queue_topic["message_thread_id"])
    assert "Not sure about" in notice["text"]
    assert "#1" in notice["text"]


async def test_category_correction_is_stored_as_a_label(smart_desk: Desk) -> None:
    ticket = await open_ticket(smart_desk, "I want my money back for the order")
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "Category")
    target = "complaint" if ticket.category != "complaint" else "general"
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), target)
    after = await smart_desk.ticket(1)
    assert after.category == target
    assert not after.needs_human
    async with smart_desk.uow_factory() as uow:
        [label] = await uow.labels.all()
        admin = await uow.agents.by_telegram_id(smart_desk.admin["id"])
    assert (label.text, label.category, label.agent_id) == (
        "I want my money back for the order",
        target,
        admin.id,
    )
    card = card_of(smart_desk, after)["text"]
    assert f"Category: {target} · set by Alice\n" in card  # not the classifier's old confidence
    assert "%" not in card.split("Category:")[1].split("\n")[0]
    assert f"Team: {smart_desk_team(target)}" in card


def not_sure_posts(desk: Desk) -> list[dict[str, object]]:
    queue_topic = next(
        t for t in desk.emulator.topics(desk.group_id) if "Triage queue" in t["name"]
    )
    return desk.topic_messages(queue_topic["message_thread_id"])


async def test_a_chosen_category_settles_the_not_sure_post(smart_desk: Desk) -> None:
    ticket = await open_ticket(smart_desk, "qwe zxc asd")
    [post] = not_sure_posts(smart_desk)
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "Category")
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "complaint")
    [after] = not_sure_posts(smart_desk)
    assert after["message_id"] == post["message_id"]
    assert after["text"] == "✅ #1: Alice set the category “complaint”."
    assert "Category: complaint · set by Alice" in card_of(smart_desk, ticket)["text"]
    async with smart_desk.uow_factory() as uow:  # nothing left behind for the settled post
        assert await uow.desk_settings.get(f"not_sure:{ticket.id}") is None
    # a second correction has no post left to settle and changes nothing there
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "Category")
    await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "general")
    assert not_sure_posts(smart_desk) == [after]


def smart_desk_team(category: str) -> str:
    return triage.load_seed_team_map()[category]


async def test_retrain_registers_a_candidate_and_applies_the_promotion_rule(
    smart_desk: Desk, tmp_path: Path
) -> None:
    model_dir = tmp_path / "models"
    first = await training.retrain(smart_desk.uow_factory, model_dir)
    assert first.promoted
    assert first.reason == "no current model"
    assert first.current is None
    for i in range(12):
        ticket = await open_ticket(smart_desk, f"parcel {i} never arrived, this is unacceptable")
        desk_cmd = "/category delivery"
        smart_desk.emulator.user_sends_text(
            smart_desk.admin,
            desk_cmd,
            chat_id=smart_desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        await smart_desk.step()
    second = await training.retrain(smart_desk.uow_factory, model_dir)
    assert second.corrections >= 1
    assert second.current is not None
    expected, _reason = triage.should_promote(second.candidate, second.current, tolerance=0.01)
    assert second.promoted == expected
    registry = triage.ModelRegistry(model_dir)
    assert len(registry.list_versions()) == 2
    assert (registry.current_id() == second.version) == second.promoted


class TestOtherNotACategory:
    async def test_a_greeting_opens_a_not_sure_ticket_with_the_other_button(
        self, smart_desk: Desk
    ) -> None:
        ticket = await open_ticket(smart_desk, "hello")
        assert ticket.needs_human
        card = card_of(smart_desk, ticket)
        assert "not sure" in card["text"]
        assert button_data(card, "Other / not a category")

    async def test_one_tap_stores_an_out_of_scope_label(self, smart_desk: Desk) -> None:
        ticket = await open_ticket(smart_desk, "hello")
        await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "Other")
        after = await smart_desk.ticket(ticket.id)
        assert after.category == OUT_OF_SCOPE
        assert not after.needs_human
        async with smart_desk.uow_factory() as uow:
            [label] = await uow.labels.all()
        assert (label.text, label.category) == ("hello", OUT_OF_SCOPE)
        card = card_of(smart_desk, after)
        assert "Category: Other / not a category · set by Alice" in card["text"]
        [post] = not_sure_posts(smart_desk)
        assert post["text"] == "✅ #1: Alice set the category “Other / not a category”."
        # a human decided: the one-tap button leaves the card, the category menu keeps it
        with pytest.raises(AssertionError):
            button_data(card, "Other / not a category")
        await press(smart_desk, smart_desk.admin, card, "Category")
        assert button_data(card_of(smart_desk, after), "• Other / not a category")

    async def test_the_next_retrain_trains_on_it_as_out_of_scope(
        self, smart_desk: Desk, tmp_path: Path
    ) -> None:
        ticket = await open_ticket(smart_desk, "hello")
        assert ticket.id is not None
        assert ticket.id % 5 != 0
        await press(smart_desk, smart_desk.admin, card_of(smart_desk, ticket), "Other")
        report = await training.retrain(smart_desk.uow_factory, tmp_path / "models")
        assert report.corrections == 1
        candidate = triage.ModelRegistry(tmp_path / "models").load_current()
        seed, off_topic = triage.load_seed("examples"), triage.load_seed("off_topic")
        after = await smart_desk.ticket(ticket.id)
        expected = triage.data_sha256(
            [*seed.texts, *off_topic.texts, "hello"],
            [*seed.labels, *off_topic.labels, triage.OOS_LABEL],
            None,
            [*(seed.priorities or []), *(off_topic.priorities or []), str(after.priority)],
        )
        assert candidate.info["data_sha256"] == expected
        assert candidate.oos_label == triage.OOS_LABEL
        assert triage.OOS_LABEL not in candidate.labels


async def test_model_command_names_each_figure_by_its_data(smart_desk: Desk) -> None:
    await training.retrain(smart_desk.uow_factory, smart_desk.settings.model_dir)
    smart_desk.emulator.user_sends_text(smart_desk.admin, "/model")
    await smart_desk.step()
    text = smart_desk.to_user(smart_desk.admin)[-1]["text"]
    assert "Held-out" not in text
    validation, never_trained = (
        line
        for line in text.splitlines()
        if line.startswith(("On the validation split", "On data it never trained on"))
    )
    assert "validation split of its own training data" in validation
    assert "accuracy 0." in validation
    assert "the seed hold-out sets, in scope and off topic, and 0 held-out corrections" in (
        never_trained
    )
    assert "oos_recall 0." in never_trained or "oos_recall 1." in never_trained
