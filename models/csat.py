"""Rating links: satisfaction (CSAT) from a mail, where no Telegram button can be pressed.

The "resolved" mail to an email customer carries one link per score to the desk's HTTP server
(``HELPDESK_PUBLIC_URL`` + :data:`RATING_PATH` + token). The token names the ticket by its
internal id and is signed: ``<id>-<HMAC-SHA256(key, "rating:<id>"), 144 bits, base64url>``, so
nobody can rate a ticket whose mail they did not get, and a token changed in any character is
refused. The key is derived from a secret every worker shares (:func:`link_key`), so no table
of tokens is needed and every worker checks every link. The link is idempotent, not one-use:
a ticket has one rating, the first one given; a later click shows it instead of changing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field

#: Where the rating pages are served, on the REST API's server.
RATING_PATH = "/csat/v1/"
SCORES = range(1, 6)
_KEY_LABEL = b"helpdesk rating links v1"
_SIGNATURE_BYTES = 18  # 144 bits: 24 base64url characters, no padding
_TOKEN = re.compile(r"([1-9][0-9]{0,17})-([A-Za-z0-9_-]{24})")


def link_key(secret: str) -> bytes:
    """The signing key, derived from a secret the workers share (the bot token): a key of its
    own, so a rating link reveals nothing about the secret."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def parse_score(text: str | None) -> int | None:
    """A score from a link or a form (``1`` to ``5``); None for anything else."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 1:
        return None
    score = int(text)
    return score if score in SCORES else None


@dataclass(frozen=True)
class RatingLinks:
    """Makes and checks the links of one desk."""

    base_url: str  # the desk's public URL, e.g. https://desk.example.com (no trailing slash)
    key: bytes = field(repr=False)

    def _signature(self, ticket_id: int) -> str:
        digest = hmac.new(self.key, f"rating:{ticket_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode()

    def token(self, ticket_id: int) -> str:
        if ticket_id <= 0:
            raise ValueError(f"not a stored ticket: {ticket_id}")
        return f"{ticket_id}-{self._signature(ticket_id)}"

    def ticket_of(self, token: str) -> int | None:
        """The ticket id a token was made for; None for a token this desk did not make."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        ticket_id = int(match[1])
        if not hmac.compare_digest(match[2], self._signature(ticket_id)):
            return None
        return ticket_id

    def url(self, ticket_id: int, score: int) -> str:
        return f"{self.base_url}{RATING_PATH}{self.token(ticket_id)}?score={score}"
