"""Look-alikes, decorations and invisible characters (issue 14 point 4): what must still fire,
and the real words and other scripts that must stay what they are."""

from __future__ import annotations

import pytest

from bot.safety import typo_vocabulary
from bot.safety.detector import CrisisDetector
from bot.safety.normalize import NEIGHBOURS, one_edit_variants

ZALGO = "\u0337\u0322\u0334\u0336\u0338\u0335"


def _zalgo(text: str) -> str:
    return "".join(
        char + ZALGO[i % 6] + ZALGO[(i + 2) % 6] if char.isalpha() else char
        for i, char in enumerate(text)
    )


@pytest.mark.parametrize(
    "text",
    [
        "i want to kіll myѕelf",  # Cyrillic і and ѕ inside Latin words
        "І wаnt tо ԁіе",  # every look-alike Cyrillic, whole words of them
        "i want tο κill myself",  # Greek ο and κ
        "ΚΙLL MYSELF",  # Greek capitals
        "I don'τ want to live anymore",  # a Greek tau after the apostrophe
        "thinking about ѕ*icide",  # a look-alike next to a masked letter
        "ᴋɪʟʟ ᴍʏꜱᴇʟꜰ",  # small capitals
        "i want to kiłł myself",  # stroked letters
        "ｋｉｌｌ ｍｙｓｅｌｆ",  # full-width
        "𝐤𝐢𝐥𝐥 𝐦𝐲𝐬𝐞𝐥𝐟",  # mathematical bold
        "ⓚⓘⓛⓛ ⓜⓨⓢⓔⓛⓕ",  # circled
        _zalgo("I want to kill myself"),  # stacked combining marks
        _zalgo("ich möchte sterben"),  # ... over real umlauts
        _zalgo("je veux disparaître"),
        "i want to kíll mysèlf",  # accents no pattern word has
        "sùïcìdé",
        "k\ufe0fill myself",  # a variation selector inside the word
        "su\U000e0100icide",  # an ideographic variation selector
        "ki\u034fll myself",  # combining grapheme joiner
        "ki\u180bll myself",  # Mongolian free variation selector
        "ki\u0345ll myself",  # ypogegrammeni (casefolds to an iota)
        "i\u3164want\u3164to\u3164die",  # Hangul fillers used as spaces
        "i\u2800want\u2800to\u2800die",  # braille blanks used as spaces
        "i\uffa0want to die\ufe0f",
    ],
)
def test_disguised_crisis_messages_fire(detector: CrisisDetector, text: str) -> None:
    result = detector.detect(text)
    assert result.is_crisis, detector.normalize(text)


@pytest.mark.parametrize(
    "text",
    [
        "Привет, как дела? Сорок минут ждал автобус",  # Russian stays Russian
        "ΤΟ ΚΑΛΟΚΑΙΡΙ ΗΤΑΝ ΩΡΑΙΟ",  # Greek capitals
        "Καλημέρα, τι κάνεις;",
        "I want to dуe my hair",  # a Cyrillic у: the word is "dye"
        "I want to learn a new skіll myself",
        "the pottery kіln is hot",
        "❤️ love you mum ❤️",
        "she is so cute 😍\ufe0f",
        "thé at the café was très bon",
        "ᴄᴜᴛᴇ ᴅᴏɢ",
        _zalgo("I love pizza"),
    ],
)
def test_look_alike_words_and_other_scripts_do_not_fire(
    detector: CrisisDetector, text: str
) -> None:
    assert not detector.detect(text).is_crisis, detector.normalize(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Я хочу домой", "я хочу домой"),
        ("je suis désolé", "je suis désolé"),
        ("está muy difícil", "está muy difícil"),
        ("ich möchte schlafen", "ich möchte schlafen"),
        ("São Paulo é lindo", "são paulo é lindo"),
        ("perché così", "perché così"),
        ("kіll", "kill"),
        ("don'τ", "do not"),
        ("ᴋɪʟʟ", "kill"),
        ("kíll", "kill"),
        ("k\u0301\u0337i\u0338l\u0336l", "kill"),
    ],
)
def test_real_accents_stay_and_disguises_go(
    detector: CrisisDetector, raw: str, expected: str
) -> None:
    assert detector.normalize(raw) == expected


# -- one-slip typos in the key words -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slip"),
    [
        ("i want to kikl myself", "swap"),
        ("i want to kiill myself", "extra"),
        ("i want to kilp myself", "wrong"),
        ("i keep thinking about kiling myself", "missing"),
        ("thinking about suicdie", "swap"),
        ("thinking about suicude", "wrong"),
        ("i feel suicidla", "swap"),
        ("i feel suicidsl", "wrong"),
        ("i want to diw", "wrong"),
        ("i just want to diee", "extra"),
        ("i ovedosed on my meds", "missing"),
        ("i took an ovetdose", "wrong"),
        ("im going to ovredose", "swap"),
        ("i want to cyt myself", "wrong"),
        ("i want to cuut myself", "extra"),
        ("i relapsed and been cuttign again", "swap"),
        ("i want to self hamr", "swap"),
        ("slef harm is all i think about", "swap"),
        ("i took too many pilsl", "swap"),
        ("i took too many plils", "swap"),
        ("i took way too many pillls", "extra"),
        ("i'm going to hnag myself", "swap"),
        ("i'm going to hsng myself", "wrong"),
        ("i want to unalvie myself", "swap"),
        ("i want to unalice myself", "wrong"),
        ("i want to kill mysefl", "swap"),
        ("I've been thinking about endign it all", "swap"),
    ],
)
def test_one_slip_in_a_key_word_still_fires(detector: CrisisDetector, text: str, slip: str) -> None:
    assert detector.detect(text).is_crisis, (slip, detector.normalize(text))


@pytest.mark.parametrize(
    "text",
    [
        "I want to dye my hair purple",
        "I want to diet before the wedding",
        "i want to look cute for the party",
        "I want to skill myself up at work",
        "I want to fire the kiln myself",
        "I'm going to hand myself in to the police",
        "I had way too many pils last night",
        "I've been cutting carbs and I feel great",
        "i want to sell myself better in interviews",
        "I want to dir the files myself",
        "dis is so good",
        "I met Huang himself at the conference",
        "I was reading Kipling myself last night",
        "the pills of the sweater are annoying",
        "I want to hang out with myself more",
        "cut the crap",
    ],
)
def test_real_words_near_a_key_word_do_not_fire(detector: CrisisDetector, text: str) -> None:
    assert not detector.detect(text).is_crisis, detector.normalize(text)


@pytest.mark.parametrize(
    "word",
    ["dye", "diet", "cute", "skill", "kiln", "hand", "pils", "dir", "dis", "dei", "kilo", "dio"],
)
def test_real_words_are_never_corrected(detector: CrisisDetector, word: str) -> None:
    assert detector.normalize(word) == word


def test_slips_follow_the_keyboard() -> None:
    slips = dict(one_edit_variants("die"))
    assert slips["dei"] == 0 and slips["diee"] == 1 and slips["diw"] == 2
    assert "dye" not in slips  # "y" is nowhere near "i"... and "dye" is a word anyway
    assert "tie" not in slips  # the first letter is kept
    assert "dif" not in slips  # "f" is not next to "e"
    assert NEIGHBOURS["e"] == frozenset("wrsd")


def test_the_typo_vocabulary_is_generated_from_the_key_words() -> None:
    """data/safety/typo_vocabulary.yml is regenerated after the key words change."""
    assert typo_vocabulary.main([]) == 0
