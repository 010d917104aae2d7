"""Similar solved tickets: an incremental nearest-neighbour index over hashed n-grams.

A help desk resolves tickets one at a time, all day long; an index that refits a vocabulary
(TF-IDF) per resolved ticket would redo its work every time, and one refitted nightly would
miss the morning's tickets. Here every text becomes a vector on its own, with no fitted state:
character n-grams (3-5, inside word boundaries) and word uni- and bigrams of
:func:`~triage.features.normalise_text`, hashed into :data:`N_FEATURES` columns, sub-linear
term frequencies, each block l2-normalised, the word block weighted :data:`WORD_WEIGHT`, the
sum l2-normalised again. Adding a ticket is one vectorisation and an append; cosine similarity
is a dot product.

Lookups must stay fast with a large history, so the vectors are kept as an inverted index:
a CSR matrix of ``features x tickets`` whose rows are posting lists. A query touches only the
rows of its own n-grams. New vectors wait in a small row-major tail (scored directly) and are
merged into the postings every :attr:`SimilarIndex.merge_every` additions, one ``hstack``.

Measured in ``bench/triage.py`` (section ``similar_tickets``): on Banking77, with ``train.csv``
as the resolved history and ``test.csv`` as new tickets, 92.5 % of new tickets find one of the
same intent among their three nearest; the choice of features is recorded there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from triage.features import WORD_TOKEN_PATTERN, normalise_text

__all__ = [
    "MAX_CHARS",
    "N_FEATURES",
    "WORD_WEIGHT",
    "Neighbour",
    "SimilarIndex",
    "similarity_vectors",
]

#: Hashed feature space (collisions are rare at this size and cost little in cosine terms).
N_FEATURES = 2**20
#: Weight of the word block against the character block (measured on Banking77: character
#: n-grams alone find the intent as well; words keep whole-word matches ahead of fragments).
WORD_WEIGHT = 0.3
#: Only the beginning of a long text is indexed: the problem is stated there, and a long
#: conversation would otherwise cost memory in every worker for little gain.
MAX_CHARS = 2000

_CHARS = HashingVectorizer(
    n_features=N_FEATURES,
    analyzer="char_wb",
    ngram_range=(3, 5),
    preprocessor=normalise_text,
    alternate_sign=False,
    norm=None,
    dtype=np.float32,
)
_WORDS = HashingVectorizer(
    n_features=N_FEATURES,
    token_pattern=WORD_TOKEN_PATTERN,
    ngram_range=(1, 2),
    preprocessor=normalise_text,
    alternate_sign=False,
    norm=None,
    dtype=np.float32,
)


def _block(vectorizer: HashingVectorizer, texts: list[str]) -> sp.csr_matrix:
    matrix = vectorizer.transform(texts)
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1.0  # sub-linear tf: 1 + log(count)
    return normalize(matrix, copy=False)


def similarity_vectors(texts: Iterable[str]) -> sp.csr_matrix:
    """Vectorise texts for :class:`SimilarIndex` (stateless: no fitting, any text, any time).

    Parameters
    ----------
    texts : iterable of str
        Raw texts; each is cut to its first :data:`MAX_CHARS` characters.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_texts, N_FEATURES), dtype float32
        One l2-normalised row per text (empty for a blank text).
    """
    cut = [text[:MAX_CHARS] for text in texts]
    combined = _block(_CHARS, cut) + WORD_WEIGHT * _block(_WORDS, cut)
    return normalize(combined.tocsr(), copy=False).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Neighbour:
    """One search hit: the key an entry was added with, and its cosine similarity (0..1)."""

    key: int
    score: float


class SimilarIndex:
    """Nearest neighbours by cosine similarity, with entries added and replaced one by one.

    Each entry has an integer key (a ticket id). Adding a key that is present replaces its
    entry; a removed or replaced entry keeps its slot, masked, until :meth:`compact`.
    The index is not thread-safe: one caller at a time (the bot serialises its calls).

    Parameters
    ----------
    merge_every : int, default=4096
        Vectors added since the last merge are scored row by row; once this many wait,
        they are merged into the inverted postings (one ``hstack``, about 0.2 s at 100,000
        entries).

    Attributes
    ----------
    merges_ : int
        How many times the tail was merged into the postings.
    """

    def __init__(self, merge_every: int = 4096) -> None:
        self.merge_every = merge_every
        self.merges_ = 0
        self._reset()

    def _reset(self) -> None:
        self._postings: sp.csr_matrix = sp.csr_matrix((N_FEATURES, 0), dtype=np.float32)
        self._tail: list[sp.csr_matrix] = []
        self._tail_rows = 0
        self._keys = np.empty(0, dtype=np.int64)
        self._alive = np.empty(0, dtype=bool)
        self._size = 0  # slots used in _keys and _alive (their capacity grows by doubling)
        self._slot: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    @property
    def keys(self) -> list[int]:
        """The keys of the live entries, oldest slot first."""
        return [int(k) for k in self._keys[: self._size][self._alive[: self._size]]]

    @property
    def nbytes(self) -> int:
        """Memory held by the vectors and bookkeeping arrays (not the Python dict)."""
        arrays = [self._postings.data, self._postings.indices, self._postings.indptr]
        for block in self._tail:
            arrays += [block.data, block.indices, block.indptr]
        return sum(a.nbytes for a in arrays) + self._keys.nbytes + self._alive.nbytes

    def add(self, keys: Sequence[int], texts: Sequence[str]) -> None:
        """Vectorise ``texts`` and add them under ``keys`` (replacing entries with those keys).

        Parameters
        ----------
        keys : sequence of int
            One key per text; a key repeated within the call keeps its last text.
        texts : sequence of str
            The texts to index.
        """
        if len(keys) != len(texts):
            raise ValueError(f"{len(keys)} keys for {len(texts)} texts")
        if not keys:
            return
        self.add_vectors(keys, similarity_vectors(texts))

    def add_vectors(self, keys: Sequence[int], vectors: sp.csr_matrix) -> None:
        """Add rows made by :func:`similarity_vectors` (vectorise outside a lock, add inside)."""
        if vectors.shape != (len(keys), N_FEATURES):
            raise ValueError(f"expected {len(keys)} x {N_FEATURES} vectors, got {vectors.shape}")
        self.remove(keys)
        start = self._size
        self._grow(start + len(keys))
        self._keys[start : start + len(keys)] = keys
        self._alive[start : start + len(keys)] = True
        for offset, key in enumerate(keys):
            previous = self._slot.get(int(key))
            if previous is not None:  # repeated within this call: the last one wins
                self._alive[previous] = False
            self._slot[int(key)] = start + offset
        self._size += len(keys)
        self._tail.append(vectors.tocsr().astype(np.float32, copy=False))
        self._tail_rows += len(keys)
        if self._tail_rows >= self.merge_every:
            self.merge()
            if self._size - len(self._slot) > self._size // 4:  # mostly replaced entries
                self.compact()

    def remove(self, keys: Iterable[int]) -> None:
        """Forget the entries with these keys (unknown keys are ignored)."""
        for key in keys:
            slot = self._slot.pop(int(key), None)
            if slot is not None:
                self._alive[slot] = False

    def clear(self) -> None:
        """Forget every entry."""
        self._reset()

    def search(
        self,
        text: str,
        k: int = 3,
        *,
        exclude: Collection[int] = (),
        min_score: float = 0.0,
    ) -> list[Neighbour]:
        """The ``k`` entries most similar to ``text``, best first.

        Parameters
        ----------
        text : str
            The query (a new ticket's text).
        k : int, default=3
            How many neighbours at most.
        exclude : collection of int, default=()
            Keys never returned (the ticket itself, when it was resolved before).
        min_score : float, default=0.0
            Only neighbours with a cosine similarity above this are returned.

        Returns
        -------
        list of Neighbour
            At most ``k``, by decreasing similarity; ties go to the older entry.
        """
        if not self._slot or k <= 0:
            return []
        query = similarity_vectors([text])
        if query.nnz == 0:
            return []
        scores = self.scores(query)
        for key in exclude:
            slot = self._slot.get(int(key))
            if slot is not None:
                scores[slot] = -1.0
        candidates = np.flatnonzero(scores > min_score)
        if candidates.size > k:
            part = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[part]
        order = np.lexsort((candidates, -scores[candidates]))
        return [
            Neighbour(int(self._keys[slot]), float(scores[slot])) for slot in candidates[order]
        ]

    def scores(self, query: sp.csr_matrix) -> np.ndarray:
        """Cosine similarity of one query vector to every slot (-1 for dead slots)."""
        merged = self._postings.shape[1]
        scores = np.empty(self._size, dtype=np.float32)
        if merged:
            # The query's posting lists, summed with its weights: one row slice and one
            # matrix-vector product (twice as fast as sparse @ sparse, which builds a sparse
            # result only to densify it).
            postings = self._postings[query.indices]
            scores[:merged] = postings.T @ query.data
        if self._tail:
            tail = self._tail_matrix()
            scores[merged:] = (tail @ query.T).toarray().ravel()
        scores[~self._alive[: self._size]] = -1.0
        return scores

    def compact(self) -> None:
        """Drop the slots of removed and replaced entries (rebuilds the postings); done by
        itself at a merge when more than a quarter of the slots are dead."""
        self.merge()
        alive = np.flatnonzero(self._alive[: self._size])
        if alive.size == self._size:
            return
        keys = self._keys[alive].copy()
        postings = self._postings[:, alive]
        self._reset()
        self._postings = postings.tocsr()
        self._grow(keys.size)
        self._keys[: keys.size] = keys
        self._alive[: keys.size] = True
        self._size = keys.size
        self._slot = {int(key): slot for slot, key in enumerate(keys)}

    def _tail_matrix(self) -> sp.csr_matrix:
        if len(self._tail) > 1:
            self._tail = [sp.vstack(self._tail, format="csr")]
        return self._tail[0]

    def merge(self) -> None:
        """Merge the vectors added since the last merge into the postings now."""
        if not self._tail:
            return
        tail = self._tail_matrix()
        self._postings = sp.hstack([self._postings, tail.T.tocsr()], format="csr")
        self._tail, self._tail_rows = [], 0
        self.merges_ += 1

    def _grow(self, needed: int) -> None:
        if needed <= self._keys.size:
            return
        capacity = max(needed, 2 * self._keys.size, 1024)
        keys = np.empty(capacity, dtype=np.int64)
        alive = np.zeros(capacity, dtype=bool)
        keys[: self._size] = self._keys[: self._size]
        alive[: self._size] = self._alive[: self._size]
        self._keys, self._alive = keys, alive
