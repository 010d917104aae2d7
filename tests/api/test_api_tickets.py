"""Tickets over the REST API: reading, changing, replying; and every kind of refusal."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.apikeys import revoke_key
from models import webhooks as wh
from models.ticket import Rating
from tests.api.conftest import ApiClient
from tests.support.desk import open_ticket, register

PROBLEM = "urn:helpdesk:problem:"


class TestKeysAndScopes:
    async def test_no_key_bad_key_revoked_key(self, api: ApiClient) -> None:
        status, body, headers = await api.get("/tickets", key="")
        assert status == 401
        assert body["type"] == PROBLEM + "unauthorized"
        assert headers["Content-Type"].startswith("application/problem+json")
        assert headers["WWW-Authenticate"].startswith("Bearer")
        status, body, _ = await api.get("/tickets", key="hdk_not-a-key")
        assert (status, body["type"]) == (401, PROBLEM + "unauthorized")
        key = await api.new_key("old")
        assert (await api.get("/tickets", key=key))[0] == 200
        async with api.desk.uow_factory() as uow:
            await revoke_key(uow, "old", datetime.now(UTC))
            await uow.commit()
        assert (await api.get("/tickets", key=key))[0] == 401

    async def test_missing_scope(self, api: ApiClient) -> None:
        reader = await api.new_key("reader", "tickets:read")
        await open_ticket(api.desk)
        status, body, _ = await api.call(
            "POST", "/tickets/1/replies", key=reader, json={"text": "hi"}
        )
        assert status == 403
        assert body["type"] == PROBLEM + "insufficient-scope"
        assert "messages:write" in body["detail"]
        assert (await api.get("/agents", key=reader))[0] == 403
        assert (await api.get("/stats", key=reader))[0] == 403

    async def test_unknown_route_is_a_problem_too(self, api: ApiClient) -> None:
        status, body, _ = await api.get("/nothing")
        assert (status, body["type"]) == (404, PROBLEM + "not-found")


class TestRead:
    async def test_list_filter_and_paginate(self, api: ApiClient) -> None:
        ann, _ = await open_ticket(api.desk, "Ann", "My card was charged twice")
        for i in range(4):
            await open_ticket(api.desk, f"C{i}", f"Question number {i} about delivery")
        status, page, _ = await api.get("/tickets", params={"limit": "2"})
        assert status == 200
        assert [t["number"] for t in page["items"]] == [5, 4]
        status, page2, _ = await api.get(
            "/tickets", params={"limit": "2", "cursor": str(page["next_cursor"])}
        )
        assert [t["number"] for t in page2["items"]] == [3, 2]
        status, last, _ = await api.get(
            "/tickets", params={"limit": "2", "cursor": str(page2["next_cursor"])}
        )
        assert [t["number"] for t in last["items"]] == [1]
        assert last["next_cursor"] is None

        status, mine, _ = await api.get("/tickets", params={"customer": str(ann["id"])})
        assert [t["number"] for t in mine["items"]] == [1]
        assert mine["items"][0]["customer"]["telegram_id"] == ann["id"]
        status, new, _ = await api.get("/tickets", params={"status": "new,open"})
        assert len(new["items"]) == 5
        status, none, _ = await api.get("/tickets", params={"status": "closed"})
        assert none["items"] == []

    async def test_bad_filters_name_the_field(self, api: ApiClient) -> None:
        status, body, _ = await api.get("/tickets", params={"status": "lost"})
        assert status == 422
        assert body["type"] == PROBLEM + "validation"
        assert body["errors"][0]["field"].startswith("status")
        status, body, _ = await api.get("/tickets", params={"colour": "red"})
        assert status == 422
        assert body["errors"][0]["field"] == "colour"
        status, body, _ = await api.get("/tickets", params={"updated_since": "yesterday"})
        assert (status, body["errors"][0]["field"]) == (422, "updated_since")
        status, body, _ = await api.get("/tickets", params={"team": "Nope"})
        assert (status, body["errors"][0]["field"]) == (422, "team")
        # A number is digits: "0.0" is no Telegram id and "1e1" no page size (pydantic's lax
        # parsing would take both).
        status, body, _ = await api.get("/customers", params={"telegram_id": "0.0"})
        assert (status, body["errors"][0]["field"]) == (422, "telegram_id")
        status, body, _ = await api.get("/tickets", params={"limit": "1e1"})
        assert (status, body["errors"][0]["field"]) == (422, "limit")
        assert (await api.get("/tickets", params={"limit": "10"}))[0] == 200

    async def test_get_one_with_etag_messages_and_events(self, api: ApiClient) -> None:
        await open_ticket(api.desk, "Ann", "My card was charged twice")
        status, ticket, headers = await api.get("/tickets/1")
        assert status == 200
        assert ticket["number"] == 1
        assert ticket["status"] == "new"
        assert headers["ETag"].startswith('"')
        status, messages, _ = await api.get("/tickets/1/messages")
        assert [m["text"] for m in messages["items"]] == ["My card was charged twice"]
        assert messages["items"][0]["direction"] == "customer"
        status, events, _ = await api.get("/tickets/1/events")
        assert events["items"][0]["kind"] == "created"

    async def test_unknown_ticket(self, api: ApiClient) -> None:
        for path in ("/tickets/99", "/tickets/99/messages", "/tickets/99/events"):
            status, body, _ = await api.get(path)
            assert (status, body["type"]) == (404, PROBLEM + "not-found"), path
        status, body, _ = await api.call("PATCH", "/tickets/99", json={"priority": "high"})
        assert status == 404
        status, body, _ = await api.call("POST", "/tickets/99/replies", json={"text": "x"})
        assert status == 404


class TestChange:
    async def test_patch_with_if_match_and_stale_etag(self, api: ApiClient) -> None:
        await open_ticket(api.desk)
        _, _, headers = await api.get("/tickets/1")
        etag = headers["ETag"]
        status, ticket, headers2 = await api.call(
            "PATCH",
            "/tickets/1",
            json={"priority": "urgent", "status": "on_hold"},
            headers={"If-Match": etag},
        )
        assert status == 200, ticket
        assert (ticket["priority"], ticket["status"]) == ("urgent", "on_hold")
        assert headers2["ETag"] != etag
        status, body, headers3 = await api.call(
            "PATCH", "/tickets/1", json={"priority": "low"}, headers={"If-Match": etag}
        )
        assert status == 412
        assert body["type"] == PROBLEM + "stale"
        assert headers3["ETag"] == headers2["ETag"]
        assert (await api.desk.ticket(1)).priority == "urgent"
        # The history names the key.
        _, events, _ = await api.get("/tickets/1/events")
        changed = [e for e in events["items"] if e["kind"] == "priority_changed"]
        assert changed[0]["actor_kind"] == "api"

    async def test_team_and_assignee(self, api: ApiClient) -> None:
        await open_ticket(api.desk)
        bob = await register(api.desk, "Bob")
        _, agents, _ = await api.get("/agents")
        bob_id = next(a["id"] for a in agents["items"] if a["telegram_id"] == bob["id"])
        status, ticket, _ = await api.call("PATCH", "/tickets/1", json={"assignee_id": bob_id})
        assert status == 200, ticket
        assert ticket["assignee"]["telegram_id"] == bob["id"]
        status, ticket, _ = await api.call("PATCH", "/tickets/1", json={"assignee_id": None})
        assert ticket["assignee"] is None
        status, body, _ = await api.call("PATCH", "/tickets/1", json={"assignee_id": 999})
        assert (status, body["errors"][0]["field"]) == (422, "assignee_id")

    async def test_bad_fields_and_unknown_fields(self, api: ApiClient) -> None:
        await open_ticket(api.desk)
        status, body, _ = await api.call("PATCH", "/tickets/1", json={"priority": "asap"})
        assert (status, body["errors"][0]["field"]) == (422, "priority")
        status, body, _ = await api.call("PATCH", "/tickets/1", json={"colour": "red"})
        assert (status, body["errors"][0]["field"]) == (422, "colour")
        status, body, _ = await api.call("POST", "/tickets/1/replies", json={"text": ""})
        assert (status, body["errors"][0]["field"]) == (422, "text")
        # NUL: PostgreSQL text cannot hold it (schemathesis found the 500 it gave).
        status, body, _ = await api.call("POST", "/tickets/1/notes", json={"text": "3\x00"})
        assert (status, body["errors"][0]["field"]) == (422, "text")
        status, body, _ = await api.call("POST", "/tickets/1/replies", json={"text": "x" * 4097})
        assert status == 422
        async with api.http.post(
            api.base + "/tickets/1/notes",
            data=b"{not json",
            headers={"Authorization": f"Bearer {api.key}"},
        ) as response:
            assert response.status == 400
            assert (await response.json(content_type=None))["type"] == (
                PROBLEM + "malformed-request"
            )

    async def test_closed_ticket_refuses_changes_but_reopens(self, api: ApiClient) -> None:
        await open_ticket(api.desk)
        assert (await api.call("PATCH", "/tickets/1", json={"status": "closed"}))[0] == 200
        status, body, _ = await api.call("PATCH", "/tickets/1", json={"priority": "high"})
        assert (status, body["type"]) == (409, PROBLEM + "ticket-closed")
        status, ticket, _ = await api.call("PATCH", "/tickets/1", json={"status": "open"})
        assert (status, ticket["status"]) == (200, "open")


class TestMessages:
    async def test_reply_reaches_the_customer_and_the_topic(self, api: ApiClient) -> None:
        ann, ticket = await open_ticket(api.desk)
        status, message, _ = await api.call(
            "POST", "/tickets/1/replies", json={"text": "Refund is on the way"}
        )
        assert status == 201, message
        assert message["direction"] == "agent"
        await api.desk.step()
        assert api.desk.texts_to(ann)[-1] == "Refund is on the way"
        topic = [m.get("text") or "" for m in api.desk.topic_messages(ticket.agent_thread_id)]
        assert any("via API: crm" in t and "Refund is on the way" in t for t in topic)
        assert (await api.desk.ticket(1)).status == "waiting"

    async def test_note_stays_inside(self, api: ApiClient) -> None:
        ann, ticket = await open_ticket(api.desk)
        before = len(api.desk.texts_to(ann))
        status, message, _ = await api.call(
            "POST", "/tickets/1/notes", json={"text": "called them"}
        )
        assert (status, message["direction"]) == (201, "note")
        await api.desk.step()
        assert len(api.desk.texts_to(ann)) == before
        topic = [m.get("text") or "" for m in api.desk.topic_messages(ticket.agent_thread_id)]
        assert any("Note via API: crm" in t for t in topic)


class TestPeopleAndStats:
    async def test_customer_lookup_and_tickets(self, api: ApiClient) -> None:
        ann, _ = await open_ticket(api.desk, "Ann", username="ann_k")
        status, found, _ = await api.get("/customers", params={"username": "@Ann_K"})
        assert status == 200
        assert [c["telegram_id"] for c in found["items"]] == [ann["id"]]
        status, found, _ = await api.get("/customers", params={"telegram_id": str(ann["id"])})
        assert found["items"][0]["name"] == "Ann"
        status, none, _ = await api.get("/customers", params={"telegram_id": "1"})
        assert none["items"] == []
        assert (await api.get("/customers"))[0] == 422
        status, tickets, _ = await api.get(f"/customers/{ann['id']}/tickets")
        assert [t["number"] for t in tickets["items"]] == [1]
        assert (await api.get("/customers/12345/tickets"))[0] == 404

    async def test_stats_and_events(self, api: ApiClient) -> None:
        await open_ticket(api.desk)
        status, stats, _ = await api.get("/stats", params={"period": "week"})
        assert status == 200, stats
        assert stats["overall"]["opened"] == 1
        assert len(stats["days"]) == 7
        assert stats["channels"] == {"telegram": {"tickets": 1, "messages": 1}}
        status, body, _ = await api.get("/stats", params={"period": "fortnight"})
        assert (status, body["errors"][0]["field"]) == (422, "period")
        status, events, _ = await api.get("/events/types")
        assert "ticket.opened" in events["items"]


async def test_a_merged_ticket_refuses_what_telegram_refuses(api: ApiClient) -> None:
    desk = api.desk
    ann, _ = await open_ticket(desk)
    desk.emulator.user_sends_text(ann, "/new Another thing: my address changed")
    await desk.step()
    second = await desk.ticket(2)
    desk.emulator.user_sends_text(
        desk.admin, "/merge 1", chat_id=desk.group_id, thread_id=second.agent_thread_id
    )
    await desk.step()
    status, ticket, _ = await api.get("/tickets/2")
    assert (status, ticket["merged_into"]) == (200, 1)
    for method, path, body in (
        ("PATCH", "/tickets/2", {"priority": "high"}),
        ("PATCH", "/tickets/2", {"status": "open"}),
        ("POST", "/tickets/2/replies", {"text": "hello"}),
        ("POST", "/tickets/2/notes", {"text": "hello"}),
    ):
        status, problem, _ = await api.call(method, path, json=body)
        assert (status, problem["type"]) == (409, PROBLEM + "ticket-merged"), (path, body)
        assert "merged into 1" in problem["detail"]


async def test_more_filters(api: ApiClient) -> None:
    await open_ticket(api.desk, "Ann", "My card was charged twice")
    await open_ticket(api.desk, "Ben", "Where is my parcel")
    await api.call("PATCH", "/tickets/2", json={"priority": "urgent"})
    async with api.desk.uow_factory() as uow:
        first = await uow.tickets.by_number(1)
        first.sla_breached = True
        first.needs_human = True
        await uow.commit()
    found = []
    for query in (
        "priority=urgent",
        "breached=true",
        "not_sure=true",
        "created_since=2000-01-01T00:00:00Z",
        "created_since=2999-01-01T00:00:00%2B00:00",
    ):
        status, page, _ = await api.get("/tickets?" + query)
        assert status == 200, page
        found.append([t["number"] for t in page["items"]])
    assert found == [[2], [1], [1], [2, 1], []]


async def test_category_tags_and_merge(api: ApiClient) -> None:
    desk = api.desk
    ann, _ = await open_ticket(desk)
    desk.emulator.user_sends_text(ann, "/new Another thing: my address changed")
    await desk.step()
    await open_ticket(desk, "Ben", "Where is my parcel")
    desk.emulator.user_sends_text(desk.admin, "/categories add refunds", chat_id=desk.group_id)
    await desk.step()

    status, ticket, _ = await api.call(
        "PATCH", "/tickets/1", json={"category": "refunds", "add_tags": ["vip", "callback"]}
    )
    assert status == 200, ticket
    assert ticket["category"] == "refunds"
    assert sorted(ticket["tags"]) == ["callback", "vip"]
    status, ticket, _ = await api.call("PATCH", "/tickets/1", json={"remove_tags": ["vip"]})
    assert ticket["tags"] == ["callback"]
    async with desk.uow_factory() as uow:
        [label] = await uow.labels.all()  # a person's category is a training label
    assert label.category == "refunds"
    status, body, _ = await api.call("PATCH", "/tickets/1", json={"category": "nope"})
    assert (status, body["errors"][0]["field"]) == (422, "category")
    assert "refunds" in body["errors"][0]["message"]

    status, body, _ = await api.call("POST", "/tickets/2/merge", json={"into": 3})
    assert status == 422, body  # Ben's ticket: not the same customer
    status, target, _ = await api.call("POST", "/tickets/2/merge", json={"into": 1})
    assert (status, target["number"]) == (200, 1)
    _, merged, _ = await api.get("/tickets/2")
    assert (merged["merged_into"], merged["status"]) == (1, "closed")
    status, body, _ = await api.call("POST", "/tickets/2/merge", json={"into": 1})
    assert (status, body["type"]) == (409, PROBLEM + "ticket-merged")
    status, body, _ = await api.call("POST", "/tickets/1/merge", json={"into": 99})
    assert status == 404


async def test_sla_deadline_and_rating(api: ApiClient) -> None:
    desk = api.desk
    await open_ticket(desk)
    desk.emulator.user_sends_text(desk.admin, "/sla normal 1h 4h 2d", chat_id=desk.group_id)
    await desk.step()
    _, ticket, _ = await api.get("/tickets/1")
    assert ticket["sla_deadline"]["kind"] == "first_response"
    assert ticket["rating"] is None
    await api.call("PATCH", "/tickets/1", json={"status": "resolved"})
    async with desk.uow_factory() as uow:
        await uow.ratings.add(
            Rating(
                ticket_id=(await uow.tickets.by_number(1)).id,
                score=5,
                rated_at=datetime.now(UTC),
                comment="quick",
            )
        )
        await uow.commit()
    _, page, _ = await api.get("/tickets")
    assert page["items"][0]["sla_deadline"] is None  # resolved: no clock runs
    assert (page["items"][0]["rating"]["score"], page["items"][0]["rating"]["comment"]) == (
        5,
        "quick",
    )


async def test_search(api: ApiClient) -> None:
    await open_ticket(api.desk, "Ann", "My card was charged twice")
    await open_ticket(api.desk, "Ben", "Where is my parcel")
    status, found, _ = await api.get("/tickets/search", params={"q": "charged"})
    assert status == 200, found
    assert [h["ticket"]["number"] for h in found["items"]] == [1]
    assert "«charged»" in found["items"][0]["snippet"]
    assert found["next_offset"] is None
    status, body, _ = await api.get("/tickets/search", params={"q": '"unclosed'})
    assert (status, body["errors"][0]["field"]) == (422, "q")
    assert (await api.get("/tickets/search"))[0] == 422


async def test_webhook_deliveries_and_redelivery(api: ApiClient) -> None:
    await open_ticket(api.desk)
    async with api.desk.uow_factory() as uow:
        hook = await uow.webhooks.add(
            wh.Webhook(
                url="http://localhost:9/hook",
                secret=wh.new_secret(),
                events=wh.DEFAULT_EVENTS,
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    await api.call("PATCH", "/tickets/1", json={"status": "on_hold"})
    status, page, _ = await api.get("/events")
    assert status == 200, page
    [first] = page["items"]
    assert (first["event"], first["webhook_id"], first["status"]) == (
        "ticket.status_changed",
        hook.id,
        "pending",
    )
    status, again, _ = await api.call("POST", f"/events/{first['id']}/redeliver")
    assert (status, again["id"]) == (202, first["id"] + 1)
    _, page, _ = await api.get("/events")
    assert [i["delivery"] for i in page["items"]] == [first["delivery"]] * 2
    assert (await api.call("POST", "/events/999/redeliver"))[0] == 404
    async with api.desk.uow_factory() as uow:
        await uow.webhooks.deactivate(hook.id)
        await uow.commit()
    status, body, _ = await api.call("POST", f"/events/{first['id']}/redeliver")
    assert (status, body["type"]) == (422, PROBLEM + "validation")


async def test_open_a_ticket_for_a_known_customer(api: ApiClient) -> None:
    desk = api.desk
    ann, _ = await open_ticket(desk)
    before = len(desk.texts_to(ann))
    body = {
        "customer_telegram_id": ann["id"],
        "text": "Your new card is ready: pick it up at the branch",
        "priority": "high",
    }
    answers = [
        await api.call("POST", "/tickets", json=body, headers={"Idempotency-Key": "crm-new-1"})
        for _ in range(2)
    ]
    assert [a[0] for a in answers] == [201, 201]
    ticket = answers[0][1]
    assert answers[1][1] == ticket
    assert (ticket["number"], ticket["priority"], ticket["status"]) == (2, "high", "waiting")
    assert ticket["subject"].startswith("Your new card is ready")
    await desk.step()
    assert desk.texts_to(ann)[before:] == ["Your new card is ready: pick it up at the branch"]
    opened = await desk.ticket(2)
    topic = [m.get("text") or "" for m in desk.topic_messages(opened.agent_thread_id)]
    assert any("via API: crm" in t for t in topic)
    _, events, _ = await api.get("/tickets/2/events")
    assert (events["items"][0]["kind"], events["items"][0]["actor_kind"]) == ("created", "api")

    status, problem, _ = await api.call(
        "POST", "/tickets", json={"customer_telegram_id": 42, "text": "hello"}
    )
    assert (status, problem["errors"][0]["field"]) == (422, "customer_telegram_id")
    status, problem, _ = await api.call("POST", "/tickets", json={"customer_telegram_id": 42})
    assert (status, problem["errors"][0]["field"]) == (422, "text")


async def test_a_message_file_is_served_through_telegram_once(api: ApiClient) -> None:
    desk = api.desk
    ann, _ = await open_ticket(desk)
    picture = b"\x89PNG-not-really" * 100
    desk.emulator.user_sends_document(ann, content=picture, caption="the receipt")
    await desk.step()
    _, messages, _ = await api.get("/tickets/1/messages")
    [with_file] = [m for m in messages["items"] if m["file_url"]]
    assert with_file["media_kind"] == "document"
    path = with_file["file_url"].removeprefix("/api/v1")
    for _ in range(2):
        async with api.http.get(
            api.base + path, headers={"Authorization": f"Bearer {api.key}"}
        ) as response:
            assert response.status == 200
            assert response.content_type == "application/pdf"
            assert await response.read() == picture
    assert len(list((desk.settings.data_dir / "api-files").iterdir())) == 1  # fetched once
    status, body, _ = await api.get(f"/messages/{messages['items'][0]['id']}/file")
    assert (status, body["type"]) == (404, PROBLEM + "not-found")  # a text has no file


async def test_closing_with_other_changes_makes_them_all(api: ApiClient) -> None:
    await open_ticket(api.desk)
    status, ticket, _ = await api.call(
        "PATCH", "/tickets/1", json={"status": "closed", "priority": "high", "add_tags": ["x"]}
    )
    assert status == 200, ticket
    assert (ticket["status"], ticket["priority"], ticket["tags"]) == ("closed", "high", ["x"])
    status, ticket, _ = await api.call(
        "PATCH", "/tickets/1", json={"status": "open", "priority": "low"}
    )
    assert status == 200, ticket
    assert (ticket["status"], ticket["priority"]) == ("open", "low")


async def test_history_in_the_topic_names_the_key(api: ApiClient) -> None:
    desk = api.desk
    _, ticket = await open_ticket(desk)
    await api.call("PATCH", "/tickets/1", json={"priority": "urgent"})
    desk.emulator.user_sends_text(
        desk.admin, "/history", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()
    history = desk.topic_messages(ticket.agent_thread_id)[-1].get("text") or ""
    assert "via API: crm" in history
