"""Safety flags for curation: profanity, spam signals and near-duplicates across networks.

`profanity`, `link_only` and `hashtag_stuffing` look at one text. `repeated_text`, `burst` and
`near_duplicate` need what came before: `SafetyState` keeps it, bounded in memory whatever passes.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import OrderedDict, deque
from pathlib import Path

from .terms import fold

PROFANITY_DIR = Path(__file__).with_name("data") / "profanity"
PROFANITY_LANGS = ("en", "de", "es", "fi", "fr")

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"#\w+", re.UNICODE)
_MENTION = re.compile(r"@[\w.]+", re.UNICODE)
_TOKEN = re.compile(r"[\w*@$!|]+", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "i"})


class Wordlist:
    """Exact words and prefixes (`fuck*`) of one or more languages, folded like the text."""

    def __init__(self, words: list[str]) -> None:
        self.exact = frozenset(fold(w) for w in words if not w.endswith("*"))
        self.prefixes = tuple(sorted({fold(w[:-1]) for w in words if w.endswith("*")}))
        self._all = sorted(self.exact | set(self.prefixes))
        alternatives = [re.escape(w) for w in sorted(self.exact, key=len, reverse=True)]
        alternatives += [re.escape(p) + r"\w*" for p in sorted(self.prefixes, key=len, reverse=True)]
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")

    def hit(self, token: str) -> bool:
        """Whether a folded token is on the list; `*` inside it stands for any one letter (f*ck)."""
        if "*" in token.strip("*"):
            pattern = re.compile(re.escape(token.strip("*")).replace(r"\*", r"\w"))
            return any(pattern.fullmatch(w) or (pattern.match(w) and w in self.prefixes) for w in self._all)
        token = token.strip("*")
        return token in self.exact or token.startswith(self.prefixes)


@functools.cache
def wordlist(langs: tuple[str, ...]) -> Wordlist:
    """The profanity list of these languages, read once."""
    words: list[str] = []
    for lang in langs:
        path = PROFANITY_DIR / f"{lang}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                words.append(line)
    return Wordlist(words)


def has_profanity(text: str, lang: str | None = None) -> bool:
    """Swear words on word boundaries, leetspeak too (sh1t, f*ck); English is checked for every language."""
    langs = ("en", lang) if lang in PROFANITY_LANGS and lang != "en" else ("en",) if lang else PROFANITY_LANGS
    words = wordlist(langs)
    folded = fold(_MENTION.sub(" ", _URL.sub(" ", text)))
    if words.pattern.search(folded) or words.pattern.search(folded.translate(_LEET)):
        return True
    # Masked letters (f*ck, sh**) are rare: only those tokens go through the slower wildcard match.
    return "*" in folded and any(words.hit(t) for t in _TOKEN.findall(folded) if "*" in t.strip("*"))


def is_link_only(text: str) -> bool:
    """A link and nothing to read besides hashtags and mentions."""
    if not _URL.search(text):
        return False
    rest = _MENTION.sub(" ", _HASHTAG.sub(" ", _URL.sub(" ", text)))
    return not any(ch.isalnum() for ch in rest)


def is_hashtag_stuffed(text: str, max_hashtags: int = 8) -> bool:
    """More than `max_hashtags` hashtags, or at least three making up over half of the words."""
    tags = len(_HASHTAG.findall(text))
    words = len(_WORD.findall(_URL.sub(" ", text)))
    return tags > max_hashtags or (tags >= 3 and tags * 2 > words)


def normalized(text: str) -> str:
    """Text reduced for duplicate checks: no links or mentions, hashtags as words, folded, single-spaced."""
    text = _MENTION.sub(" ", _URL.sub(" ", text)).replace("#", " ")
    return " ".join(_WORD.findall(fold(text)))


# SimHash adds up, for each of 64 bits, how many shingle hashes have it set. Done bit by bit in Python that
# is 64 steps a shingle; instead each bit gets a 16-bit lane of one big int and a hash is added to all its
# lanes at once, a byte at a time through this table.
_LANE = 16
_SPREAD = [sum(1 << (_LANE * i) for i in range(8) if b >> i & 1) for b in range(256)]
_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = ([v << (_LANE * 8 * k) for v in _SPREAD] for k in range(8))
_TOP = 1 << (_LANE - 1)
_ONES = sum(1 << (_LANE * i) for i in range(64))
_TOPS = _ONES * _TOP
_MAX_SHINGLES = _TOP - 1  # so that no lane overflows into the next
_BIT = bytes(0x31 if b == 0x80 else 0x30 for b in range(256))  # a lane's top byte -> "1" or "0"
# Python's own string hash (SipHash, 64 bits here): fingerprints live only in this process's SafetyState,
# so its per-process salt does no harm, and it costs a tenth of a blake2b digest.
_MASK64 = (1 << 64) - 1


def simhash(words: list[str]) -> int:
    """64-bit SimHash over word 3-shingles (single words for very short texts)."""
    shingles = [" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))][:_MAX_SHINGLES]
    lanes = 0
    for shingle in shingles:
        h = hash(shingle) & _MASK64
        lanes += (_T0[h & 0xFF] + _T1[h >> 8 & 0xFF] + _T2[h >> 16 & 0xFF] + _T3[h >> 24 & 0xFF]
                  + _T4[h >> 32 & 0xFF] + _T5[h >> 40 & 0xFF] + _T6[h >> 48 & 0xFF] + _T7[h >> 56])
    # Bit i is set when lane i counts more than half the shingles: a bias makes exactly those lanes reach
    # their top bit, which bytes.translate then reads out for all 64 lanes at once.
    at_least = len(shingles) // 2 + 1
    tops = ((lanes + (_TOP - at_least) * _ONES) & _TOPS).to_bytes(_LANE * 8, "little")[1::2]
    return int(tops.translate(_BIT)[::-1], 2)


class SafetyState:
    """What recent posts looked like, to flag repeats, bursts and near-duplicates; bounded memory."""

    def __init__(self, *, window: float = 3600.0, max_posts: int = 5_000, max_authors: int = 10_000,
                 burst_posts: int = 5, burst_window: float = 60.0, min_words: int = 5,
                 max_distance: int = 3) -> None:
        self.window = window
        self.max_posts = max_posts
        self.max_authors = max_authors
        self.burst_posts = burst_posts
        self.burst_window = burst_window
        self.min_words = min_words
        self.max_distance = max_distance
        self._recent_text: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._author_times: OrderedDict[str, deque[float]] = OrderedDict()
        # SimHash fingerprints in arrival order, and four 16-bit bands -> fingerprints, so that any two
        # within 3 bits share a band and are found without comparing against the whole window.
        self._prints: deque[tuple[int, float]] = deque()
        self._bands: dict[tuple[int, int], dict[int, int]] = {}

    def check(self, text: str, author: str | None, ts: float) -> list[str]:
        """The stateful flags for one post at time `ts` (seconds), recording it."""
        flags: list[str] = []
        norm = normalized(text)
        if author:
            if self._repeated(author, norm, ts):
                flags.append("repeated_text")
            if self._burst(author, ts):
                flags.append("burst")
        words = norm.split()
        if len(words) >= self.min_words and self._near_duplicate(simhash(words), ts):
            flags.append("near_duplicate")
        return flags

    def _repeated(self, author: str, norm: str, ts: float) -> bool:
        key = (author, hashlib.blake2b(norm.encode("utf-8", "replace"), digest_size=8).hexdigest())
        seen = self._recent_text.pop(key, None)
        self._recent_text[key] = ts
        while len(self._recent_text) > self.max_posts:
            self._recent_text.popitem(last=False)
        return bool(norm) and seen is not None and ts - seen <= self.window

    def _burst(self, author: str, ts: float) -> bool:
        times = self._author_times.pop(author, None) or deque(maxlen=self.burst_posts + 1)
        self._author_times[author] = times
        while len(self._author_times) > self.max_authors:
            self._author_times.popitem(last=False)
        times.append(ts)
        return len(times) > self.burst_posts and ts - times[0] <= self.burst_window

    def _near_duplicate(self, fingerprint: int, ts: float) -> bool:
        while self._prints and (len(self._prints) >= self.max_posts or ts - self._prints[0][1] > self.window):
            old, _ = self._prints.popleft()
            for band in range(4):
                key = (band, old >> (16 * band) & 0xFFFF)
                bucket = self._bands.get(key)
                if bucket is not None:
                    left = bucket.get(old, 0) - 1
                    if left > 0:
                        bucket[old] = left
                    else:
                        bucket.pop(old, None)
                        if not bucket:
                            del self._bands[key]
        found = False
        for band in range(4):
            bucket = self._bands.setdefault((band, fingerprint >> (16 * band) & 0xFFFF), {})
            if not found and any((fp ^ fingerprint).bit_count() <= self.max_distance for fp in bucket):
                found = True
            bucket[fingerprint] = bucket.get(fingerprint, 0) + 1
        self._prints.append((fingerprint, ts))
        return found


def text_flags(text: str, lang: str | None, max_hashtags: int = 8) -> list[str]:
    """The flags one text earns on its own."""
    flags = []
    if has_profanity(text, lang):
        flags.append("profanity")
    if is_link_only(text):
        flags.append("link_only")
    if is_hashtag_stuffed(text, max_hashtags):
        flags.append("hashtag_stuffing")
    return flags
