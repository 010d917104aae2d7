"""The feature union and the pipeline factory."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import FeatureUnion, Pipeline

from triage import Dataset, TriageModel, build_features, build_pipeline, normalise_text
from triage.features import (
    StemVectorizer,
    fold_lookalikes,
    read_as_russian,
    stemmed_words,
    stemmed_words_and_transliterations,
    to_cyrillic,
    to_latin,
)


class TestNormaliseText:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("I CAN'T log in", "i can not log in"),
            ("It doesn’t work", "it does not work"),
            ("Ёлки  палки\n", "елки палки"),
            ("order 12345 now", "order 0 now"),
            ("see https://example.com/x?y=1 pls", "see url pls"),
            ("write to a.b@example.org", "write to email"),
        ],
    )
    def test_normalises(self, raw: str, expected: str) -> None:
        assert normalise_text(raw) == expected


class TestLookalikesAndStems:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("пpивет", "привет"),  # Latin "p" in a Russian word
            ("cаrd", "card"),  # Cyrillic "а" in an English word
            ("мoй заkaз", "мой заказ"),
            ("oплата", "оплата"),  # Latin "o"
            ("dоставка", "доставка"),  # a Latin letter that looks like no Cyrillic one
            ("зakaz", "zakaz"),  # and a Cyrillic one inside a Latin word
            ("card карта", "card карта"),  # single-script words stay as they are
            ("ok 0", "ok 0"),
        ],
    )
    def test_mixed_words_are_written_in_one_script(self, raw: str, expected: str) -> None:
        assert fold_lookalikes(raw) == expected

    def test_mixed_script_message_is_triaged_like_the_clean_one(self, model: TriageModel) -> None:
        clean = model.predict("Не могу войти в личный кабинет")
        mixed = model.predict("Не мoгу вoйти в личный кaбинeт")  # Latin o, a, e
        assert (mixed.category, mixed.confidence) == (clean.category, clean.confidence)

    def test_latin_lookalike_in_a_russian_word_gives_the_russian_features(self) -> None:
        assert normalise_text("Oплата") == "оплата"
        assert stemmed_words("oплата картой") == stemmed_words("оплата картой")

    @pytest.mark.parametrize(
        ("latin", "cyrillic"),
        [
            ("karta ne rabotaet", "карта не работает"),
            ("zhdu vozvrat", "жду возврат"),
            ("gde moy zakaz", "где мой заказ"),
            ("novyy schet", "новый счет"),
            ("tsena", "цена"),
            ("shchuka, yabloko, yula, khleb", "щука, яблоко, юла, хлеб"),
            ("card 0", "кард 0"),
        ],
    )
    def test_transliteration_reads_latin_as_russian(self, latin: str, cyrillic: str) -> None:
        assert to_cyrillic(latin) == cyrillic

    @pytest.mark.parametrize("text", ["карта не работает", "жду возврат", "где мой заказ"])
    def test_latin_writing_reads_back(self, text: str) -> None:
        assert to_cyrillic(to_latin(text)) == text
        assert not any("а" <= letter <= "я" for letter in to_latin(text))

    def test_transliteration_view_adds_the_russian_stems_of_latin_words(self) -> None:
        tokens = stemmed_words_and_transliterations("karta ne rabotaet")
        assert set(stemmed_words("карта не работает")) <= set(tokens)
        assert stemmed_words_and_transliterations("карта") == stemmed_words("карта")

    def test_known_english_words_are_not_read_as_russian(self) -> None:
        known = {stem: i for i, stem in enumerate(["my", "карт", "мы"])}
        tokens = stemmed_words_and_transliterations("my karta", known)
        assert "мы" not in tokens
        assert "карт" in tokens

    def test_translit_message_gets_the_stem_vector_of_the_cyrillic_one(self) -> None:
        vectoriser = StemVectorizer(analyzer=stemmed_words, sublinear_tf=True)
        vectoriser.fit(["карта не работает", "где мой заказ", "верните деньги за заказ"])
        latin, cyrillic = vectoriser.transform(["karta ne rabotaet", "карта не работает"])
        assert latin.nnz == cyrillic.nnz == 5
        np.testing.assert_allclose(latin.toarray(), cyrillic.toarray())

    def test_english_training_text_adds_no_transliterated_stems(self) -> None:
        vectoriser = StemVectorizer(analyzer=stemmed_words).fit(["my card is broken"])
        assert sorted(vectoriser.vocabulary_) == sorted(stemmed_words("my card is broken"))
        assert not vectoriser.reads_transliteration_
        assert vectoriser.transform(["my card is broken"]).nnz == 7

    @pytest.mark.parametrize(
        ("latin", "cyrillic"),
        [
            ("karta ne rabotaet", "карта не работает"),
            ("gde moy zakaz", "где мой заказ"),
            ("Ne mogu oplatit kartoy", "Не могу оплатить картой"),
        ],
    )
    def test_translit_message_is_triaged_like_the_cyrillic_one(
        self, model: TriageModel, latin: str, cyrillic: str
    ) -> None:
        read, written = model.predict(latin), model.predict(cyrillic)
        assert not written.needs_human
        assert (read.category, read.needs_human) == (written.category, written.needs_human)
        assert model.predict_many([latin])[0].category == read.category

    def test_urgency_cues_are_read_in_transliteration_too(self, model: TriageModel) -> None:
        result = model.predict("srochno! karta ne rabotaet")
        assert result.priority == "urgent"
        assert "срочно" in result.priority_cues

    def test_the_russian_reading_keeps_the_placeholders(self, model: TriageModel) -> None:
        stems = model.pipeline["features"].transformer_list[2][1].vocabulary_
        read = read_as_russian(
            "pishite na a.b@example.org: karta ne rabotaet, https://x.ru", stems
        )
        assert read == "пишите на email : карта не работает, url"

    @pytest.mark.parametrize("text", ["where is my parcel", "my card is broken", "ok"])
    def test_english_messages_keep_their_reading(self, model: TriageModel, text: str) -> None:
        assert (
            read_as_russian(text, model.pipeline["features"].transformer_list[2][1].vocabulary_)
            is None
        )

    def test_stems_join_inflected_forms(self) -> None:
        assert stemmed_words("картой") == stemmed_words("карты") == stemmed_words("карту")
        assert stemmed_words("cards") == stemmed_words("card")
        assert stemmed_words("Оплата картой") == ["оплат", "карт", "оплат карт"]

    def test_default_features_include_the_stem_block(self) -> None:
        union = build_pipeline()["features"]
        assert [name for name, _ in union.transformer_list] == ["word", "char", "stem"]
        assert union.transformer_weights == {"word": 0.5, "stem": 0.5}


class TestBuildPipeline:
    def test_structure_is_features_then_calibrated_classifier(self) -> None:
        pipeline = build_pipeline(random_state=3)
        assert isinstance(pipeline, Pipeline)
        assert [name for name, _ in pipeline.steps] == ["features", "classifier"]
        assert isinstance(pipeline["features"], FeatureUnion)
        assert isinstance(pipeline["classifier"], CalibratedClassifierCV)
        assert pipeline["classifier"].ensemble is False

    def test_unfitted_pipeline_pickles(self) -> None:
        pickle.dumps(build_pipeline())

    def test_rejects_unknown_classifier(self) -> None:
        with pytest.raises(ValueError, match="unknown classifier"):
            build_pipeline(classifier="forest")  # type: ignore[arg-type]

    def test_needs_a_feature_block(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            build_features(word_ngrams=None, char_ngrams=None)

    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"classifier": "svc", "calibration": "sigmoid"},
            {"classifier": "logreg", "C": 1.0, "char_ngrams": None},
            {"word_ngrams": None},
        ],
    )
    def test_fits_and_predicts_probabilities(self, seed: Dataset, params: dict) -> None:
        pipeline = build_pipeline(cv=3, **params).fit(seed.texts, seed.labels)
        proba = pipeline.predict_proba(["не могу войти в аккаунт", "where is my parcel"])
        assert proba.shape == (2, len(set(seed.labels)))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (proba >= 0).all()
        assert list(pipeline.predict(["не могу войти в аккаунт", "where is my parcel"])) == [
            "account",
            "delivery",
        ]
        pickle.loads(pickle.dumps(pipeline))

    def test_same_seed_same_model(self, seed: Dataset) -> None:
        first = build_pipeline(random_state=1, cv=3).fit(seed.texts, seed.labels)
        second = build_pipeline(random_state=1, cv=3).fit(seed.texts, seed.labels)
        texts = seed.texts[:20]
        np.testing.assert_array_equal(first.predict_proba(texts), second.predict_proba(texts))
