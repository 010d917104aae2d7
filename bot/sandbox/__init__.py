"""The sandbox: the real bot against a built-in Telegram Bot API emulator, played in a browser."""
