"""Report charts as PNG bytes (matplotlib, Agg canvas, no display).

matplotlib is imported inside the functions: it takes a noticeable moment to import, and the bot
only needs it when someone asks for a chart. Figures are built with the object API (no pyplot
state), so rendering in a worker thread is safe. Output is 1000×600 pixels; the PNG carries no
timestamp or version metadata, so the same data gives the same bytes on the same matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.stats import DayFigures, Figures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 1000, 600, 100
OPENED_COLOR, RESOLVED_COLOR, LINE_COLOR = "#4C72B0", "#55A868", "#C44E52"


@dataclass(frozen=True)
class ChartLabels:
    """Texts on the charts, already translated by the caller."""

    title: str
    opened: str
    resolved: str
    first_response: str  # the line's axis: median first response, in minutes
    backlog: str = ""
    sla: str = ""  # the teams chart's line: SLA hit rate, in per cent


def _figure() -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _bars(axes: Any, names: Sequence[str], series: Sequence[tuple[str, list[int], str]]) -> None:
    width = 0.8 / len(series)
    positions = list(range(len(names)))
    for i, (label, values, color) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        axes.bar([p + offset for p in positions], values, width, label=label, color=color)
    rotated = len(names) > 14
    axes.set_xticks(
        positions, names, rotation=45 if rotated else 0, ha="right" if rotated else "center"
    )
    axes.yaxis.get_major_locator().set_params(integer=True)
    # Headroom above the highest bar for the legend.
    axes.set_ylim(0, max([1, *(v for _, values, _ in series for v in values)]) * 1.3)
    axes.grid(axis="y", alpha=0.3)


def render_daily(days: Sequence[DayFigures], labels: ChartLabels) -> bytes:
    """Opened and resolved tickets per day (bars) and the day's median first response in
    minutes (line, right axis; gaps where nothing was answered)."""
    figure = _figure()
    axes = figure.add_subplot()
    names = [d.day.strftime("%d.%m") for d in days]
    _bars(
        axes,
        names,
        [
            (labels.opened, [d.opened for d in days], OPENED_COLOR),
            (labels.resolved, [d.resolved for d in days], RESOLVED_COLOR),
        ],
    )
    line = axes.twinx()
    minutes = [
        d.first_response_median.total_seconds() / 60
        if d.first_response_median is not None
        else float("nan")
        for d in days
    ]
    line.plot(range(len(days)), minutes, color=LINE_COLOR, marker="o", label=labels.first_response)
    line.set_ylabel(labels.first_response)
    known = [m for m in minutes if m == m]  # NaN marks days without an answer
    line.set_ylim(0, max([1.0, *known]) * 1.3)
    handles = axes.get_legend_handles_labels()
    more = line.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    axes.set_title(labels.title)
    return _png(figure)


def render_teams(teams: dict[str, Figures], labels: ChartLabels) -> bytes:
    """Per team: opened, resolved and backlog (bars) and the SLA hit rate in per cent (line)."""
    figure = _figure()
    axes = figure.add_subplot()
    names = sorted(teams)
    _bars(
        axes,
        [n or "—" for n in names],
        [
            (labels.opened, [teams[n].opened for n in names], OPENED_COLOR),
            (labels.resolved, [teams[n].resolved for n in names], RESOLVED_COLOR),
            (labels.backlog, [teams[n].backlog for n in names], "#8172B2"),
        ],
    )
    line = axes.twinx()
    rates = [
        100 * rate if (rate := teams[n].sla_hit_rate) is not None else float("nan") for n in names
    ]
    line.plot(range(len(names)), rates, color=LINE_COLOR, marker="o", label=labels.sla)
    line.set_ylim(0, 105)
    line.set_ylabel(labels.sla)
    handles = axes.get_legend_handles_labels()
    more = line.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    axes.set_title(labels.title)
    return _png(figure)
