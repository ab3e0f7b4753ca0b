"""How guessable a secret from the config is: a cheap estimate that catches placeholders, words and short
tokens ("s3cret", "changeme", a 7-character token), not a proof of randomness.

The estimate, in bits: length x log2(alphabet), where the alphabet is the character classes the secret
uses: only digits 10, only hex digits of one case 16, else lower-case 26 + upper-case 26 + digits 10 +
anything else 33. A secret that repeats a few characters counts as no longer than 4 x its distinct
characters ("aaaa…" or "abcabc…" are weak at any length). `openssl rand -hex 24` gives 48 hex digits:
192 bits by this measure (and in truth); Python's `secrets.token_urlsafe(18)` about 143.
"""

from __future__ import annotations

import math
import string

MIN_BITS = 128
HOW = "make one with `openssl rand -hex 24`"


def entropy_bits(secret: str) -> float:
    """The estimate described above."""
    if not secret:
        return 0.0
    chars = set(secret)
    if chars <= set(string.digits):
        alphabet = 10
    elif chars <= set(string.hexdigits.lower()) or chars <= set(string.hexdigits.upper()):
        alphabet = 16
    else:
        alphabet = (26 * any(c in string.ascii_lowercase for c in chars)
                    + 26 * any(c in string.ascii_uppercase for c in chars)
                    + 10 * any(c in string.digits for c in chars)
                    + 33 * any(c not in string.ascii_letters + string.digits for c in chars))
    return min(len(secret), 4 * len(chars)) * math.log2(alphabet)


def weak(secret: str, where: str) -> str | None:
    """What is wrong ("<where> is too easy to guess …; the fix") when `secret` is under MIN_BITS, else
    None. `where` names the key or option ("walls.lobby.token_env: the secret in WALL_LOBBY_TOKEN"), so
    the message never shows the secret."""
    bits = entropy_bits(secret)
    if bits >= MIN_BITS:
        return None
    return f"{where} is too easy to guess (about {bits:.0f} bits, at least {MIN_BITS} needed); {HOW}"
