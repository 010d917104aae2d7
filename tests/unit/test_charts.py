"""Report charts render to real PNGs of the promised size, with something drawn on them."""

from __future__ import annotations

import io
import struct
import subprocess
import sys

from PIL import Image

from bot.adapters.charts import HEIGHT, WIDTH, ChartLabels, render_daily, render_teams
from models.stats import Report, compute_report
from tests.support.stats_data import CONFIG, PERIOD, ZONE, generate

LABELS = ChartLabels(
    title="Week", opened="opened", resolved="resolved", first_response="min", backlog="backlog"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def week() -> Report:
    histories = [s.history() for s in generate(1, 1, 2, 3)]
    return compute_report(histories, PERIOD, CONFIG, ZONE)


def check_png(data: bytes) -> Image.Image:
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (WIDTH, HEIGHT) == (1000, 600)
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.load()
    return image


def test_daily_chart_is_a_1000_by_600_png_with_bars_and_a_line() -> None:
    image = check_png(render_daily(week().days, LABELS))
    counts = {colour: n for n, colour in image.getcolors(maxcolors=1_000_000) or []}
    assert len(counts) > 50  # antialiased text, bars, a line: not a blank canvas
    drawn = WIDTH * HEIGHT - counts.get((255, 255, 255), 0)
    assert drawn > 0.03 * WIDTH * HEIGHT
    assert counts.get((0x4C, 0x72, 0xB0), 0) > 500  # opened bars
    assert counts.get((0x55, 0xA8, 0x68), 0) > 500  # resolved bars
    assert counts.get((0xC4, 0x4E, 0x52), 0) > 100  # the first-response line


def test_days_without_tickets_still_render() -> None:
    empty = compute_report([], PERIOD, CONFIG, ZONE)
    check_png(render_daily(empty.days, LABELS))


def test_same_data_same_bytes() -> None:
    report = week()
    assert render_daily(report.days, LABELS) == render_daily(report.days, LABELS)


def test_teams_chart() -> None:
    image = check_png(render_teams(week().teams, LABELS))
    assert len(image.getcolors(maxcolors=1_000_000) or []) > 50


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import bot.adapters.charts, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
