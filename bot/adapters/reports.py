"""Renders statistics and exports into outbox calls (implements ``ReportPresenter``).

Files travel inside the call as :class:`~models.delivery.Upload` values (stored with the call in
the outbox); :mod:`bot.adapters.delivery` makes them a multipart upload when the call is made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from html import escape
from typing import Any

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.adapters.charts import ChartLabels, render_daily, render_teams
from bot.services.reports import Place
from bot.texts import CAPTION_LIMIT, split_text
from models.delivery import Channel, OutboundCall, Upload
from models.stats import NO_TEAM, ChannelFigures, Figures, Period, Report

#: Agents listed in the summary (best first); the rest are left out.
AGENTS_LISTED = 15


def duration(value: timedelta | None) -> str:
    """``45m``, ``1h 30m``, ``26h``; ``—`` for none."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    hours, mins = divmod(minutes, 60)
    if not hours:
        return f"{mins}m"
    return f"{hours}h {mins}m" if mins else f"{hours}h"


def share(rate: float | None, part: int, whole: int) -> str:
    return "—" if rate is None else f"{rate:.0%} ({part}/{whole})"


@dataclass
class ReportRenderer:
    i18n: I18n
    language: str = "en"

    def _place(self, place: Place) -> dict[str, Any]:
        return {"message_thread_id": place.thread_id} if place.thread_id else {}

    def _texts(self, place: Place, text: str) -> list[OutboundCall]:
        return [
            OutboundCall(
                chat_id=place.chat_id,
                method="sendMessage",
                params={"chat_id": place.chat_id, "text": part, **self._place(place)},
            )
            for part in split_text(text)
        ]

    def _file(
        self, place: Place, method: str, field: str, name: str, content: bytes, caption: str
    ) -> OutboundCall:
        return OutboundCall(
            chat_id=place.chat_id,
            method=method,
            params={
                "chat_id": place.chat_id,
                field: Upload(name, content),
                "caption": caption[:CAPTION_LIMIT],
                **self._place(place),
            },
        )

    # -- /stats ---------------------------------------------------------------------------------

    def _figures(self, f: Figures) -> list[str]:
        return [
            _("Opened {opened} · resolved {resolved} · backlog {backlog}").format(
                opened=f.opened, resolved=f.resolved, backlog=f.backlog
            ),
            _("First response: median {median} · 90% within {p90} ({count} answered)").format(
                median=duration(f.first_response_median),
                p90=duration(f.first_response_p90),
                count=f.first_responses,
            ),
            _("Resolution: median {median} · 90% within {p90}").format(
                median=duration(f.resolution_median), p90=duration(f.resolution_p90)
            ),
            _("SLA met: {share}").format(share=share(f.sla_hit_rate, f.sla_met, f.sla_targets)),
            ngettext(
                "CSAT: {average} from {count} rating",
                "CSAT: {average} from {count} ratings",
                f.csat_count,
            ).format(
                average="—" if f.csat_average is None else f"{f.csat_average:.2f}",
                count=f.csat_count,
            ),
            _("Triage accuracy: {share}").format(
                share=share(f.triage_accuracy, f.triage_uncorrected, f.triaged)
            ),
        ]

    def _channel(self, channel: Channel, f: ChannelFigures) -> str:
        names = {
            Channel.TELEGRAM: "Telegram",  # a name: the same in every language
            Channel.EMAIL: _("email"),
            Channel.WEB: _("website chat"),
        }
        tickets = ngettext("{count} ticket", "{count} tickets", f.tickets).format(count=f.tickets)
        messages = ngettext("{count} message", "{count} messages", f.messages).format(
            count=f.messages
        )
        return f"{names.get(channel, str(channel))}: {tickets} · {messages}"

    def _short(self, f: Figures) -> str:
        return _(
            "{opened} opened · {resolved} resolved · SLA {sla} · first response {median}"
        ).format(
            opened=f.opened,
            resolved=f.resolved,
            sla="—" if f.sla_hit_rate is None else f"{f.sla_hit_rate:.0%}",
            median=duration(f.first_response_median),
        )

    def summary(self, report: Report, names: dict[int, str], team: str | None) -> str:
        """The report as HTML (call inside a locale)."""
        title = _("Statistics for {period}").format(period=report.period.label)
        if team is not None:
            title += " · " + escape(team)
        lines = ["📊 <b>" + title + "</b>", _("Business time; details in the README."), ""]
        lines += self._figures(report.overall)
        if report.channels:
            lines += ["", "<b>" + _("Came in, by channel") + "</b>"]
            lines += [self._channel(c, f) for c, f in report.channels.items()]
        if team is None and report.teams:
            lines += ["", "<b>" + _("Teams") + "</b>"]
            for name in sorted(report.teams):
                label = escape(name) if name != NO_TEAM else _("no team")
                lines.append(f"{label}: " + self._short(report.teams[name]))
        if report.agents:
            lines += ["", "<b>" + _("Agents") + "</b>"]
            ranked = report.ranking + sorted(
                (a for a in report.agents if a not in report.ranking),
                key=lambda a: names.get(a, ""),
            )
            for agent_id in ranked[:AGENTS_LISTED]:
                name = escape(names.get(agent_id, f"#{agent_id}"))
                lines.append(f"{name}: " + self._short(report.agents[agent_id]))
            if report.best_agent is not None and report.worst_agent is not None:
                lines.append(
                    _(
                        "Best: {best} · needs help: {worst} (by SLA met, then first response)"
                    ).format(
                        best=escape(names.get(report.best_agent, "?")),
                        worst=escape(names.get(report.worst_agent, "?")),
                    )
                )
        return "\n".join(lines)

    def stats(
        self, place: Place, report: Report, names: dict[int, str], team: str | None
    ) -> list[OutboundCall]:
        with self.i18n.use_locale(self.language):
            text = self.summary(report, names, team)
            title = _("Tickets per day, {period}").format(period=report.period.label)
            if team is not None:
                title += f" · {team}"
            labels = ChartLabels(
                title=title,
                opened=_("opened"),
                resolved=_("resolved"),
                first_response=_("median first response, minutes"),
                backlog=_("backlog"),
                sla=_("SLA met, %"),
            )
            teams_title = _("Teams, {period}").format(period=report.period.label)
        calls = self._texts(place, text)
        calls.append(
            self._file(
                place, "sendPhoto", "photo", "stats.png", render_daily(report.days, labels), title
            )
        )
        if team is None and len(report.teams) > 1:
            teams = render_teams(report.teams, replace(labels, title=teams_title))
            calls.append(self._file(place, "sendPhoto", "photo", "teams.png", teams, teams_title))
        return calls

    # -- /export --------------------------------------------------------------------------------

    def export(
        self, place: Place, period: Period, archive: bytes, counts: dict[str, int]
    ) -> list[OutboundCall]:
        with self.i18n.use_locale(self.language):
            caption = _(
                "Export {period}: {tickets} tickets, {messages} messages, {events} events, "
                "{ratings} ratings (CSV, times in UTC)."
            ).format(period=period.label, **counts)
        name = f"helpdesk-{period.first.isoformat()}-{period.last.isoformat()}.zip"
        return [self._file(place, "sendDocument", "document", name, archive, caption)]

    def export_sent_privately(self, place: Place, name: str) -> list[OutboundCall]:
        with self.i18n.use_locale(self.language):
            text = _(
                "The export went to {name} in a private chat with the bot (it holds customers' "
                "data). Nothing there? Press Start in a private chat with the bot and ask again."
            ).format(name=escape(name))
        return self._texts(place, text)

    def export_too_large(self, place: Place, period: Period, limit: int) -> list[OutboundCall]:
        with self.i18n.use_locale(self.language):
            text = _(
                "The export for {period} is larger than {limit} MB. Choose a shorter period, or "
                "run “helpdesk export” on the server."
            ).format(period=period.label, limit=limit // (1024 * 1024))
        return self._texts(place, text)
