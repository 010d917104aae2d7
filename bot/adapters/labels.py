"""Translated names of statuses, priorities and media kinds (call inside a locale context)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from models import AssignStrategy, MediaKind, Priority, TicketStatus
from models.training import OUT_OF_SCOPE


def category_label(key: str | None) -> str:
    """A ticket's category as agents read it; "—" for none."""
    if key == OUT_OF_SCOPE:
        return _("Other / not a category")
    return key or "—"


def status_label(status: TicketStatus) -> str:
    return {
        TicketStatus.NEW: _("New"),
        TicketStatus.OPEN: _("Open"),
        TicketStatus.WAITING: _("Waiting for customer"),
        TicketStatus.ON_HOLD: _("On hold"),
        TicketStatus.RESOLVED: _("Resolved"),
        TicketStatus.CLOSED: _("Closed"),
    }[status]


def customer_status_label(status: TicketStatus) -> str:
    """A status as the customer reads it: their turn is theirs, not "the customer's"."""
    if status is TicketStatus.WAITING:
        return _("Waiting for your reply")
    return status_label(status)


def priority_label(priority: Priority) -> str:
    return {
        Priority.LOW: _("Low"),
        Priority.NORMAL: _("Normal"),
        Priority.HIGH: _("High"),
        Priority.URGENT: _("Urgent"),
    }[priority]


def media_label(kind: MediaKind) -> str:
    return {
        MediaKind.TEXT: _("text"),
        MediaKind.PHOTO: _("photo"),
        MediaKind.VIDEO: _("video"),
        MediaKind.DOCUMENT: _("file"),
        MediaKind.AUDIO: _("audio"),
        MediaKind.VOICE: _("voice message"),
        MediaKind.VIDEO_NOTE: _("video message"),
        MediaKind.STICKER: _("sticker"),
        MediaKind.ANIMATION: _("GIF"),
        MediaKind.LOCATION: _("location"),
        MediaKind.CONTACT: _("contact"),
        MediaKind.OTHER: _("message"),
    }[kind]


def sla_label(kind: str) -> str:
    return {
        "first_response": _("First response"),
        "next_response": _("Next response"),
        "resolution": _("Resolution"),
    }[kind]


def strategy_label(strategy: AssignStrategy) -> str:
    return {
        AssignStrategy.MANUAL: _("manual (claim)"),
        AssignStrategy.ROUND_ROBIN: _("round-robin"),
        AssignStrategy.LEAST_OPEN: _("least open tickets"),
    }[strategy]
