"""The garbage collector in a long-running process.

Start-up builds a large heap that lives as long as the process: aiogram's type models, the
triage model, SQLAlchemy's mappers, the routers. CPython's full collections walk every tracked
object each time, so with that heap a full collection paused the loop for about 100 ms (every
update and API request waiting meanwhile; the API's p99 was that pause). :func:`settle`, called
once start-up is over, takes those objects out of the collector's generations (``gc.freeze``):
later collections walk only what the process made since.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect the garbage start-up left, then freeze what survives (see the module's text)."""
    gc.collect()
    gc.freeze()
