"""The ``helpdesk`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from bot.config import Settings, SettingsError, load_settings
from models.apikeys import SCOPES as API_SCOPES
from models.apikeys import ApiKey

T = TypeVar("T")

app = typer.Typer(
    name="helpdesk",
    help="Telegram help desk with AI triage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="Database schema: upgrade, current revision, drift check.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
apikey_app = typer.Typer(
    help="REST API keys: create (the key is printed once), list, revoke.", no_args_is_help=True
)
app.add_typer(apikey_app, name="apikey")


def _mount_triage() -> None:
    """``helpdesk triage ...``: the library's commands plus those that need the help desk."""
    from triage.cli import app as triage_app

    triage_app.command("retrain")(triage_retrain)
    triage_app.command("models")(triage_models)
    triage_app.command("rollback")(triage_rollback)
    triage_app.command("reindex")(triage_reindex)
    app.add_typer(triage_app, name="triage")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit (2: bad input or configuration)."""
    typer.echo(f"helpdesk: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


def _version() -> str:
    try:
        return version("telegram-helpdesk")
    except PackageNotFoundError:
        return "unknown"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"helpdesk {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Telegram help desk with AI triage."""


def _migrate(settings: Settings) -> None:
    from bot.logs import one_line
    from storage import migrate

    try:
        migrate.upgrade(settings.database_url)
    except Exception as exc:  # the driver's own error types vary: report them in one line
        fail(f"cannot migrate the database {_safe_url(settings)}: {one_line(exc)}", code=1)


def _safe_url(settings: Settings) -> str:
    return str(settings.masked()["HELPDESK_DATABASE_URL"])


@app.command()
def run(
    webhook: Annotated[
        bool,
        typer.Option(
            "--webhook",
            help="Receive updates on HELPDESK_TELEGRAM_WEBHOOK_URL instead of long polling.",
        ),
    ] = False,
) -> None:
    """Run the bot (long polling, or --webhook): checks the token and the agents' chat, applies
    pending migrations, then starts."""
    settings = settings_or_exit()
    if settings.bot_token is None:
        fail("HELPDESK_BOT_TOKEN: required by 'helpdesk run' (the token @BotFather gave you)")
    if settings.agent_chat_id is None:
        fail("HELPDESK_AGENT_CHAT_ID: required by 'helpdesk run' (the agents' supergroup id)")
    if webhook and settings.telegram_webhook_url is None:
        fail("HELPDESK_TELEGRAM_WEBHOOK_URL: required by --webhook (the public https URL)")
    if webhook and settings.telegram_webhook_secret is None:
        fail("HELPDESK_TELEGRAM_WEBHOOK_SECRET: required by --webhook (16+ characters)")
    from bot.logs import setup_logging

    secrets = [settings.bot_token.get_secret_value()]
    if settings.telegram_webhook_secret is not None:
        secrets.append(settings.telegram_webhook_secret.get_secret_value())
    setup_logging(settings.log_format, settings.log_level, secrets)
    from bot.app import run_bot
    from bot.startup import StartupError

    try:  # the start-up checks, then the migrations, then the loops
        asyncio.run(run_bot(settings, webhook=webhook))
    except StartupError as exc:
        fail(str(exc), exc.code)


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port of the page on 127.0.0.1.")] = 8080,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the page's address.")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the database and the triage model here (a new, empty directory); "
            "default: a temporary one, removed at exit."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log what the bot does.")] = False,
) -> None:
    """Try the help desk without Telegram: the bot against a built-in Telegram emulator, with a
    local page to play customers and agents. Ctrl-C stops it."""
    import tempfile

    from bot.logs import setup_logging
    from bot.sandbox.runner import DB_NAME, SANDBOX_TOKEN, SandboxError, run_sandbox
    from bot.sandbox.runner import sandbox_settings as make_sandbox_settings

    if not 0 <= port <= 65535:
        fail(f"--port: expected 0-65535, got {port}")
    with contextlib.ExitStack() as cleanup:
        if data_dir is None:
            data_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="helpdesk-sandbox-"))
            )
        elif (data_dir / DB_NAME).exists():
            fail(
                f"--data-dir: {data_dir} already holds a sandbox database; pick a new directory "
                "(the emulated Telegram starts empty at every start)"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            settings = make_sandbox_settings(data_dir, log_level="INFO" if verbose else "WARNING")
        except SettingsError as exc:
            fail(str(exc))
        setup_logging(settings.log_format, settings.log_level, [SANDBOX_TOKEN])
        _migrate(settings)

        def announce(url: str) -> None:
            typer.echo(f"Sandbox: {url}  (data in {data_dir}; Ctrl-C stops it)")

        try:
            asyncio.run(
                run_sandbox(settings, port=port, open_browser=not no_browser, announce=announce)
            )
        except SandboxError as exc:
            fail(str(exc), code=1)
        except KeyboardInterrupt:
            pass  # interrupted while starting: everything started is already stopped
    typer.echo("Sandbox stopped.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    settings = settings_or_exit()
    _migrate(settings)
    _print_current(settings)


def _print_current(settings: Settings) -> None:
    from bot.logs import one_line
    from storage import migrate

    try:
        current = migrate.current(settings.database_url)
    except Exception as exc:
        fail(f"cannot read the database {_safe_url(settings)}: {one_line(exc)}", code=1)
    head = migrate.head_revision()
    typer.echo(json.dumps({"current": current, "head": head, "up_to_date": current == head}))


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one the code has."""
    _print_current(settings_or_exit())


@db_app.command("check")
def db_check() -> None:
    """Fail (exit 1) if the models need a migration that does not exist yet."""
    from storage import migrate

    settings = settings_or_exit()
    _migrate(settings)
    try:
        migrate.check(settings.database_url)
    except migrate.SchemaDrift as exc:
        fail(f"models and migrations disagree: {exc}", code=1)
    typer.echo("models and migrations agree")


@app.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked) as JSON."""
    settings = settings_or_exit()
    json.dump(settings.masked(), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _date_option(name: str, value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: expected a date like 2026-03-01, got {value!r}")


@app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, in HELPDESK_TIMEZONE).")] = "",
    until: Annotated[str, typer.Option(help="Last day, included (default: today).")] = "",
    out: Annotated[Path | None, typer.Option(help="Directory for the files.")] = None,
) -> None:
    """Write tickets, messages, events and ratings of a period to DIR as CSV or JSON Lines
    (columns: see bot/services/export.py). Prints the record counts as JSON."""
    from bot.services.export import ExportFormat, export_to_dir
    from models.stats import local_day_bounds

    try:
        export_format = ExportFormat(fmt.lower())
    except ValueError:
        fail(f"--format: expected csv or jsonl, got {fmt!r}")
    if not since:
        fail("--since: required (the first day, e.g. 2026-03-01)")
    if out is None:
        fail("--out: required (the directory for the files)")
    settings = settings_or_exit()
    first = _date_option("--since", since)
    last = _date_option("--until", until) if until else datetime.now(settings.zone).date()
    if last < first:
        fail(f"--until {last} is before --since {first}")
    if out.exists() and not out.is_dir():
        fail(f"--out: {out} is not a directory")
    _migrate(settings)
    out.mkdir(parents=True, exist_ok=True)
    start, end = local_day_bounds(first, last, settings.timezone)
    from storage import make_engine, uow_factory

    async def _run() -> dict[str, int]:
        engine = make_engine(settings.database_url)
        try:
            async with uow_factory(engine)(readonly=True) as uow:
                return await export_to_dir(uow, out, export_format, start, end)
        finally:
            await engine.dispose()

    counts = asyncio.run(_run())
    typer.echo(json.dumps({"format": str(export_format), "dir": str(out), **counts}))


def _with_uow(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(uow)`` against the configured database (migrated first)."""
    settings = settings_or_exit()
    from bot.logs import setup_logging

    setup_logging(settings.log_format, settings.log_level)  # the audit lines go to stderr
    _migrate(settings)
    from storage import make_engine, uow_factory

    async def _run() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with uow_factory(engine)() as uow:
                return await work(uow)
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def _key_view(key: ApiKey) -> dict[str, object]:
    return {
        "name": key.name,
        "scopes": list(key.scopes),
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
    }


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="The key's name (shown as 'via API: NAME').")],
    scopes: Annotated[
        str,
        typer.Option(help="Comma-separated: " + ", ".join(API_SCOPES) + "."),
    ],
) -> None:
    """Create a key and print it with its name and scopes as one JSON object; the key is shown
    this once (only its hash is stored)."""
    from bot.services import apikeys
    from models import InvalidInput

    async def work(uow: Any) -> dict[str, object]:
        new = await apikeys.create_key(uow, name, scopes, datetime.now(UTC))
        await uow.commit()
        return {"key": new.key, **_key_view(new.record)}

    try:
        created = _with_uow(work)
    except InvalidInput as exc:
        fail(f"{exc.field}: {exc.value} {exc.reason}")
    apikeys_audit("api key created", key=name, scopes=scopes)
    typer.echo(json.dumps(created))


@apikey_app.command("list")
def apikey_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """The keys (JSON Lines): name, scopes, when created, revoked and last used."""

    async def work(uow: Any) -> list[ApiKey]:
        keys: list[ApiKey] = await uow.apikeys.list(include_revoked=all_keys)
        return keys

    for key in _with_uow(work):
        typer.echo(json.dumps(_key_view(key)))


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Take a key out of service at once."""
    from bot.services import apikeys

    async def work(uow: Any) -> ApiKey:
        key = await apikeys.revoke_key(uow, name, datetime.now(UTC))
        await uow.commit()
        return key

    try:
        key = _with_uow(work)
    except apikeys.KeyNotFound:
        fail(f"no API key in service is named {name!r}", code=1)
    apikeys_audit("api key revoked", key=key.name)
    typer.echo(json.dumps(_key_view(key)))


def apikeys_audit(action: str, **details: object) -> None:
    from bot.services.apikeys import audit_by

    audit_by("cli", action, **details)


def triage_retrain() -> None:
    """Train a candidate on seed examples plus agents' corrections; promote it only if it is
    not worse than the current model on held-out labelled data. Prints the report as JSON."""
    settings = settings_or_exit()
    _migrate(settings)
    from bot.services.training import retrain
    from storage import make_engine, uow_factory

    async def _run() -> dict[str, object]:
        engine = make_engine(settings.database_url)
        try:
            return (await retrain(uow_factory(engine), settings.model_dir)).to_dict()
        finally:
            await engine.dispose()

    typer.echo(json.dumps(asyncio.run(_run()), ensure_ascii=False))


def triage_reindex() -> None:
    """Rebuild the similar-tickets table from every resolved and closed ticket in the history
    (running workers pick the new rows up at their next lookup). Prints the count as JSON."""
    settings = settings_or_exit()
    _migrate(settings)
    from bot.services.similar import rebuild_solutions
    from storage import make_engine, uow_factory

    async def _run() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with uow_factory(engine)() as uow:
                return await rebuild_solutions(uow)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    solutions = asyncio.run(_run())
    typer.echo(
        json.dumps({"solutions": solutions, "seconds": round(time.perf_counter() - started, 2)})
    )


def triage_models() -> None:
    """List the kept model versions (JSON Lines), the current one marked."""
    from triage import ModelRegistry

    settings = settings_or_exit()
    for kept in ModelRegistry(settings.model_dir).list_versions():
        typer.echo(
            json.dumps(
                {
                    "id": kept.id,
                    "current": kept.is_current,
                    "created_at": kept.created_at,
                    "metrics": kept.metrics,
                },
                ensure_ascii=False,
            )
        )


def triage_rollback() -> None:
    """Make the previous model version current again (the bot picks it up at its next start)."""
    from triage import ModelRegistry, RegistryError

    settings = settings_or_exit()
    try:
        version = ModelRegistry(settings.model_dir).rollback()
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(json.dumps({"current": version.id}))


_mount_triage()
