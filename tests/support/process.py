"""Run the bot (or any program) as a real subprocess for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.sandbox.emulator import BotApiEmulator


class BotProcess:
    """A subprocess with captured output (stdout and stderr interleaved).

    Typical use::

        proc = BotProcess([sys.executable, "-m", "bot", "run"], env, cwd=repo_root)
        await proc.start()
        await proc.wait_ready(emulator)
        ...
        assert await proc.terminate() == 0
    """

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        *,
        inherit_env: bool = True,
        drop_env_prefixes: Sequence[str] = ("HELPDESK_",),
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        """``env`` is added to this process's environment (unless ``inherit_env=False``).

        Inherited variables starting with ``drop_env_prefixes`` are removed first, so a
        developer's own configuration never leaks into a test.
        """
        self.args = list(args)
        self.env = dict(env)
        self.cwd = cwd
        self.inherit_env = inherit_env
        self.drop_env_prefixes = tuple(drop_env_prefixes)
        self.log_path = Path(log_path) if log_path is not None else None
        self.started_at: float | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._chunks: list[bytes] = []

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        if self.running:
            msg = "the process is already running"
            raise RuntimeError(msg)
        inherited = {
            k: v
            for k, v in os.environ.items()
            if self.inherit_env and not k.startswith(self.drop_env_prefixes)
        }
        env = {**inherited, **self.env}
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._chunks = []
        self.started_at = time.monotonic()
        self._proc = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._capture(self._proc))

    async def _capture(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        log = self.log_path.open("ab") if self.log_path else None
        try:
            while chunk := await proc.stdout.read(65536):
                self._chunks.append(chunk)
                if log is not None:
                    log.write(chunk)
                    log.flush()
        finally:
            if log is not None:
                log.close()

    async def wait_ready(
        self,
        emulator: BotApiEmulator,
        timeout: float = 30.0,  # noqa: ASYNC109 - a deadline for the poll, not an I/O timeout
        predicate: Callable[[BotApiEmulator], Any] | None = None,
    ) -> None:
        """Wait until the emulator got a getUpdates call made after ``start()``.

        A ``predicate(emulator)`` replaces that condition. Fails early, with the captured
        output, if the process exits first.
        """
        if self._proc is None or self.started_at is None:
            msg = "start() the process first"
            raise RuntimeError(msg)
        started = self.started_at

        def polled(emu: BotApiEmulator) -> bool:
            return any(
                c.method.lower() == "getupdates" and c.monotonic >= started for c in emu.calls
            )

        ready = predicate or polled
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if ready(emulator):
                return
            if self._proc.returncode is not None:
                await self._drain()
                msg = (
                    f"{self.args} exited with {self._proc.returncode} before it was ready; "
                    f"output:\n{self.output}"
                )
                raise AssertionError(msg)
            if loop.time() >= deadline:
                msg = (
                    f"{self.args} not ready within {timeout}s; recent API calls:\n"
                    f"{emulator.describe_calls()}\noutput:\n{self.output}"
                )
                raise AssertionError(msg)
            await asyncio.sleep(0.05)

    async def wait_for_output(self, text: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until ``text`` appears in the captured output."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.output:
            if loop.time() >= deadline or (self._proc is not None and not self.running):
                await self._drain()
                if text in self.output:
                    return
                msg = f"{text!r} not in the output of {self.args}:\n{self.output}"
                raise AssertionError(msg)
            await asyncio.sleep(0.05)

    async def wait(self, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait for the process to exit on its own; returns the exit code."""
        if self._proc is None:
            msg = "the process was never started"
            raise RuntimeError(msg)
        await asyncio.wait_for(self._proc.wait(), timeout)
        await self._drain()
        assert self._proc.returncode is not None
        return self._proc.returncode

    async def terminate(self, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """SIGTERM, then wait; returns the exit code or raises (after SIGKILL) with the output."""
        if self._proc is None:
            msg = "the process was never started"
            raise RuntimeError(msg)
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), timeout)
            except TimeoutError:
                self.kill()
                await self._proc.wait()
                await self._drain()
                msg = (
                    f"{self.args} (pid {self._proc.pid}) did not exit within {timeout}s of "
                    f"SIGTERM and was killed; output:\n{self.output}"
                )
                raise AssertionError(msg) from None
        await self._drain()
        assert self._proc.returncode is not None
        return self._proc.returncode

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs. Await ``wait()`` afterwards to reap it."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def _drain(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 5)

    async def __aenter__(self) -> BotProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.running:
            self.kill()
        if self._proc is not None:
            await self._proc.wait()
            await self._drain()
