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
merged into the postings every :attr:`SimilarIndex.merge_every` additions.

Numpy only (the bot process builds this index; it imports neither scikit-learn nor scipy): the
hashing is scikit-learn's ``HashingVectorizer(alternate_sign=False)``, signed MurmurHash3
(32 bit, seed 0) of each n-gram's UTF-8 bytes, column ``|h| mod n_features``, through the
``mmh3`` package; the CSR arrays are kept by hand. ``tests/unit/triage`` checks the vectors
against scikit-learn's.

Measured in ``bench/triage.py`` (section ``similar_tickets``): on Banking77, with ``train.csv``
as the resolved history and ``test.csv`` as new tickets, 92.5 % of new tickets find one of the
same intent among their three nearest; the choice of features is recorded there.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import mmh3
import numpy as np

from triage.analyzers import AnalyzerSpec
from triage.compact import gather_dot
from triage.text import WORD_TOKEN_PATTERN

__all__ = [
    "MAX_CHARS",
    "N_FEATURES",
    "WORD_WEIGHT",
    "Neighbour",
    "SimilarIndex",
    "Vectors",
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

_CHARS = AnalyzerSpec("char_wb", ngram_range=(3, 5), preprocessor="normalise_text").build()
_WORDS = AnalyzerSpec(
    "word", ngram_range=(1, 2), preprocessor="normalise_text", token_pattern=WORD_TOKEN_PATTERN
).build()


def _hashed(tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """One block of many texts: sorted ``row * N_FEATURES + column`` keys and sub-linear tf."""
    lengths = [len(row) for row in tokens]
    # |h| mod 2**20 equals scikit-learn's special case for h = -2**31 as well.
    hashes = np.fromiter(
        map(mmh3.hash, itertools.chain.from_iterable(tokens)), dtype=np.int64, count=sum(lengths)
    )
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
    keys, counts = np.unique(rows * N_FEATURES + np.abs(hashes) % N_FEATURES, return_counts=True)
    return keys, np.log(counts.astype(np.float32)) + np.float32(1.0)


def _normalised(keys: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    rows = keys // N_FEATURES
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
    return (values / norms[rows]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Vectors:
    """Rows of the hashed space as CSR arrays (``indptr``, ``indices``, ``data``): what
    :func:`similarity_vectors` makes and :meth:`SimilarIndex.add_vectors` takes."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.indptr.size - 1, N_FEATURES)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @property
    def dtype(self) -> np.dtype[np.float32]:
        return np.dtype(np.float32)

    def __len__(self) -> int:
        return self.indptr.size - 1

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns (sorted) and values of row ``i``."""
        start, end = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[start:end], self.data[start:end]

    def gram(self) -> np.ndarray:
        """The rows' pairwise dot products (their cosine similarities), dense."""
        columns, where = np.unique(self.indices, return_inverse=True)
        dense = np.zeros((len(self), columns.size), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        dense[rows, where] = self.data
        return dense @ dense.T

    @classmethod
    def stack(cls, parts: Sequence[Vectors]) -> Vectors:
        """The rows of ``parts``, one after another."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [p.nnz for p in parts])
        indptr = np.concatenate(
            [[0]] + [p.indptr[1:] + offset for p, offset in zip(parts, offsets, strict=False)]
        )
        return cls(
            indptr.astype(np.int64),
            np.concatenate([p.indices for p in parts]),
            np.concatenate([p.data for p in parts]),
        )


def similarity_vectors(texts: Iterable[str]) -> Vectors:
    """Vectorise texts for :class:`SimilarIndex` (stateless: no fitting, any text, any time).

    Parameters
    ----------
    texts : iterable of str
        Raw texts; each is cut to its first :data:`MAX_CHARS` characters.

    Returns
    -------
    Vectors
        One l2-normalised float32 row per text in the ``N_FEATURES`` hashed columns (empty
        for a blank text).
    """
    cut = [text[:MAX_CHARS] for text in texts]
    n_rows = len(cut)
    char_keys, char_values = _hashed([_CHARS(text) for text in cut])
    word_keys, word_values = _hashed([_WORDS(text) for text in cut])
    keys, where = np.unique(np.concatenate([char_keys, word_keys]), return_inverse=True)
    values = np.bincount(
        where,
        weights=np.concatenate(
            [
                _normalised(char_keys, char_values, n_rows),
                np.float32(WORD_WEIGHT) * _normalised(word_keys, word_values, n_rows),
            ]
        ),
        minlength=keys.size,
    ).astype(np.float32)
    values = _normalised(keys, values, n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // N_FEATURES, minlength=n_rows), out=indptr[1:])
    return Vectors(indptr, (keys % N_FEATURES).astype(np.int32), values)


@dataclass(frozen=True)
class Neighbour:
    """One search hit: the key an entry was added with, and its cosine similarity (0..1)."""

    key: int
    score: float


def _narrow(indptr: np.ndarray) -> np.ndarray:
    """Row starts as int32 while the entries fit (4 MB instead of 8 for 2**20 rows)."""
    return indptr.astype(np.int32) if indptr[-1] < np.iinfo(np.int32).max else indptr


class SimilarIndex:
    """Nearest neighbours by cosine similarity, with entries added and replaced one by one.

    Each entry has an integer key (a ticket id). Adding a key that is present replaces its
    entry; a removed or replaced entry keeps its slot, masked, until :meth:`compact`.
    The index is not thread-safe: one caller at a time (the bot serialises its calls).

    Parameters
    ----------
    merge_every : int, default=4096
        Vectors added since the last merge are scored row by row; once this many wait,
        they are merged into the inverted postings.

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
        # The postings: CSR of features x slots (row f: the slots holding feature f).
        self._indptr = np.zeros(N_FEATURES + 1, dtype=np.int32)
        self._slots = np.empty(0, dtype=np.int32)
        self._weights = np.empty(0, dtype=np.float32)
        self._merged = 0  # slots covered by the postings; the later ones are in the tail
        self._tail: list[Vectors] = []
        self._tail_rows = 0
        self._tail_entry_rows: np.ndarray | None = None
        self._scratch: np.ndarray | None = None
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
        arrays: list[np.ndarray] = [
            self._indptr,
            self._slots,
            self._weights,
            self._keys,
            self._alive,
        ]
        for block in self._tail:
            arrays += [block.data, block.indices, block.indptr]
        return sum(a.nbytes for a in arrays)

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

    def add_vectors(self, keys: Sequence[int], vectors: Vectors) -> None:
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
        self._tail.append(vectors)
        self._tail_rows += len(keys)
        self._tail_entry_rows = None
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

    def scores(self, query: Vectors) -> np.ndarray:
        """Cosine similarity of one query vector to every slot (-1 for dead slots)."""
        columns, values = query.row(0)
        scores = np.empty(self._size, dtype=np.float32)
        if self._merged:
            # The query's posting lists, summed with its weights.
            scores[: self._merged] = gather_dot(
                self._indptr, self._slots, self._weights, self._merged, columns, values
            )
        if self._tail:
            tail, rows = self._tail_matrix()
            # Each tail entry meets the query's weight of its column (0 when the query lacks
            # it), read from a dense scratch vector that holds the query only meanwhile. It is
            # allocated zeroed once (4 MB of address space; only the pages written or read
            # cost memory) and written back to zeros after.
            if self._scratch is None:
                self._scratch = np.zeros(N_FEATURES, dtype=np.float32)
            self._scratch[columns] = values
            try:
                weights = tail.data * self._scratch[tail.indices]
            finally:
                self._scratch[columns] = 0.0
            scores[self._merged :] = np.bincount(rows, weights=weights, minlength=len(tail))
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
        renumber = np.full(self._size, -1, dtype=np.int64)
        renumber[alive] = np.arange(alive.size)
        kept = self._alive[self._slots]
        # Each row start moves back by the dropped entries before it (a search in those,
        # not a cumulative sum over every entry: less memory for a large index).
        dropped = np.flatnonzero(~kept)
        indptr = self._indptr - np.searchsorted(dropped, self._indptr)
        slots = renumber[self._slots[kept]].astype(np.int32)
        weights = self._weights[kept]
        self._reset()
        self._indptr, self._slots, self._weights = _narrow(indptr), slots, weights
        self._merged = keys.size
        self._grow(keys.size)
        self._keys[: keys.size] = keys
        self._alive[: keys.size] = True
        self._size = keys.size
        self._slot = {int(key): slot for slot, key in enumerate(keys)}

    def _tail_matrix(self) -> tuple[Vectors, np.ndarray]:
        """The tail as one block, and the row of each of its entries."""
        if len(self._tail) > 1 or self._tail_entry_rows is None:
            self._tail = [Vectors.stack(self._tail)]
            self._tail_entry_rows = np.repeat(
                np.arange(len(self._tail[0]), dtype=np.intp), np.diff(self._tail[0].indptr)
            )
        return self._tail[0], self._tail_entry_rows

    def merge(self) -> None:
        """Merge the vectors added since the last merge into the postings now."""
        if not self._tail:
            return
        tail, entry_rows = self._tail_matrix()
        # The tail's entries in feature order (then slot order: a stable sort of row-major
        # entries), and where each lands: after the feature's old postings.
        order = np.argsort(tail.indices, kind="stable")
        features = tail.indices[order]
        slots = (entry_rows + self._merged)[order]
        tail_counts = np.bincount(features, minlength=N_FEATURES)
        old_counts = np.diff(self._indptr.astype(np.int64))
        indptr = np.zeros(N_FEATURES + 1, dtype=np.int64)
        np.cumsum(old_counts + tail_counts, out=indptr[1:])
        tail_starts = np.concatenate([[0], np.cumsum(tail_counts)])[:-1]
        rank = np.arange(features.size) - tail_starts[features]
        positions = indptr[features] + old_counts[features] + rank
        old = np.ones(int(indptr[-1]), dtype=bool)
        old[positions] = False
        new_slots = np.empty(old.size, dtype=np.int32)
        new_weights = np.empty(old.size, dtype=np.float32)
        new_slots[old], new_weights[old] = self._slots, self._weights
        new_slots[positions], new_weights[positions] = slots, tail.data[order]
        self._indptr, self._slots, self._weights = _narrow(indptr), new_slots, new_weights
        self._merged += len(tail)
        self._tail, self._tail_rows, self._tail_entry_rows = [], 0, None
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
