"""Transparent priority rules: urgency cues in Russian and English.

The rule is deliberately simple so that agents can predict it:

* every cue belongs to one level (``low``, ``high`` or ``urgent``);
* the priority is the highest level among the cues found in the text, ``normal`` when
  no cue is found; cues only ever *raise* the level above what the other cues say, so
  adding an urgency cue to a message never lowers its priority;
* the confidence of a level found through ``k`` distinct cues is
  ``1 - (1 - base) ** k`` (capped at 0.97), with ``base`` 0.8 for urgent, 0.7 for high
  and 0.65 for low; it is multiplied by 0.85 when low cues contradict a higher level. With
  no cue the answer is ``normal`` with confidence 0.5: nothing in the text says otherwise.

Negated cues ("не срочно", "not urgent") are low cues, and the positive pattern does not
match them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.text import normalise_text

__all__ = [
    "PRIORITY_CUES",
    "PRIORITY_LEVELS",
    "PriorityAssessment",
    "PriorityCue",
    "assess_priority",
    "priority_rank",
]

#: Priority levels from lowest to highest.
PRIORITY_LEVELS: tuple[str, ...] = ("low", "normal", "high", "urgent")
_RANK = {level: rank for rank, level in enumerate(PRIORITY_LEVELS)}
_BASE_CONFIDENCE = {"low": 0.65, "high": 0.7, "urgent": 0.8}
_NO_CUE_CONFIDENCE = 0.5
_MAX_CONFIDENCE = 0.97
_DISAGREEMENT_FACTOR = 0.85


@dataclass(frozen=True, slots=True)
class PriorityCue:
    """One urgency cue: a name, the level it implies and a regular expression.

    The expression is matched against :func:`triage.features.normalise_text` output
    (lower case, "ё" as "е", "can't" as "can not", digits as "0").
    """

    name: str
    level: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class PriorityAssessment:
    """Result of :func:`assess_priority`."""

    level: str
    confidence: float
    cues: tuple[str, ...]


def _cue(name: str, level: str, pattern: str) -> PriorityCue:
    return PriorityCue(name, level, re.compile(pattern))


_NOT_EN = r"(?<!not )(?<!no )(?<!not very )(?<!not that )(?<!not super )"
_NOT_RU = r"(?<!не )(?<!не очень )(?<!не так )(?<!не особо )(?<!не слишком )"
_CANT_EN = r"(?:can not|cannot|unable to|could not|not able to)"
_CANT_RU = r"(?:не могу|не можем|не получается|не удается|не выходит|не смог|не смогла)"

#: Every cue, in the order they are reported.
PRIORITY_CUES: tuple[PriorityCue, ...] = (
    # --- urgent ---------------------------------------------------------------------------
    _cue("urgent", "urgent", _NOT_EN + r"\b(?:urgent(?:ly)?|asap|a\.s\.a\.p)\b"),
    _cue("emergency", "urgent", r"\bemergenc(?:y|ies)\b"),
    _cue("immediately", "urgent", r"\b(?:immediately|right now|right away|straight away)\b"),
    _cue("срочно", "urgent", _NOT_RU + r"\b(?:срочн\w*|безотлагательно)"),
    _cue("немедленно", "urgent", r"\b(?:немедленно|прямо сейчас|как можно скорее|asap)\b"),
    _cue("fraud", "urgent", r"\b(?:fraud\w*|scam\w*|phishing)\b"),
    _cue("мошенничество", "urgent", r"\b(?:мошенни\w*|фишинг\w*|развод\w*)"),
    _cue("stolen", "urgent", r"\b(?:stolen|stole|theft|hacked|hijacked|compromised)\b"),
    _cue("украли", "urgent", r"\b(?:украл\w*|укра(?:дена|ден|дены)|кража|взлом\w*)"),
    _cue(
        "unauthorised",
        "urgent",
        r"\b(?:unauthori[sz]ed|did not make (?:this|these|that)|someone (?:else )?(?:is )?"
        r"(?:using|logged into|accessed) my)\b",
    ),
    _cue("несанкционированно", "urgent", r"\b(?:несанкционирован\w*|без моего ведома|не я )"),
    _cue(
        "charged twice",
        "urgent",
        r"\b(?:charged (?:me )?(?:twice|two times|double|0 times)|double[- ]charged|"
        r"duplicate (?:charge|payment)s?|paid twice)\b",
    ),
    _cue(
        "списали дважды",
        "urgent",
        r"\b(?:списал[аио]?\w* (?:\w+ )?(?:дважды|два раза|0 раза)|(?:дважды|два раза) списал\w*"
        r"|двойное списание|двойн\w+ оплат\w*|оплатил\w* дважды)",
    ),
    _cue(
        "service down",
        "urgent",
        r"\b(?:(?:site|website|service|app|application|server|system|everything|platform)"
        r" (?:is |seems |went )?(?:down|offline|unreachable)|outage)\b",
    ),
    _cue(
        "сервис упал",
        "urgent",
        r"\b(?:(?:сайт|сервис|приложение|сервер|система|вс[её]|платформа) (?:\w+ )?"
        r"(?:лежит|упал[аои]?|недоступн\w*)|не работает вообще|ничего не работает)",
    ),
    _cue("money missing", "urgent", r"\bmoney (?:is |has )?(?:gone|missing|disappeared|vanished)"),
    _cue("деньги пропали", "urgent", r"\bденьги (?:\w+ )?(?:пропали|исчезли|списались)"),
    _cue("data leak", "urgent", r"\b(?:data (?:leak|breach)|security breach|утечк\w*)"),
    # --- high -----------------------------------------------------------------------------
    _cue(
        "can't log in",
        "high",
        _CANT_EN + r" (?:log ?in|login|sign ?in|access (?:my )?account|get into my account)"
        r"|\blocked out\b|\baccount (?:is |was |got )?(?:blocked|locked|suspended|frozen)",
    ),
    _cue(
        "не могу войти",
        "high",
        _CANT_RU + r" (?:войти|зайти|залогиниться|авторизоваться|попасть в)"
        r"|(?:аккаунт|учетн\w+ запис\w|кабинет|карт\w) (?:\w+ )?(?:заблокирова\w*|заморож\w*)",
    ),
    _cue(
        "not working",
        "high",
        r"\b(?:(?:does|is|are|do) not work(?:ing)?|not working|stopped working|broken|crash\w*"
        r"|keeps? crashing|error|failed|fails)\b",
    ),
    _cue(
        "не работает",
        "high",
        r"\b(?:не работа\w+|перестал\w* работать|сломал\w*|ошибк\w*|вылета\w*|завис\w*"
        r"|не грузит\w*|не загружа\w*|не открыва\w*)",
    ),
    _cue(
        "can't pay",
        "high",
        _CANT_EN + r" (?:pay|withdraw|checkout|check out|transfer|place (?:an |my )?order)"
        r"|\b(?:payment|card|transfer) (?:was |keeps being |got )?(?:declined|rejected)\b",
    ),
    _cue(
        "не могу оплатить",
        "high",
        _CANT_RU + r" (?:оплатить|заплатить|перевести|вывести|оформить)"
        r"|(?:платеж|оплата|карта|перевод)\w* (?:\w+ )?отклон\w*",
    ),
    _cue(
        "wrong charge",
        "high",
        r"\b(?:overcharged|charged (?:me )?(?:wrong|the wrong|extra|more)|wrong amount"
        r"|charged (?:me )?after (?:i )?cancel\w*)\b",
    ),
    _cue(
        "лишнее списание",
        "high",
        r"\b(?:списали (?:\w+ )?(?:лишн\w+|больше|неправильн\w+)|неверн\w+ сумм\w+"
        r"|списали (?:\w+ )?после отмен\w*)",
    ),
    _cue(
        "not received",
        "high",
        r"\b(?:has not|have not|did not|never|still not|not yet) (?:arrived|received|come|came"
        r"|been delivered|get|got)\b|\bstill waiting\b",
    ),
    _cue(
        "не пришло",
        "high",
        r"\b(?:не пришл\w*|не пришел|не доставл\w*|не получил\w*|до сих пор нет|так и не )",
    ),
    _cue(
        "repeated contact",
        "high",
        r"\b(?:(?:third|3rd|second|0nd|0rd|0th) time|again and again|for (?:a |0 )?(?:days|weeks)"
        r"|nobody (?:is )?(?:answering|responding|replied))\b",
    ),
    _cue(
        "повторное обращение",
        "high",
        r"\b(?:(?:уже )?(?:второй|третий|0-?й) раз|уже (?:неделю|месяц|0 дн\w*|который день)"
        r"|никто не (?:отвечает|ответил))",
    ),
    _cue(
        "legal threat",
        "high",
        r"\b(?:lawyer|attorney|sue|lawsuit|court|chargeback|report you)\b",
    ),
    _cue(
        "юридическая угроза",
        "high",
        r"\b(?:юрист\w*|адвокат\w*|суд\b|в суд|роспотребнадзор\w*|прокуратур\w*|претензи\w*)",
    ),
    _cue(
        "angry",
        "high",
        r"\b(?:unacceptable|outrageous|disgusting|terrible|horrible|worst|ridiculous|furious)\b",
    ),
    _cue(
        "возмущение",
        "high",
        r"\b(?:безобрази\w*|возмутительн\w*|отвратительн\w*|ужасн\w*|кошмар\w*|позор\w*"
        r"|издевательств\w*)",
    ),
    # --- low ------------------------------------------------------------------------------
    _cue(
        "not urgent",
        "low",
        r"\b(?:not urgent|no rush|no hurry|not in a hurry|whenever you (?:can|have time)"
        r"|when you (?:have|get) (?:a )?(?:time|chance|moment)|not (?:a |that )?(?:big|important)"
        r" deal|low priority)\b",
    ),
    _cue(
        "не срочно",
        "low",
        r"\b(?:не (?:очень |так |особо |слишком )?срочн\w*|не горит|без спешки|когда будет "
        r"(?:время|возможность|минутка)|когда освободитесь|не к спеху)",
    ),
    _cue(
        "idea",
        "low",
        r"\b(?:suggestion|suggest|feature request|it would be (?:nice|great|cool|good)|would love"
        r"|just (?:curious|wondering)|wish list|idea)\b",
    ),
    _cue(
        "идея",
        "low",
        r"\b(?:предлага\w*|предложени\w*|иде[яюи]\w*|было бы (?:здорово|удобно|неплохо|классно"
        r"|круто|хорошо)|просто интересно|хотелось бы)",
    ),
)


def priority_rank(level: str) -> int:
    """Return the rank of a priority level (``low`` = 0 ... ``urgent`` = 3).

    Parameters
    ----------
    level : str
        One of :data:`PRIORITY_LEVELS`.

    Returns
    -------
    int
        Its position in :data:`PRIORITY_LEVELS`.
    """
    try:
        return _RANK[level]
    except KeyError:
        expected = ", ".join(PRIORITY_LEVELS)
        raise ValueError(f"unknown priority {level!r}; expected one of {expected}") from None


def assess_priority(text: str) -> PriorityAssessment:
    """Find urgency cues in a message and derive its priority.

    Parameters
    ----------
    text : str
        Raw message text (Russian or English).

    Returns
    -------
    PriorityAssessment
        ``level`` (the highest level among the matched cues, ``normal`` without cues),
        ``confidence`` (see the module docstring) and the names of the matched ``cues``.
    """
    normalised = normalise_text(text)
    found = [cue for cue in PRIORITY_CUES if cue.pattern.search(normalised)]
    if not found:
        return PriorityAssessment("normal", _NO_CUE_CONFIDENCE, ())
    level = max((cue.level for cue in found), key=_RANK.__getitem__)
    supporting = sum(1 for cue in found if cue.level == level)
    confidence = min(_MAX_CONFIDENCE, 1.0 - (1.0 - _BASE_CONFIDENCE[level]) ** supporting)
    if level != "low" and any(cue.level == "low" for cue in found):
        confidence *= _DISAGREEMENT_FACTOR
    return PriorityAssessment(level, round(confidence, 4), tuple(cue.name for cue in found))
