"""Settings are validated with one readable line; the CLI exits 2 on bad configuration."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from tests.support.cli import ROOT, clean_env, helpdesk

TOKEN = "123456:AAH-secret_part_of_the_token_xyz"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("HELPDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env


class TestSettings:
    def test_defaults(self) -> None:
        settings = load_settings()
        assert settings.bot_token is None
        assert settings.admin_ids == []
        assert settings.database_url.startswith("sqlite+aiosqlite:///")
        assert settings.database_url.endswith("var/helpdesk.db")
        assert settings.telegram_api_url == "https://api.telegram.org"
        assert (settings.default_language, settings.timezone, settings.log_format) == (
            "en",
            "UTC",
            "text",
        )

    def test_values_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HELPDESK_ADMIN_IDS", " 5, 6 ,")
        monkeypatch.setenv("HELPDESK_DATA_DIR", "/srv/hd")
        monkeypatch.setenv("HELPDESK_TELEGRAM_API_URL", "http://127.0.0.1:8081/")
        settings = load_settings()
        assert settings.admin_ids == [5, 6]
        assert settings.database_url == "sqlite+aiosqlite:////srv/hd/helpdesk.db"
        assert settings.telegram_api_url == "http://127.0.0.1:8081"

    def test_env_file_is_read(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("HELPDESK_DEFAULT_LANGUAGE=ru\n")
        assert load_settings().default_language == "ru"

    @pytest.mark.parametrize(
        ("var", "value", "expected"),
        [
            ("HELPDESK_ADMIN_IDS", "12,abc", "HELPDESK_ADMIN_IDS: expected comma-separated"),
            ("HELPDESK_AGENT_CHAT_ID", "group", "HELPDESK_AGENT_CHAT_ID:"),
            ("HELPDESK_DEFAULT_LANGUAGE", "de", "HELPDESK_DEFAULT_LANGUAGE:"),
            ("HELPDESK_TIMEZONE", "Mars/Base", "HELPDESK_TIMEZONE: unknown IANA time zone"),
            ("HELPDESK_LOG_FORMAT", "xml", "HELPDESK_LOG_FORMAT:"),
            ("HELPDESK_TELEGRAM_API_URL", "ftp://x", "HELPDESK_TELEGRAM_API_URL: must start"),
            ("HELPDESK_BOT_TOKEN", "nonsense", "HELPDESK_BOT_TOKEN: does not look like"),
            (
                "HELPDESK_DATABASE_URL",
                "mysql://x",
                "HELPDESK_DATABASE_URL: unsupported database URL (mysql://); accepted drivers: "
                "sqlite+aiosqlite://, postgresql+asyncpg://",
            ),
            ("HELPDESK_DATABASE_URL", "sqlite:///x.db", "HELPDESK_DATABASE_URL: unsupported"),
            ("HELPDESK_DATABASE_URL", "helpdesk.db", "HELPDESK_DATABASE_URL: unsupported"),
            (
                "HELPDESK_EMAIL_IMAP_URL",
                "pop3://u:p@h",
                "HELPDESK_EMAIL_IMAP_URL: unsupported URL",
            ),
            ("HELPDESK_EMAIL_IMAP_URL", "imaps://host/INBOX", "HELPDESK_EMAIL_IMAP_URL: the mail"),
            ("HELPDESK_EMAIL_SMTP_URL", "smtp:///", "HELPDESK_EMAIL_SMTP_URL: unsupported URL"),
            ("HELPDESK_EMAIL_SMTP_URL", "smtp://h:99999", "HELPDESK_EMAIL_SMTP_URL: not a URL"),
            ("HELPDESK_EMAIL_FROM", "support desk", "HELPDESK_EMAIL_FROM: an email address"),
            ("HELPDESK_EMAIL_FROM", "desk@example.com", "HELPDESK_EMAIL_IMAP_URL, HELPDESK_EMAIL"),
        ],
    )
    def test_bad_value_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: str
    ) -> None:
        monkeypatch.setenv(var, value)
        with pytest.raises(SettingsError) as info:
            load_settings()
        assert str(info.value).startswith(expected)
        assert "\n" not in str(info.value)

    def test_refused_database_url_does_not_echo_its_password(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HELPDESK_DATABASE_URL", "postgresql://hd:s3cret@db/hd")
        with pytest.raises(SettingsError) as info:
            load_settings()
        assert "postgresql://" in str(info.value)
        assert "s3cret" not in str(info.value)

    def test_refused_mail_url_does_not_echo_its_password(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HELPDESK_EMAIL_IMAP_URL", "pop3s://desk:s3cret@mail.example.com")
        with pytest.raises(SettingsError) as info:
            load_settings()
        assert "s3cret" not in str(info.value)

    def test_the_email_channel_is_off_unless_set_and_reads_its_urls(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert load_settings().email is None
        monkeypatch.setenv(
            "HELPDESK_EMAIL_IMAP_URL", "imaps://desk%40example.com:p%2Fw@mx:993/Help"
        )
        monkeypatch.setenv("HELPDESK_EMAIL_SMTP_URL", "smtp://relay.example.com")
        monkeypatch.setenv("HELPDESK_EMAIL_FROM", "Support <Desk@Example.com>")
        settings = load_settings()
        email = settings.email
        assert email is not None
        assert (email.imap.host, email.imap.port, email.imap.tls) == ("mx", 993, True)
        assert (email.imap.user, email.imap.password) == ("desk@example.com", "p/w")
        assert email.imap.mailbox == "Help"
        assert (email.smtp.port, email.smtp.tls, email.smtp.user) == (587, False, None)
        assert email.address == "desk@example.com"
        assert "p%2Fw" not in str(settings.masked())

    @pytest.mark.parametrize(
        "url", ["sqlite+aiosqlite:///var/hd.db", "postgresql+asyncpg://hd:pw@db:5432/hd"]
    )
    def test_supported_database_urls_are_accepted(
        self, monkeypatch: pytest.MonkeyPatch, url: str
    ) -> None:
        monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
        assert load_settings().database_url == url

    def test_readme_example_token_passes_the_format_check(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        examples = re.findall(r"HELPDESK_BOT_TOKEN=(\S+)", readme)
        assert examples
        for token in examples:
            assert load_settings(bot_token=token).bot_token is not None

    def test_masked_hides_token_and_database_password(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HELPDESK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("HELPDESK_DATABASE_URL", "postgresql+asyncpg://hd:s3cret@db/hd")
        masked = load_settings().masked()
        assert TOKEN not in json.dumps(masked)
        assert "s3cret" not in json.dumps(masked)
        assert masked["HELPDESK_DATABASE_URL"] == "postgresql+asyncpg://hd:****@db/hd"


class TestCli:
    def test_run_without_token_exits_2_naming_the_variable(self, tmp_path: Path) -> None:
        result = helpdesk("run", env=clean_env(), cwd=tmp_path)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert "HELPDESK_BOT_TOKEN" in lines[0]
        assert "Traceback" not in result.stderr

    def test_run_without_agent_chat_exits_2(self, tmp_path: Path) -> None:
        result = helpdesk("run", env=clean_env(HELPDESK_BOT_TOKEN=TOKEN), cwd=tmp_path)
        assert result.returncode == 2
        assert "HELPDESK_AGENT_CHAT_ID" in result.stderr
        assert TOKEN not in result.stderr + result.stdout

    @pytest.mark.parametrize(
        ("extra", "named"),
        [
            ({}, "HELPDESK_TELEGRAM_WEBHOOK_URL"),
            (
                {"HELPDESK_TELEGRAM_WEBHOOK_URL": "https://desk.example.com/tg"},
                "HELPDESK_TELEGRAM_WEBHOOK_SECRET",
            ),
            ({"HELPDESK_TELEGRAM_WEBHOOK_SECRET": "short"}, "HELPDESK_TELEGRAM_WEBHOOK_SECRET"),
        ],
    )
    def test_webhook_mode_needs_url_and_secret(
        self, tmp_path: Path, extra: dict[str, str], named: str
    ) -> None:
        env = clean_env(HELPDESK_BOT_TOKEN=TOKEN, HELPDESK_AGENT_CHAT_ID="-1001", **extra)
        result = helpdesk("run", "--webhook", env=env, cwd=tmp_path)
        assert result.returncode == 2
        assert named in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    def test_invalid_value_exits_2_with_one_line(self, tmp_path: Path) -> None:
        result = helpdesk("config", env=clean_env(HELPDESK_ADMIN_IDS="1,two"), cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert "HELPDESK_ADMIN_IDS" in result.stderr

    def test_bad_token_is_not_echoed(self, tmp_path: Path) -> None:
        secret = "123:short"
        result = helpdesk("config", env=clean_env(HELPDESK_BOT_TOKEN=secret), cwd=tmp_path)
        assert result.returncode == 2
        assert secret not in result.stderr + result.stdout

    def test_config_prints_masked_json(self, tmp_path: Path) -> None:
        result = helpdesk("config", env=clean_env(HELPDESK_BOT_TOKEN=TOKEN), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        assert shown["HELPDESK_BOT_TOKEN"] == "**********"
        assert TOKEN not in result.stdout

    def test_run_with_unsupported_database_exits_2_naming_drivers(self, tmp_path: Path) -> None:
        env = clean_env(
            HELPDESK_BOT_TOKEN=TOKEN,
            HELPDESK_AGENT_CHAT_ID="-1001",
            HELPDESK_DATABASE_URL="mysql://x",
        )
        result = helpdesk("run", env=env, cwd=tmp_path)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "HELPDESK_DATABASE_URL" in lines[0]
        assert "sqlite+aiosqlite" in lines[0]
        assert "postgresql+asyncpg" in lines[0]

    def test_dev_help_prints_the_usage_only(self) -> None:
        result = subprocess.run(
            [str(ROOT / "dev"), "help"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0
        assert "./dev lint" in result.stdout
        assert "set -euo" not in result.stdout
        assert all(not line.startswith("#") for line in result.stdout.splitlines())

    def test_version(self, tmp_path: Path) -> None:
        result = helpdesk("--version", env=clean_env(), cwd=tmp_path)
        assert result.returncode == 0
        assert result.stdout.startswith("helpdesk ")
