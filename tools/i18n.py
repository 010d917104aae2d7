"""Maintain the gettext catalogs: extract, update, fill translations, compile.

    python tools/i18n.py            # extract + update + compile
    python tools/i18n.py --check    # exit 1 if catalogs are stale or a Russian text is missing

Russian texts are edited in bot/locales/ru/LC_MESSAGES/messages.po; English uses the msgids.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "bot" / "locales"
POT = LOCALES / "messages.pot"
LANGS = ("en", "ru")
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def _babel(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", *args], check=True, cwd=ROOT
    )


def extract(pot: Path = POT, *, update: bool = True) -> None:
    """Extract the texts of ``bot/`` into ``pot``; with ``update``, merge them into the
    catalogs."""
    _babel(
        "extract",
        "-o",
        str(pot),
        "-k",
        "_",
        "-k",
        "__",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "bot/",
    )
    if not update:
        return
    _babel(
        "update",
        "-i",
        str(POT),
        "-d",
        str(LOCALES),
        "-D",
        "messages",
        "--no-fuzzy-matching",
        "--omit-header",
    )


def compiled(lang: str) -> bytes:
    """The .mo bytes for a catalog; deterministic, so the check can compare bytes."""
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    # read_po stamps "now" into the header of a catalog without one: pin it.
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def entries(mo: bytes) -> dict[object, object]:
    """What a compiled catalog says, without its header: Babel stamps its own version (and
    its CLDR plural rule) there, so comparing bytes would fail after every Babel release."""
    return {_key(m.id): _key(m.string) for m in read_mo(BytesIO(mo)) if m.id}


def _key(value: object) -> object:
    # A plural entry's id and strings are lists: hashable and comparable as tuples.
    return tuple(value) if isinstance(value, list | tuple) else value


def compile_all() -> None:
    for lang in LANGS:
        (LOCALES / lang / "LC_MESSAGES" / "messages.mo").write_bytes(compiled(lang))


def not_in_catalogs() -> list[str]:
    """Texts in the code that the catalogs do not have yet (the code changed, the catalogs
    were not updated): extracted afresh into a scratch file and compared."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "messages.pot"
        extract(fresh, update=False)
        with fresh.open("rb") as f:
            wanted = {_key(m.id) for m in read_po(f) if m.id}
    with (LOCALES / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        have = {_key(m.id) for m in read_po(f, locale="ru") if m.id}
    return sorted(str(m[0] if isinstance(m, tuple) else m) for m in wanted - have)


def missing(lang: str) -> list[str]:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    # A plural entry needs every form (Russian has three).
    return [
        str(m.id[0] if m.pluralizable else m.id)
        for m in catalog
        if m.id and not (all(m.string) if m.pluralizable else m.string)
    ]


if __name__ == "__main__":
    if "--check" in sys.argv:
        stale = [
            lang
            for lang in LANGS
            if entries((LOCALES / lang / "LC_MESSAGES" / "messages.mo").read_bytes())
            != entries(compiled(lang))
        ]
        gaps = missing("ru")
        new = not_in_catalogs()
        for msg in new:
            print(f"not in the catalogs yet: {msg[:60]!r}, run python tools/i18n.py")
        for lang in stale:
            print(f"{lang}: messages.mo is stale, run python tools/i18n.py")
        for msg in gaps:
            print(f"ru: missing translation: {msg[:60]!r}")
        sys.exit(1 if stale or gaps or new else 0)
    extract()
    compile_all()
    for msg in missing("ru"):
        print(f"ru: missing translation: {msg[:70]!r}")


def fill(lang: str, translations: dict[str, str]) -> None:
    """Set translations (msgid -> text) in a catalog; used when adding texts in bulk."""
    from babel.messages.pofile import write_po

    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    for msgid, text in translations.items():
        if msgid not in catalog:
            raise KeyError(f"no such msgid: {msgid[:60]!r}")
        catalog[msgid].string = text
    with path.open("wb") as f:
        write_po(f, catalog, omit_header=True, width=99)
