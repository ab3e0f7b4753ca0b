"""Which posts ask something, and which posts upvote a question (pure; docs/qa.md).

A post asks when its text (links, mentions and hashtags aside) holds a question mark of any script
(QUESTION_MARKS: ASCII, fullwidth, Spanish, Arabic) or starts with a question word of its language (or,
when the language is unknown, of any language the wall sees). An upvote is a short post that is nothing
but "+1" or a like emoji: a reply to the question where the network gives replies (Post.reply_to), or
naming the question's number anywhere ("+1 Q3", "👍 q3").
"""

from __future__ import annotations

import re
import unicodedata

QUESTION_MARKS = ("?", "\uff1f", "\u00bf", "\u061f")  # ASCII, fullwidth, Spanish, Arabic

# Words a question opens with, per language; matched case- and accent-insensitively on the first word
# (or the first two for "est-ce que", "what's" and the like, split on the apostrophe or hyphen).
QUESTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("what when where why who whom whose which how is are am was were do does did can "
                    "could will would should shall may might has have had isn aren doesn don didn "
                    "won wouldn shouldn couldn".split()),
    "de": frozenset("was wann wo woher wohin warum wieso weshalb wer wen wem wessen welche welcher "
                    "welches welchen welchem wie ist sind bin war waren hat haben hast kann können "
                    "kannst wird werden wirst soll sollte darf gibt".split()),
    "fr": frozenset("que quoi quand ou pourquoi qui quel quelle quels quelles comment combien "
                    "est-ce lequel laquelle".split()),
    "es": frozenset("que qué cuando donde por quien quienes cual cuales como cuanto cuanta cuantos "
                    "cuantas".split()),
    "fi": frozenset("mita mika mitka milloin missa mista mihin miksi kuka ketka kenen kenelle miten "
                    "kuinka paljonko onko voiko saako tuleeko oletko onhan".split()),
    "sv": frozenset("vad nar var vart varfor vem vilka vilken vilket hur ar kan har finns blir "
                    "kommer ska".split()),
    "nl": frozenset("wat wanneer waar waarom wie welke welk hoe hoeveel is zijn kan kunnen heeft "
                    "hebben komt wordt".split()),
    "it": frozenset("che cosa cosa quando dove perche chi quale quali come quanto quanta quanti "
                    "quante".split()),
    "pt": frozenset("que quando onde porque porquê quem qual quais como quanto quanta quantos "
                    "quantas".split()),
}
ANY_LANGUAGE = frozenset().union(*QUESTION_WORDS.values())
# Words that open a question in one language but a plain statement in another often enough ("is",
# "was", "war", "var", "har", "ar") count only when the post's language is known to be the one.
AMBIGUOUS = frozenset("is was war var har ar hat kan kann kommer wie wat que che come como cosa".split())

LIKES = frozenset("+1 👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 ❤ ❤️ ♥ ♥️ 💯 🙌 🙋 ✋ ☝ ☝️".split())
NUMBER = re.compile(r"^#?q(\d{1,6})$", re.IGNORECASE)
APOSTROPHES = "'\u2019"
WORD = re.compile(rf"[\w{APOSTROPHES}-]+", re.UNICODE)
NOISE = re.compile(r"https?://\S+|[@#][\w.-]+", re.UNICODE)
MAX_VOTE_WORDS = 4  # "+1 Q3 👍 yes" still votes; a sentence with "+1" in it is a post, not a vote


def _fold(word: str) -> str:
    """Lowercased, accents off ("pourquoi", "Miksi", "Mitä" -> "mita")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_question(text: str, lang: str | None = None) -> bool:
    """Whether the post asks something (module doc)."""
    bare = NOISE.sub(" ", text).strip()
    if not bare:
        return False
    if any(mark in bare for mark in QUESTION_MARKS):
        return True
    first = WORD.search(bare)
    if first is None:
        return False
    word = _fold(first.group())
    base = lang.split("-")[0].lower() if lang else None
    words = QUESTION_WORDS.get(base or "")
    for candidate in (word, re.split(f"[{APOSTROPHES}]", word)[0]):
        if words is not None:
            if candidate in words:
                return True
        elif candidate in ANY_LANGUAGE and candidate not in AMBIGUOUS:
            return True
    return False


def upvote(text: str) -> tuple[bool, int | None]:
    """(whether the post is an upvote, the question number it names or None). A vote holds "+1" or a
    like emoji and at most MAX_VOTE_WORDS tokens; "Q3" or "#q3" among them names question 3."""
    tokens = text.split()
    if not tokens or len(tokens) > MAX_VOTE_WORDS:
        return False, None
    liked = any(t in LIKES or t.rstrip("!.") in LIKES or _only_likes(t) for t in tokens)
    if not liked:
        return False, None
    number = next((int(m.group(1)) for t in tokens if (m := NUMBER.match(t.rstrip("!.,")))), None)
    return True, number


def _only_likes(token: str) -> bool:
    """"👍👍" or "❤️❤️❤️": a token made of like emoji alone."""
    rest = token
    while rest:
        found = next((like for like in sorted(LIKES, key=len, reverse=True)
                      if not like.startswith("+") and rest.startswith(like)), None)
        if found is None:
            return False
        rest = rest[len(found):]
    return True
