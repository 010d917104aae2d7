"""Numbers typed by people or carried in button payloads, as ids a database can hold."""

from __future__ import annotations

#: The largest id a database column holds (a signed 64-bit integer): a larger number would
#: raise ``OverflowError`` in the driver instead of "not found".
MAX_ID = 2**63 - 1


def parse_id(text: str, *, signed: bool = False) -> int | None:
    """``text`` as a whole number within the database's range (negative only if ``signed``:
    Telegram chat ids), or None when it is not one."""
    text = text.strip()
    digits = text[1:] if signed and text.startswith("-") else text
    # isdigit() alone accepts "²" and other digits int() refuses.
    if not (digits.isascii() and digits.isdigit()):
        return None
    value = int(text)
    return value if -MAX_ID <= value <= MAX_ID else None
