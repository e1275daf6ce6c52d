"""Near-duplicate posts by MinHash and locality-sensitive hashing, for mass incidents.

Two posts about one problem written by different citizens share most of their content words
("no electricity in Gomti Nagar sector 5 since morning, transformer burnt" / "Gomti Nagar
power cut since morning, no electricity, transformer burnt": 6 of 9 words, Jaccard 0.67, once
function words and numbers go). A MinHash signature estimates that
Jaccard similarity from 32 numbers; the first 18, cut into 6 bands of 3, give 6 band keys,
and posts that share any band key are candidates (pairs at 0.7 collide with probability 0.93,
at 0.6 with 0.77, at 0.3 with 0.15), which are then checked against `SIMILAR` on all 32.

The signatures are datasketch's (`MinHash(num_perm=32, seed=1, scheme="affine32")` over sha1_hash32 of the
words, checked by a test), computed for a whole batch in one numpy expression: datasketch
updates one document at a time, ~60 µs a post, this is a few µs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import MinHash  # type: ignore[import-untyped]
from datasketch.hashfunc import sha1_hash32  # type: ignore[import-untyped]

from sevadesk.domain import post_text
from sevadesk.triage.text import tokens

NUM_PERM = 32
BANDS = 6  # candidates come from 6 bands of 3 values; the check uses all 32
ROWS = 3
SEED = 1
SIMILAR = 0.6  # estimated Jaccard of content words at which two posts report one problem
MIN_WORDS = 5  # fewer content words than this and unrelated short posts look alike

_A, _B = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32").permutations
_NUMBERS = re.compile(r"\d+")

# Function words of English, Hindi and romanised Hindi: they make any two posts look alike.
STOP_WORDS = frozenset(
    """a an the and or but of in on at to for from by with is are was were be been being am it
    this that these those there here i me my we our you your he she they them his her their
    not no yes do does did done have has had will would shall should can could may might must
    please pls plz sir madam maam ji kindly sent since still also very so too just only as
    hai hain tha thi the ho hoga hogi ka ki ke ko se me mein par aur ya bhi nahi nahin na kya
    koi kuch yeh ye woh wo hum ham aap ap mera meri mere hamara hamari kar karo kare kiya
    है हैं था थी थे हो का की के को से में पर और या भी नहीं ना क्या कोई कुछ यह ये वह वो हम
    आप मेरा मेरी मेरे हमारा हमारी कर करें करे किया जी""".split()  # noqa: SIM905 (a word list reads better as prose)
)


def content_words(text: str) -> frozenset[str]:
    """The words that say what a post is about: no handles, hashtags, links, numbers or
    function words."""
    # Handles, hashtags and links by twitter-text's rules (a Hindi hashtag goes whole).
    bare = _NUMBERS.sub(" ", post_text.without_entities(text))
    return frozenset(w for w in tokens(bare) if len(w) > 1 and w not in STOP_WORDS)


@lru_cache(maxsize=1 << 16)
def _hash(word: str) -> int:
    return int(sha1_hash32(word.encode("utf-8")))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer, which datasketch's affine32 scheme applies to each word hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    mixed: np.ndarray = h ^ (h >> np.uint32(16))
    return mixed


def signatures(word_sets: Sequence[frozenset[str]]) -> np.ndarray:
    """MinHash signatures (one uint32 row of NUM_PERM per set); every set must be non-empty."""
    if not word_sets:
        return np.zeros((0, NUM_PERM), dtype=np.uint32)
    lengths = np.fromiter((len(s) for s in word_sets), dtype=np.int64, count=len(word_sets))
    flat = np.fromiter(
        (_hash(w) for s in word_sets for w in s), dtype=np.uint32, count=int(lengths.sum())
    )
    permuted = _fmix32(flat)[:, np.newaxis] * _A + _B  # wraps modulo 2**32, as datasketch's
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    mins: np.ndarray = np.minimum.reduceat(permuted, starts, axis=0)
    return mins


_BAND_MIX = (
    np.random.default_rng(SEED).integers(1, 1 << 63, size=(BANDS, ROWS), dtype=np.uint64) | 1
)


@lru_cache(maxsize=1024)
def _problem_hash(problem: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(problem.encode(), digest_size=8).digest()))


def band_keys(problems: Sequence[str], signatures: np.ndarray) -> np.ndarray:
    """Signed 64-bit band keys, one row of BANDS per signature. The problem is part of every
    key, so only posts about the same kind of problem become candidates; each band mixes its
    values with its own odd multipliers (wrapping modulo 2**64)."""
    bands = signatures[:, : BANDS * ROWS].reshape(-1, BANDS, ROWS).astype(np.uint64)
    mixed = (bands * _BAND_MIX).sum(axis=2, dtype=np.uint64)
    offsets = np.fromiter(
        (_problem_hash(p) for p in problems), dtype=np.uint64, count=len(problems)
    )
    keys: np.ndarray = (mixed + offsets[:, np.newaxis]).view(np.int64)
    return keys


def similarities(signature: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """Estimated Jaccard similarity of one signature with each of `others`."""
    return np.asarray((np.stack(others) == signature).mean(axis=1))
