"""Settings: environment variables (prefix ``HELPDESK_``) and an optional ``.env`` file."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.mail import MailServer, parse_server_url
from models.widget import parse_origins

TELEGRAM_API_URL = "https://api.telegram.org"
ENV_PREFIX = "HELPDESK_"
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
#: The async drivers the desk runs on (storage/db.py); any other URL fails at start, not in
#: the middle of a migration.
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    agent_chat_id: int | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    data_dir: Path = Path("./var")
    database_url: str = ""
    telegram_api_url: str = TELEGRAM_API_URL
    default_language: Literal["en", "ru"] = "en"
    timezone: str = "UTC"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reopen_window_hours: float = Field(default=72, ge=0)
    sign_replies: bool = False
    rate_private_per_s: float = Field(default=1, gt=0)
    rate_group_per_min: float = Field(default=20, gt=0)
    rate_global_per_s: float = Field(default=30, gt=0)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    request_timeout: int = Field(default=15, ge=1, le=300)
    sla_scan_seconds: int = Field(default=30, ge=1, le=3600)
    remind_after_hours: float = Field(default=24, ge=0)
    auto_resolve_hours: float = Field(default=72, ge=0)
    auto_close_days: float = Field(default=7, ge=0)
    digest_time: str = "09:00"
    automation_seconds: int = Field(default=300, ge=1, le=86400)
    #: Processed updates and sent calls are deleted after this many days. Telegram resends an
    #: unconfirmed update for up to a day, so the inbox must remember longer than that.
    delivery_retention_days: float = Field(default=7, ge=2)
    #: Port of the metrics and health endpoint (/metrics, /health); 0: off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    #: Port of the REST API (``/api/v1``); 0: off. Every worker serves it.
    api_port: int = Field(default=0, ge=0, le=65535)
    api_host: str = "127.0.0.1"
    #: Requests per minute one API key may make (per worker).
    api_rate_per_min: int = Field(default=120, ge=1)
    #: Where customers reach the API's server (behind its TLS proxy): rating links in mails.
    public_url: str | None = None
    #: Webhook mode (``helpdesk run --webhook``): the public https URL Telegram posts to, the
    #: secret Telegram sends back in a header, and where this process listens.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "0.0.0.0"  # behind a reverse proxy, or in a container
    telegram_webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_timeout: float = Field(default=10, gt=0, le=120)
    webhook_retry_hours: float = Field(default=24, gt=0, le=24 * 14)
    webhook_max_attempts: int = Field(default=25, ge=1, le=1000)
    #: Several workers: Redis shares leases, rate limits and job runs between them (unset: one
    #: process does everything). Keys start with the prefix, so desks can share a server.
    redis_url: SecretStr | None = None
    redis_prefix: str = Field(default="helpdesk", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    #: This process's name in logs and leases (default: host name and process id).
    worker_name: str = ""
    #: The email channel (all three, or none: off): the support mailbox read over IMAP, the
    #: SMTP server replies leave through, and the desk's address.
    email_imap_url: SecretStr | None = None
    email_smtp_url: SecretStr | None = None
    email_from: str | None = None
    #: How often the mailbox is looked at when the IMAP server offers no IDLE (and at the
    #: latest, with IDLE).
    email_poll_seconds: int = Field(default=60, ge=1, le=3600)
    #: The website chat widget: the sites (origins) that may embed it; empty: off. It is
    #: served by the REST API's server (``HELPDESK_API_PORT``).
    widget_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Messages per minute one widget visitor may send.
    widget_rate_per_min: int = Field(default=20, ge=1)

    @field_validator("email_imap_url", "email_smtp_url")
    @classmethod
    def _check_mail_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            # Never echo the value: it holds the mailbox's password.
            secret = value.get_secret_value()
            if info.field_name == "email_imap_url":
                parse_server_url(secret, "imap")
            else:
                parse_server_url(secret, "smtp")
        return value

    @field_validator("email_from")
    @classmethod
    def _check_mail_from(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _name, address = parseaddr(value)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            raise ValueError("an email address, like support@example.com or Desk <desk@x.org>")
        return value

    @model_validator(mode="after")
    def _email_all_or_none(self) -> Settings:
        given = [self.email_imap_url, self.email_smtp_url, self.email_from]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError(
                "HELPDESK_EMAIL_IMAP_URL, HELPDESK_EMAIL_SMTP_URL and HELPDESK_EMAIL_FROM go "
                "together: set all three for the email channel, or none"
            )
        return self

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        return parse_origins(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _widget_needs_api(self) -> Settings:
        if self.widget_origins and not self.api_port:
            raise ValueError(
                "HELPDESK_WIDGET_ORIGINS: the chat widget is served by the REST API's server; "
                "set HELPDESK_API_PORT too"
            )
        if self.public_url and not self.api_port:
            raise ValueError(
                "HELPDESK_PUBLIC_URL: rating links are served by the REST API's server; "
                "set HELPDESK_API_PORT too"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("an absolute URL without a query, like https://desk.example.com")
        return value.rstrip("/")

    @property
    def email(self) -> EmailSettings | None:
        """The email channel's servers and address (None: the channel is off)."""
        if self.email_imap_url is None or self.email_smtp_url is None or not self.email_from:
            return None
        return EmailSettings(
            imap=parse_server_url(self.email_imap_url.get_secret_value(), "imap"),
            smtp=parse_server_url(self.email_smtp_url.get_secret_value(), "smtp"),
            sender=self.email_from,
            address=parseaddr(self.email_from)[1].lower(),
            poll_seconds=self.email_poll_seconds,
        )

    @field_validator("digest_time")
    @classmethod
    def _check_digest_time(cls, value: str) -> str:
        if not value:
            return value
        try:
            hours, minutes = (int(p) for p in value.split(":"))
            time(hours, minutes)
        except ValueError:
            raise ValueError(
                "expected HH:MM, e.g. 09:00 (empty switches the digest off)"
            ) from None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                return [int(p) for p in parts if p]
            except ValueError:
                raise ValueError(
                    "expected comma-separated Telegram user ids, e.g. 12345,67890"
                ) from None
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            # Never echo the value: it may be a real token with a typo.
            raise ValueError("does not look like a bot token (expected <digits>:<secret>)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme, sep, _ = value.partition("://")
        if value and (not sep or scheme not in DATABASE_DRIVERS):
            # Name the scheme only: the rest of a URL may hold a password.
            got = f"{scheme}://" if sep else "no scheme"
            raise ValueError(
                f"unsupported database URL ({got}); accepted drivers: "
                + ", ".join(f"{d}://" for d in DATABASE_DRIVERS)
            )
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("16 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("an absolute URL, like https://desk.example.com/telegram")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"(redis|rediss|unix)://\S+", value.get_secret_value()
        ):
            raise ValueError("a Redis URL, like redis://127.0.0.1:6379/0")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            path = (self.data_dir / "helpdesk.db").resolve()
            self.database_url = f"sqlite+aiosqlite:///{path}"
        if not self.worker_name:
            self.worker_name = f"{socket.gethostname()}-{os.getpid()}"
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    def masked(self) -> dict[str, Any]:
        """The effective settings as environment names, with secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********"
            elif name == "database_url":
                value = _mask_url_password(value)
            elif isinstance(value, Path):
                value = str(value)
            out[ENV_PREFIX + name.upper()] = value
        return out


@dataclass(frozen=True)
class EmailSettings:
    imap: MailServer
    smtp: MailServer
    sender: str  # the From header, with a display name if one was given
    address: str  # its address alone, lower-case
    poll_seconds: int


def _mask_url_password(url: str) -> str:
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1****@", url)


class SettingsError(Exception):
    """Settings could not be read; the message is one line naming the variable."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; raise :class:`SettingsError` with one readable line on failure."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule about several variables names them itself
            raise SettingsError(message) from None
        field = str(first["loc"][0])
        raise SettingsError(f"{ENV_PREFIX}{field.upper()}: {message}") from None
