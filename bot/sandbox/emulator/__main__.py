"""``python -m bot.sandbox.emulator``: serve the emulator standalone (see ``main``)."""

from bot.sandbox.emulator.core import main

main()
