"""Reading labelled data (CSV), team maps (JSON) and the shipped seed examples."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from triage.errors import DataError
from triage.priority import PRIORITY_LEVELS

__all__ = [
    "Dataset",
    "load_seed",
    "load_seed_team_map",
    "parse_team_map",
    "read_dataset",
    "read_team_map",
]

REQUIRED_COLUMNS = ("text", "category")


@dataclass(frozen=True, slots=True)
class Dataset:
    """Labelled messages read from a CSV file.

    ``teams``, ``priorities`` and ``languages`` are ``None`` when the file has no such
    column; an empty priority cell is ``None``.
    """

    texts: list[str]
    labels: list[str]
    teams: list[str] | None = None
    priorities: list[str | None] | None = None
    languages: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, language: str) -> Dataset:
        """Rows of one language (needs a ``language`` column)."""
        if self.languages is None:
            raise DataError("the data has no language column")
        rows = [i for i, lang in enumerate(self.languages) if lang == language]

        def pick(values: list[Any] | None) -> list[Any] | None:
            return None if values is None else [values[i] for i in rows]

        return Dataset(
            texts=[self.texts[i] for i in rows],
            labels=[self.labels[i] for i in rows],
            teams=pick(self.teams),
            priorities=pick(self.priorities),
            languages=pick(self.languages),
        )


def _parse_rows(rows: list[dict[str, str | None]], source: str) -> Dataset:
    texts: list[str] = []
    labels: list[str] = []
    teams: list[str] = []
    priorities: list[str | None] = []
    languages: list[str] = []
    for number, row in enumerate(rows, start=2):
        text = (row.get("text") or "").strip()
        label = (row.get("category") or "").strip()
        if not text and not label:
            continue
        if not text or not label:
            raise DataError(f"{source}: line {number} has an empty text or category")
        texts.append(text)
        labels.append(label)
        teams.append((row.get("team") or "").strip())
        priority = (row.get("priority") or "").strip().lower() or None
        if priority is not None and priority not in PRIORITY_LEVELS:
            raise DataError(
                f"{source}: line {number} has priority {priority!r}; "
                f"expected one of {', '.join(PRIORITY_LEVELS)}"
            )
        priorities.append(priority)
        languages.append((row.get("language") or "").strip())
    if not texts:
        raise DataError(f"{source}: no data rows")
    return Dataset(
        texts=texts, labels=labels, teams=teams, priorities=priorities, languages=languages
    )


def _read_csv_text(content: str, source: str) -> Dataset:
    if "\x00" in content:
        raise DataError(f"{source}: not a CSV text file")
    lines = content.splitlines()
    if not lines or not lines[0].strip():
        raise DataError(f"{source}: empty file (a header with text,category is required)")
    try:
        reader = csv.DictReader(lines, strict=True)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise DataError(
                f"{source}: missing required column(s) {', '.join(missing)} "
                f"(header: {','.join(header)})"
            )
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error as error:
        raise DataError(f"{source}: not a valid CSV file ({error})") from None
    dataset = _parse_rows(rows, source)
    return Dataset(
        texts=dataset.texts,
        labels=dataset.labels,
        teams=dataset.teams if "team" in header else None,
        priorities=dataset.priorities if "priority" in header else None,
        languages=dataset.languages if "language" in header else None,
    )


def read_dataset(path: str | Path) -> Dataset:
    """Read a UTF-8 CSV file with a header containing at least ``text,category``.

    Optional columns: ``team``, ``priority`` (low/normal/high/urgent or empty) and
    ``language``.

    Parameters
    ----------
    path : str or Path
        CSV file.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        When the file is missing, unreadable, not a CSV, lacks a required column, has no
        rows or has a row with an empty text or category.
    """
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"data path is a directory, not a CSV file: {path}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 CSV file") from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    return _read_csv_text(content, str(path))


def parse_team_map(data: Any, source: str = "team map") -> dict[str, str]:
    """Turn a decoded team-map JSON document into a category -> team dict.

    Two layouts are accepted: the shared one, ``{"Team": ["category", ...], ...}`` (as in
    ``banking77_team_map.json``), and the flat ``{"category": "Team", ...}``. Keys starting
    with ``_`` (e.g. ``"_comment"``) are ignored.

    Parameters
    ----------
    data : object
        The decoded JSON.
    source : str
        Name used in error messages.

    Returns
    -------
    dict of str to str

    Raises
    ------
    DataError
        On any other shape, or when a category is given two teams.
    """
    if not isinstance(data, Mapping):
        raise DataError(f"{source}: expected a JSON object mapping teams to categories")
    mapping: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or key.startswith("_"):
            continue
        if isinstance(value, str):
            pairs = [(key, value)]
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            pairs = [(category, key) for category in value]
        else:
            raise DataError(
                f"{source}: value of {key!r} must be a list of categories or a team name"
            )
        for category, team in pairs:
            if mapping.get(category, team) != team:
                raise DataError(
                    f"{source}: category {category!r} is mapped to both "
                    f"{mapping[category]!r} and {team!r}"
                )
            mapping[category] = team
    if not mapping:
        raise DataError(f"{source}: maps no category to a team")
    return mapping


def read_team_map(path: str | Path) -> dict[str, str]:
    """Read a team-map JSON file (see :func:`parse_team_map`).

    Raises
    ------
    DataError
        When the file is missing, not JSON, or not a team map.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataError(f"team map not found: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    return parse_team_map(data, str(path))


_SEED_FILES = {
    "examples": "examples.csv",
    "holdout": "holdout.csv",
    "off_topic": "off_topic.csv",
    "off_topic_holdout": "off_topic_holdout.csv",
    "acknowledgements": "acknowledgements.csv",
    "acknowledgements_holdout": "acknowledgements_holdout.csv",
}


def load_seed(name: str = "examples") -> Dataset:
    """Load the seed examples shipped with the package.

    Parameters
    ----------
    name : {"examples", "holdout", "off_topic", "off_topic_holdout", "acknowledgements", \
            "acknowledgements_holdout"}
        ``examples`` trains the default model; ``holdout`` holds different sentences for
        measuring it. ``off_topic`` holds out-of-scope messages (greetings, thanks,
        adverts, questions meant for another company; category ``oos``) that train the
        default model's "none of these" class, ``off_topic_holdout`` different ones to
        measure it. ``acknowledgements`` (``ack`` rows and real problems that mention
        thanks, ``other``) trains :mod:`triage.acknowledgement`;
        ``acknowledgements_holdout`` holds different ones to measure it.

    Returns
    -------
    Dataset
        With ``priorities`` and ``languages`` (``ru``/``en``).
    """
    try:
        filename = _SEED_FILES[name]
    except KeyError:
        raise ValueError(
            f"unknown seed set {name!r}; expected one of {sorted(_SEED_FILES)}"
        ) from None
    resource = resources.files("triage.seed").joinpath(filename)
    return _read_csv_text(resource.read_text(encoding="utf-8"), f"triage/seed/{filename}")


def load_seed_team_map() -> dict[str, str]:
    """Category -> team map of the seed taxonomy (``triage/seed/team_map.json``)."""
    resource = resources.files("triage.seed").joinpath("team_map.json")
    return parse_team_map(json.loads(resource.read_text(encoding="utf-8")), "seed team map")
