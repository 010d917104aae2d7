"""Rating links of "resolved" mails: signed tokens, scores, and the settings that switch them
on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.app import rating_links_from
from bot.config import Settings
from models.csat import RATING_PATH, RatingLinks, link_key, parse_score

LINKS = RatingLinks("https://desk.example", link_key("123:secret"))


class TestTokens:
    def test_a_token_names_its_ticket_and_nothing_else_checks(self) -> None:
        token = LINKS.token(42)
        assert token.startswith("42-")
        assert len(token) == len("42-") + 24
        assert LINKS.ticket_of(token) == 42
        assert LINKS.ticket_of(LINKS.token(43)) == 43

    def test_a_changed_character_anywhere_is_refused(self) -> None:
        token = LINKS.token(42)
        for i, char in enumerate(token):
            for other in {"4", "3", "A", "_", "-"} - {char}:
                assert LINKS.ticket_of(token[:i] + other + token[i + 1 :]) is None

    def test_the_ticket_number_alone_or_another_ticket_s_signature_is_refused(self) -> None:
        signature = LINKS.token(42).split("-", 1)[1]
        assert LINKS.ticket_of("42") is None
        assert LINKS.ticket_of(f"43-{signature}") is None
        assert LINKS.ticket_of(LINKS.token(42) + "A") is None
        assert LINKS.ticket_of("") is None

    def test_another_desk_s_key_is_refused(self) -> None:
        other = RatingLinks("https://desk.example", link_key("123:another"))
        assert other.ticket_of(LINKS.token(42)) is None

    def test_url_has_the_path_and_the_score(self) -> None:
        assert LINKS.url(42, 5) == f"https://desk.example{RATING_PATH}{LINKS.token(42)}?score=5"

    @pytest.mark.parametrize("bad", [0, -1])
    def test_only_stored_tickets_get_tokens(self, bad: int) -> None:
        with pytest.raises(ValueError, match="not a stored ticket"):
            LINKS.token(bad)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("1", 1),
        ("5", 5),
        ("0", None),
        ("6", None),
        ("", None),
        (None, None),
        ("05", None),
        ("٣", None),
        ("4.0", None),
    ],
)
def test_scores_are_one_to_five(text: str | None, score: int | None) -> None:
    assert parse_score(text) == score


BASE: dict[str, object] = {
    "bot_token": "123456:TEST-token-for-the-emulator-only",
    "agent_chat_id": -100,
}


class TestSettings:
    def test_on_with_the_api_port_and_public_url(self) -> None:
        settings = Settings(**BASE, api_port=8081, public_url="https://desk.example/")
        links = rating_links_from(settings)
        assert links is not None
        assert links.base_url == "https://desk.example"

    def test_off_without_a_public_url(self) -> None:
        assert rating_links_from(Settings(**BASE, api_port=8081)) is None

    def test_a_public_url_without_the_api_server_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="HELPDESK_API_PORT"):
            Settings(**BASE, public_url="https://desk.example")

    def test_a_public_url_must_be_absolute(self) -> None:
        with pytest.raises(ValidationError, match="absolute URL"):
            Settings(**BASE, api_port=8081, public_url="desk.example")
