"""The surge rule, pure: which recent tickets form a cluster around a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.surge import _similarities
from models import InvalidInput
from models.incidents import (
    BulkReply,
    Incident,
    IncidentStatus,
    SurgeRule,
    clusterable,
    joins,
    related,
    surge_cluster,
)
from tests.support.outage import OUTAGE

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def uniform(n: int, value: float) -> list[list[float]]:
    return [[1.0 if i == j else value for j in range(n)] for i in range(n)]


class TestSurgeCluster:
    def test_size_similar_tickets_form_a_cluster_with_the_new_one_first(self) -> None:
        assert surge_cluster(uniform(5, 0.6), SurgeRule(size=5)) == [0, 1, 2, 3, 4]

    def test_one_short_of_the_size_is_no_cluster(self) -> None:
        assert surge_cluster(uniform(4, 0.9), SurgeRule(size=5)) is None

    def test_tickets_below_the_threshold_stay_out(self) -> None:
        matrix = uniform(6, 0.6)
        matrix[0][5] = matrix[5][0] = 0.2  # ticket 5 is unlike the new one
        assert surge_cluster(matrix, SurgeRule(size=5)) == [0, 1, 2, 3, 4]
        assert surge_cluster(matrix, SurgeRule(size=6)) is None

    def test_close_to_the_new_ticket_but_far_from_the_others_on_average_stays_out(self) -> None:
        """Two problems that share words with the new ticket are not one surge."""
        matrix = uniform(7, 0.6)
        # Tickets 4-6 are about something else: near the new one, far from tickets 1-3.
        for a in (4, 5, 6):
            for b in (1, 2, 3):
                matrix[a][b] = matrix[b][a] = 0.05
            matrix[0][a] = matrix[a][0] = 0.5
        assert surge_cluster(matrix, SurgeRule(size=4, threshold=0.35)) == [0, 1, 2, 3]
        assert surge_cluster(matrix, SurgeRule(size=5, threshold=0.35)) is None

    def test_candidates_join_best_first(self) -> None:
        matrix = uniform(4, 0.5)
        matrix[0][3] = matrix[3][0] = 0.9
        assert surge_cluster(matrix, SurgeRule(size=2)) == [0, 3, 1, 2]

    def test_a_matrix_that_is_not_square_is_refused(self) -> None:
        with pytest.raises(ValueError, match="square"):
            surge_cluster([[1.0, 0.5], [0.5]], SurgeRule(size=2))

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"size": 1}, "incident_size"),
            ({"threshold": 0.0}, "incident_similarity"),
            ({"threshold": 1.5}, "incident_similarity"),
            ({"window": timedelta(0)}, "incident_window"),
        ],
    )
    def test_a_rule_that_cannot_work_is_refused(self, kwargs: dict, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            SurgeRule(**kwargs)
        assert raised.value.field == field

    def test_the_window_reaches_back_from_now(self) -> None:
        assert SurgeRule(window=timedelta(minutes=10)).since(NOW) == NOW - timedelta(minutes=10)


class TestJoiningAnOpenIncident:
    def test_a_mean_similarity_at_the_threshold_joins(self) -> None:
        assert joins([0.5, 0.3, 0.4], 0.4) == pytest.approx(0.4)

    def test_below_it_does_not(self) -> None:
        assert joins([0.9, 0.1, 0.1], 0.4) is None

    def test_an_incident_without_tickets_takes_none(self) -> None:
        assert joins([], 0.1) is None


class TestTheDefaultsOnRealTexts:
    """The triage vectors with the default threshold: paraphrases of one outage cluster, other
    questions and another language stay apart (see README, Incidents)."""

    def test_paraphrases_of_one_outage_form_one_cluster(self) -> None:
        matrix = _similarities(list(reversed(OUTAGE)))
        assert sorted(surge_cluster(matrix, SurgeRule()) or []) == list(range(len(OUTAGE)))

    def test_a_different_question_and_another_language_do_not_join(self) -> None:
        others = [
            "How do I change my delivery address?",
            "My card was charged twice",
            "Приложение не открывается, пишет ошибку",
        ]
        for text in others:
            matrix = _similarities([text, *OUTAGE])
            assert joins(matrix[0][1:], SurgeRule().threshold) is None, text


class TestRelatedIncident:
    """A second cluster of the same category within the window joins the open incident."""

    def incident(self, number: int, category: str | None, active: datetime) -> Incident:
        return Incident(number=number, created_at=active, updated_at=active, category=category)

    def test_the_same_category_active_within_the_window(self) -> None:
        one = self.incident(1, "technical", NOW - timedelta(minutes=3))
        assert related([one], "technical", NOW - timedelta(minutes=10)) is one

    def test_another_category_or_none(self) -> None:
        one = self.incident(1, "technical", NOW)
        assert related([one], "billing", NOW - timedelta(minutes=10)) is None
        assert related([one], None, NOW - timedelta(minutes=10)) is None
        untriaged = self.incident(2, None, NOW)
        assert related([untriaged], None, NOW - timedelta(minutes=10)) is None

    def test_quiet_for_longer_than_the_window_or_closed(self) -> None:
        quiet = self.incident(1, "technical", NOW - timedelta(minutes=11))
        assert related([quiet], "technical", NOW - timedelta(minutes=10)) is None
        closed = self.incident(2, "technical", NOW)
        closed.close(IncidentStatus.SPLIT, NOW)
        assert related([closed], "technical", NOW - timedelta(minutes=10)) is None

    def test_of_several_the_most_recently_active(self) -> None:
        older = self.incident(1, "technical", NOW - timedelta(minutes=5))
        newer = self.incident(2, "technical", NOW - timedelta(minutes=1))
        since = NOW - timedelta(minutes=10)
        assert related([older, newer], "technical", since) is newer
        assert related([newer, older], "technical", since) is newer


class TestClusterable:
    @pytest.mark.parametrize("subject", ["[photo]", "[voice]", "", "   "])
    def test_no_words_no_cluster(self, subject: str) -> None:
        assert not clusterable(subject)

    def test_words_and_a_caption_cluster(self) -> None:
        assert clusterable("The app does not open")
        assert clusterable("[photo] of the error")


class TestIncident:
    def test_it_closes_once(self) -> None:
        incident = Incident(number=1, created_at=NOW)
        incident.close(IncidentStatus.RESOLVED, NOW)
        assert incident.status is IncidentStatus.RESOLVED
        assert incident.closed_at == NOW
        with pytest.raises(InvalidInput, match="resolved already"):
            incident.close(IncidentStatus.SPLIT, NOW)

    def test_a_bulk_reply_is_done_when_every_copy_is_counted(self) -> None:
        reply = BulkReply(1, -100, 5, 1, NOW, total=3, sent=2)
        assert not reply.done
        reply.failed = 1
        assert reply.done
