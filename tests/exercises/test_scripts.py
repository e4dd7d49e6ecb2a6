"""Boundary scripts: the user's words tidied into a script, never rewritten; bad answers caught."""

from pathlib import Path

import pytest

from bot.content import ContentError
from bot.dialogue.texts import BUTTON_TITLE_MAX, TextBook, flat_spec, shorten
from bot.exercises import scripts as sc
from tests.conftest import BrokenCopy


@pytest.fixture(scope="module")
def rules() -> sc.Phrasing:
    return sc.load_phrasing()


def _parts(**overrides: str) -> dict[str, str]:
    parts = {
        "describe": "you cancelled our plans three times this month",
        "express": "I feel hurt",
        "assert": "please tell me by noon if you can't make it",
        "reinforce": "that way we both get to enjoy our evenings",
    }
    parts.update(overrides)
    return parts


# --- assembling -------------------------------------------------------------------------


def test_parts_come_out_in_dear_order_one_per_line(rules: sc.Phrasing) -> None:
    script = sc.assemble(_parts(), rules)
    assert script.text.splitlines() == [
        "You cancelled our plans three times this month.",
        "I feel hurt.",
        "Please tell me by noon if you can't make it.",
        "That way we both get to enjoy our evenings.",
    ]
    assert script.display == script.text
    assert not script.shortened


def test_a_bare_description_becomes_a_sentence_with_its_meaning_intact(
    rules: sc.Phrasing,
) -> None:
    script = sc.assemble(_parts(describe="he always cancels"), rules)
    assert script.sentences["describe"] == "He always cancels."


def test_an_empty_reinforce_is_left_out(rules: sc.Phrasing) -> None:
    for empty in ("", "   ", None):
        script = sc.assemble(_parts(reinforce=empty), rules)
        assert list(script.sentences) == ["describe", "express", "assert"]
        assert len(script.text.splitlines()) == 3
        assert not script.text.endswith("\n")


def test_emoji_are_kept_and_count_as_an_ending(rules: sc.Phrasing) -> None:
    script = sc.assemble(
        _parts(express="hurt and kind of invisible 😢", describe="you forgot again 🙃 twice"),
        rules,
    )
    assert script.sentences["express"] == "I feel hurt and kind of invisible 😢"
    assert script.sentences["describe"] == "You forgot again 🙃 twice."


def test_no_punctuation_and_lower_case_i_are_fixed(rules: sc.Phrasing) -> None:
    script = sc.assemble(
        _parts(
            describe="when i get home at 9 the dishes are still there",
            express="i'm tired of being the only one who cleans",
            reinforce="we'd both have a calmer kitchen",
        ),
        rules,
    )
    assert script.sentences["describe"] == "When I get home at 9 the dishes are still there."
    assert script.sentences["express"] == "I'm tired of being the only one who cleans."
    assert script.sentences["reinforce"] == "We'd both have a calmer kitchen."


def test_existing_end_punctuation_and_dangling_commas(rules: sc.Phrasing) -> None:
    assert sc.tidy_sentence("Really?!") == "Really?!"
    assert sc.tidy_sentence("and then he left,") == "And then he left."
    assert sc.tidy_sentence("I waited...") == "I waited..."
    assert sc.tidy_sentence("she said (again)") == "She said (again)."
    assert sc.tidy_sentence('"I need a break"') == "I need a break."
    assert sc.tidy_sentence("“I can't lend you money.”") == "I can't lend you money."
    assert sc.tidy_sentence("9 times out of 10 you're late") == "9 times out of 10 you're late."


def test_first_person_answers_are_kept_as_written(rules: sc.Phrasing) -> None:
    for answer in ("I feel taken for granted", "it makes me feel small", "my chest gets tight"):
        sentence = sc.express_sentence(answer, rules)
        assert sentence.rstrip(".").lower() == answer.lower()


def test_a_bare_feeling_becomes_an_i_statement(rules: sc.Phrasing) -> None:
    assert sc.express_sentence("hurt", rules) == "I feel hurt."
    assert (
        sc.express_sentence("Sad and a bit invisible", rules) == "I feel sad and a bit invisible."
    )
    assert sc.express_sentence("really taken for granted", rules) == (
        "I feel really taken for granted."
    )
    assert sc.express_sentence("feel ignored", rules) == "I feel ignored."
    assert sc.express_sentence("feeling stretched thin", rules) == "I'm feeling stretched thin."
    assert sc.express_sentence("like a doormat", rules) == "I feel like a doormat."


def test_a_feeling_about_someone_else_is_not_turned_into_nonsense(rules: sc.Phrasing) -> None:
    # No "I feel Mum never listens": only a leading feeling word gets "I feel".
    assert sc.express_sentence("Mum never listens", rules) == "Mum never listens."
    assert sc.express_sentence("it hurts", rules) == "It hurts."


def test_a_bare_request_verb_gets_a_clear_ask(rules: sc.Phrasing) -> None:
    assert sc.assert_sentence("stop calling me at work", rules) == (
        "I'm asking you to stop calling me at work."
    )
    assert sc.assert_sentence("Give me some space!!", rules) == (
        "I'm asking you to give me some space!!"
    )
    assert sc.assert_sentence("please stop calling me at work", rules) == (
        "Please stop calling me at work."
    )
    assert sc.assert_sentence("I'm not coming for Christmas this year", rules) == (
        "I'm not coming for Christmas this year."
    )


def test_questions_end_with_a_question_mark(rules: sc.Phrasing) -> None:
    assert sc.assert_sentence("could you call before you visit", rules) == (
        "Could you call before you visit?"
    )
    assert sc.assert_sentence("do not call after ten", rules) == "Do not call after ten."


def test_very_long_parts_are_kept_whole_but_shortened_on_screen(rules: sc.Phrasing) -> None:
    long_describe = " ".join(["you borrowed money and said you would pay it back"] * 40)
    assert len(long_describe) > rules.part_display_chars
    script = sc.assemble(_parts(describe=long_describe), rules)
    assert script.shortened
    full, shown = script.text.splitlines()[0], script.display.splitlines()[0]
    assert full.startswith("You borrowed money") and full.endswith("back.")
    assert len(full) == len(long_describe) + 1
    assert len(shown) <= rules.part_display_chars
    assert shown.endswith("…")
    # The other parts are untouched.
    assert script.display.splitlines()[1:] == script.text.splitlines()[1:]


def test_shorten_cuts_at_a_word_boundary() -> None:
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("short", 12) == "short"
    assert len(shorten("x" * 50, 10)) == 10


# --- reading answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "answer", "problem"),
    [
        ("describe", "", "empty"),
        ("describe", "   ", "empty"),
        ("describe", "mum", "too_short"),
        ("assert", "No", "too_short"),
        ("describe", "what do you mean?", "question_back"),
        ("express", "like what", "question_back"),
        ("assert", "Can you give me an example?", "question_back"),
        ("describe", "example?", "question_back"),
        ("express", "idk", "unsure"),
        ("assert", "I don't know", "unsure"),
        ("describe", "??", "unsure"),
        ("reinforce", "skip", "skip"),
        ("reinforce", "nothing comes to mind", "skip"),
        ("reinforce", "I'm not sure", "unsure"),
        ("describe", "🙂🙂", "empty"),
        ("express", "😢", None),
        ("express", "hurt", None),
        ("describe", "I don't understand why he always cancels", None),
        ("describe", "he always cancels", None),
    ],
)
def test_answers_that_need_a_second_try(
    rules: sc.Phrasing, part: str, answer: str, problem: str | None
) -> None:
    assert sc.answer_problem(part, answer, rules) == problem


def test_an_answer_over_the_journal_limit_is_too_long(rules: sc.Phrasing) -> None:
    assert sc.answer_problem("describe", "a" * (rules.part_max_chars + 1), rules) == "too_long"
    assert sc.answer_problem("describe", "ab " * (rules.part_max_chars // 3), rules) is None


def test_phrasing_limit_matches_the_journal() -> None:
    from bot.journal.inputs import SCRIPT_PART_LIMIT

    assert sc.load_phrasing().part_max_chars == SCRIPT_PART_LIMIT


@pytest.mark.parametrize(
    ("words", "part"),
    [
        ("change the feeling part", "express"),
        ("edit the request", "assert"),
        ("I want to change the facts", "describe"),
        ("redo the situation", "describe"),
        ("let me rewrite what I'm asking for", "assert"),
        ("change the good for both bit", "reinforce"),
        ("change what matters most", "priority"),
        ("edit my script", None),
    ],
)
def test_which_part_the_user_wants_to_change(
    rules: sc.Phrasing, words: str, part: str | None
) -> None:
    assert sc.which_part(words, rules) == part


def test_priority_from_buttons_and_words(rules: sc.Phrasing) -> None:
    payloads = {"relationship": "The relationship", "self_respect": "My self-respect"}
    assert sc.parse_priority("The relationship", rules, payloads) == "relationship"
    assert sc.parse_priority("My self-respect", rules, payloads) == "self_respect"
    assert sc.parse_priority("self respect i think", rules, payloads) == "self_respect"
    assert sc.parse_priority("keeping the relationship", rules, payloads) == "relationship"
    assert sc.parse_priority("both", rules, payloads) is None
    assert sc.parse_priority("", rules, payloads) is None


def test_title_suggestion_and_cleaning(rules: sc.Phrasing) -> None:
    title = sc.suggest_title("my mum expects me home every single christmas", rules, "Fallback")
    assert title == "My mum expects me home…"
    assert len(title) <= rules.title_suggestion_chars
    assert sc.suggest_title("🙂", rules, "Fallback") == "Fallback"
    assert sc.clean_title("  Mum   and Christmas ", rules) == "Mum and Christmas"
    assert sc.clean_title("🎄", rules) == "🎄"
    assert sc.clean_title("...", rules) is None
    assert len(sc.clean_title("word " * 60, rules)) <= rules.title_max_chars
    assert sc.wants_suggestion("you choose", rules)
    assert sc.wants_suggestion("idk", rules)
    assert not sc.wants_suggestion("Mum and Christmas", rules)


# --- content is checked at load -------------------------------------------------------------


def test_the_shipped_texts_load_and_buttons_fit() -> None:
    texts = sc.load_texts()
    for key in flat_spec(sc.TEXT_SPEC):
        if key.startswith("buttons.") and "{" not in texts._texts[key]:
            assert len(texts.text(key)) <= BUTTON_TITLE_MAX


def test_a_missing_text_names_the_file_and_key(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(sc.TEXTS_FILE, '  save: "Save it"\n', "")
    with pytest.raises(ContentError) as info:
        sc.load_texts(broken)
    assert str(broken) in str(info.value)
    assert "buttons.save" in str(info.value)


def test_a_wrong_placeholder_is_refused(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(sc.TEXTS_FILE, "{title}”. You can", "{name}”. You can")
    with pytest.raises(ContentError, match=r"save\.saved.*unknown placeholder\(s\): name"):
        sc.load_texts(broken)


def test_a_bare_yes_in_a_word_list_is_reported(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(sc.PHRASING_FILE, 'ok, okay, "yes",', "ok, okay, yes,")
    with pytest.raises(ContentError, match=r"answers\.unsure\[\d+\].*quote yes/no"):
        sc.load_phrasing(broken)


def test_a_too_long_button_title_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text('buttons:\n  go: "' + "x" * 31 + '"\n', encoding="utf-8")
    with pytest.raises(ContentError, match="buttons.go"):
        TextBook.load(path, {"buttons.go": frozenset()})


def test_a_saved_script_in_the_role_plays_shape() -> None:
    script = sc.roleplay_script(
        title="Mum and Christmas",
        describe="mum expects me home every christmas",
        express="stretched thin",
        assertion="I'm not coming this year",
        reinforce=sc.SKIPPED_PART,
    )
    assert script == {
        "title": "Mum and Christmas",
        "describe": "Mum expects me home every christmas.",
        "express": "I feel stretched thin.",
        "assert_": "I'm not coming this year.",
        "reinforce": "",
    }
    with_reinforce = sc.roleplay_script(
        title="t", describe="a b", express="c", assertion="d e", reinforce="we both win"
    )
    assert with_reinforce["reinforce"] == "We both win."
