"""The compact (numpy-only) model decides exactly as the scikit-learn pipelines it came from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from triage import Dataset, TriageModel, load_seed, read_dataset, read_team_map, train
from triage.compact import CompactTriage, gather_dot, gather_dot_short
from triage.export import export_features, export_model
from triage.features import StemVectorizer, normalise_text, stemmed_words
from triage.saved import CompactFormMissing, load_compact, load_compact_model

ROOT = Path(__file__).resolve().parents[3]
TEXTS = [
    "",
    "   ",
    "ﷺ ꙮ",
    "karta ne rabotaet, pomogite",
    "Не могу войти в личный кабинет, СРОЧНО!!!",
    "где моя посылка? https://track.example/123 test@example.com",
    "I can't log in and my card was charged twice",
    "пpивет, cаrd not working\tи\n\nвсё",
    "thanks!",
]


def assert_same_results(compact: CompactTriage, model: TriageModel, texts: list[str]) -> None:
    reference = model.predict_many(texts)  # the batch path: scikit-learn transforms
    for text, expected in zip(texts, reference, strict=True):
        got = compact.predict(text)
        assert (got.category, got.team, got.priority) == (
            expected.category,
            expected.team,
            expected.priority,
        ), text
        assert (got.needs_human, got.out_of_scope) == (expected.needs_human, expected.out_of_scope)
        assert [label for label, _ in got.alternatives] == [
            label for label, _ in expected.alternatives
        ]
        assert got.priority_cues == expected.priority_cues
        np.testing.assert_allclose(
            [got.confidence, got.team_confidence, got.priority_confidence, got.similarity],
            [
                expected.confidence,
                expected.team_confidence,
                expected.priority_confidence,
                expected.similarity,
            ],
            rtol=0,
            atol=1e-9,
        )
        np.testing.assert_allclose(
            [p for _, p in got.alternatives], [p for _, p in expected.alternatives], atol=1e-9
        )


def seed_texts() -> list[str]:
    names = ("examples", "holdout", "off_topic", "off_topic_holdout", "acknowledgements")
    return [text for name in names for text in load_seed(name).texts] + TEXTS


class TestSeedModel:
    def test_saved_compact_form_predicts_as_the_pipeline(
        self, model: TriageModel, saved_model_dir: Path
    ) -> None:
        compact = load_compact_model(saved_model_dir)
        assert compact.labels == model.labels
        assert compact.teams == model.teams
        assert compact.team_map == model.team_map
        assert compact.info["data_sha256"] == model.info["data_sha256"]
        assert_same_results(compact, model, seed_texts())

    def test_probabilities_match_predict_proba(self, model: TriageModel) -> None:
        compact = export_model(model)
        texts = seed_texts()
        got = np.array([compact.predict_proba(text) for text in texts])
        np.testing.assert_allclose(got, model.predict_proba(texts), rtol=0, atol=1e-9)

    def test_files_hold_no_pickle(self, saved_model_dir: Path) -> None:
        with np.load(saved_model_dir / "compact.npz", allow_pickle=False) as arrays:
            assert all(arrays[key].dtype != object for key in arrays.files)
        assert load_compact(saved_model_dir).labels

    def test_a_model_saved_without_the_compact_form_is_told_apart(
        self, saved_model_dir: Path, tmp_path: Path
    ) -> None:
        import json
        import shutil

        from triage.persistence import add_compact_form

        old = tmp_path / "old"
        shutil.copytree(saved_model_dir, old)
        meta = json.loads((old / "meta.json").read_text())
        for name in ("compact.npz", "compact.json"):
            del meta["files"][name]
            (old / name).unlink()
        (old / "meta.json").write_text(json.dumps(meta))
        with pytest.raises(CompactFormMissing):
            load_compact_model(old)
        assert add_compact_form(old)
        assert not add_compact_form(old)
        assert load_compact_model(old).labels == load_compact_model(saved_model_dir).labels

    def test_loading_imports_neither_scikit_learn_nor_scipy(self, saved_model_dir: Path) -> None:
        code = (
            "import sys\n"
            "from triage.saved import load_compact_model\n"
            f"model = load_compact_model({str(saved_model_dir)!r})\n"
            "print(model.predict('где моя посылка?').category)\n"
            "bad = [m for m in ('sklearn', 'scipy', 'joblib') if m in sys.modules]\n"
            "assert not bad, bad\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip()


def test_banking77_compact_equals_the_pipeline(shared_data: Path) -> None:
    team_map = read_team_map(shared_data / "banking77_team_map.json")
    train_set = read_dataset(shared_data / "banking77" / "train.csv")
    test_set = read_dataset(shared_data / "banking77" / "test.csv")
    keep = set(sorted(set(train_set.labels))[:20])
    rows = [i for i, label in enumerate(train_set.labels) if label in keep]
    model, _ = train(
        [train_set.texts[i] for i in rows], [train_set.labels[i] for i in rows], team_map
    )
    compact = export_model(model)
    assert_same_results(compact, model, test_set.texts[::3])


def test_ru_minds14_compact_equals_the_pipeline(shared_data: Path) -> None:
    """Russian, and the same texts typed in Latin letters (the transliterating stem block)."""
    import json

    from triage.text import to_latin

    path = shared_data / "ru-autointent" / "ru_minds14.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    raw = json.loads(path.read_text(encoding="utf-8"))
    names = {intent["id"]: intent.get("name") for intent in raw["intents"]}
    rows = [row for row in raw["utterances"] if "label" in row]
    texts = [row["text"] for row in rows]
    labels = [names.get(row["label"]) or str(row["label"]) for row in rows]
    seen: dict[str, int] = {}
    held = []  # every fourth example of each intent
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        held.append(seen[label] % 4 == 0)
    model, _ = train(
        [t for t, h in zip(texts, held, strict=True) if not h],
        [y for y, h in zip(labels, held, strict=True) if not h],
        random_state=0,
    )
    compact = export_model(model)
    assert compact.features.block("stems").analyzer.transliterate  # type: ignore[union-attr]
    held_out = [t for t, h in zip(texts, held, strict=True) if h]
    assert_same_results(compact, model, held_out + [to_latin(t.lower()) for t in held_out[:80]])


# -- analyzers -----------------------------------------------------------------------------

VECTORISERS = [
    TfidfVectorizer(preprocessor=normalise_text, analyzer="char_wb", ngram_range=(2, 5)),
    TfidfVectorizer(preprocessor=normalise_text, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 3)),
    TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True),
    TfidfVectorizer(analyzer="char", ngram_range=(1, 4), strip_accents="unicode"),
    TfidfVectorizer(ngram_range=(1, 2)),
    TfidfVectorizer(ngram_range=(2, 3), strip_accents="ascii", lowercase=False),
]

text_strategy = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80
) | st.sampled_from(TEXTS)


@settings(max_examples=300, deadline=None)
@given(text=text_strategy)
def test_analyzers_yield_exactly_sklearns_tokens(text: str) -> None:
    for vectoriser in VECTORISERS:
        space = export_features(_fitted(vectoriser))
        assert space.blocks[0]._analyse(text) == vectoriser.build_analyzer()(text)


@settings(max_examples=200, deadline=None)
@given(text=text_strategy)
def test_stem_analyzer_yields_the_stem_vectorizers_tokens(text: str) -> None:
    vectoriser = _stem_vectoriser()
    block = export_features(vectoriser).blocks[0]
    assert block.analyzer.transliterate
    assert block._analyse(text) == vectoriser.build_analyzer()(text)
    assert stemmed_words(text) == StemVectorizer(analyzer=stemmed_words).build_analyzer()(text)


_FITTED: dict[int, TfidfVectorizer] = {}


def _fitted(vectoriser: TfidfVectorizer) -> TfidfVectorizer:
    if id(vectoriser) not in _FITTED:
        _FITTED[id(vectoriser)] = vectoriser.fit(seed_texts())
    return _FITTED[id(vectoriser)]


_STEMS: list[StemVectorizer] = []


def _stem_vectoriser() -> StemVectorizer:
    if not _STEMS:
        _STEMS.append(StemVectorizer(analyzer=stemmed_words).fit(seed_texts()))
    return _STEMS[0]


def test_vectors_match_the_vectorisers(seed: Dataset) -> None:
    for vectoriser in [*VECTORISERS, _stem_vectoriser()]:
        fitted = _fitted(vectoriser) if not isinstance(vectoriser, StemVectorizer) else vectoriser
        block = export_features(fitted).blocks[0]
        matrix = fitted.transform(TEXTS + seed.texts[:50]).toarray()
        for row, text in enumerate(TEXTS + seed.texts[:50]):
            columns, values = block.vector(text)
            dense = np.zeros(matrix.shape[1])
            dense[columns] = values
            np.testing.assert_allclose(dense, matrix[row], rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    n_features=st.integers(min_value=1, max_value=60),
    n_outputs=st.integers(min_value=1, max_value=12),
    density=st.floats(min_value=0.0, max_value=1.0),
)
def test_short_gather_dot_equals_gather_dot_to_the_bit(
    seed: int, n_features: int, n_outputs: int, density: float
) -> None:
    """The centroid similarity's loop-free product sums the same entries in the same order
    as the inverted index's, and both equal the dense product (empty rows included)."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_features, n_outputs)) * (rng.random((n_features, n_outputs)) < density)
    indptr = np.r_[0, np.cumsum((dense != 0).sum(axis=1))].astype(np.int64)
    rows, cols = np.nonzero(dense)
    indices, data = cols.astype(np.int64), dense[rows, cols]
    columns = np.sort(rng.choice(n_features, size=rng.integers(0, n_features + 1), replace=False))
    values = rng.random(columns.size)
    looped = gather_dot(indptr, indices, data, n_outputs, columns, values)
    short = gather_dot_short(indptr, indices, data, n_outputs, columns, values)
    assert short.dtype == looped.dtype == np.float64
    assert np.array_equal(short, looped)
    np.testing.assert_allclose(short, values @ dense[columns], rtol=1e-12, atol=1e-12)
