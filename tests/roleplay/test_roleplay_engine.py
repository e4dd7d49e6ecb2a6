"""The engine's flows: backing off, running out of moves, stop, hostility, scripts, debrief."""

from __future__ import annotations

import json

import pytest

from bot import roleplay
from bot.roleplay.scenarios import load_persona_lines, load_scenarios

FIRM_NO = "No, I can't do that."
HEDGE = "Maybe, I'll see what I can do."


def _play(state: dict, replies: list[str]) -> list[roleplay.Turn]:
    turns = []
    for reply in replies:
        turn = roleplay.respond(state, reply)
        turns.append(turn)
        state = turn.state
        if turn.over:
            break
    return turns


def test_start_gives_an_intro_and_the_opening_request() -> None:
    state, lines = roleplay.start("cover_shift", "firm", rng_seed=1)
    scenario = load_scenarios()["cover_shift"]
    assert lines[0].startswith("Coach:") and "your coworker Sam" in lines[0]
    assert lines[1] == f"Sam: {scenario.opening}"
    assert json.loads(json.dumps(state)) == state
    assert state["log"] == [] and not state["over"]


@pytest.mark.parametrize(("difficulty", "nos"), [("gentle", 1), ("firm", 2), ("relentless", 3)])
def test_persona_backs_off_after_firm_nos_sooner_when_gentle(difficulty: str, nos: int) -> None:
    state, _ = roleplay.start("lend_money", difficulty, rng_seed=3)
    turns = _play(state, [FIRM_NO] * 10)
    assert len(turns) == nos
    assert all(t.assessment.label == "assertive" for t in turns)
    assert turns[-1].over and turns[-1].end_reason == "backed_off"
    back_off = load_scenarios()["lend_money"].back_off
    assert any(turns[-1].persona_lines[0] == f"Jordan: {line}" for line in back_off)
    assert all(not t.over for t in turns[:-1])


def test_hedges_run_through_every_move_then_the_role_play_ends() -> None:
    scenario = load_scenarios()["holiday_guilt"]
    state, _ = roleplay.start("holiday_guilt", "relentless", rng_seed=5)
    turns = _play(state, [HEDGE] * 20)
    assert len(turns) == len(scenario.moves) + 1
    for turn, move in zip(turns, scenario.moves, strict=False):
        assert turn.assessment.label == "passive"
        assert turn.persona_lines[0].endswith(move.line)  # pushes on, move after move
        lead_ins = load_persona_lines().lead_ins["after_hedge"]
        assert any(lead in turn.persona_lines[0] for lead in lead_ins)
    assert turns[-1].over and turns[-1].end_reason == "out_of_moves"
    assert roleplay.debrief(turns[-1].state).outcome == "maybe"


def test_a_maybe_resets_the_count_of_nos() -> None:
    state, _ = roleplay.start("cover_shift", "firm", rng_seed=2)
    turns = _play(state, [FIRM_NO, HEDGE, FIRM_NO, FIRM_NO])
    assert [t.over for t in turns] == [False, False, False, True]


def test_a_no_buried_in_reasons_counts_half() -> None:
    buried = "I'm so sorry, I can't, work is mad and my mum is visiting and I'm exhausted."
    state, _ = roleplay.start("cover_shift", "gentle", rng_seed=2)
    turns = _play(state, [buried, buried])
    assert turns[0].assessment.label == "partial" and not turns[0].over
    assert turns[1].over and turns[1].end_reason == "backed_off"
    assert "reason" in turns[0].coach_line


def test_giving_in_makes_the_persona_ask_for_more() -> None:
    state, _ = roleplay.start("friend_favour", "firm", rng_seed=4)
    turn = roleplay.respond(state, "ugh fine")
    on_give_in = load_scenarios()["friend_favour"].on_give_in
    assert turn.persona_lines[0].removeprefix("Maya: ") in on_give_in
    assert "change your answer" in turn.coach_line


def test_a_hostile_reply_gets_a_civil_answer_and_a_kind_tip() -> None:
    state, _ = roleplay.start("partner_phone", "firm", rng_seed=6)
    turn = roleplay.respond(state, "No, and you're being ridiculous.")
    civil = load_scenarios()["partner_phone"].civil
    assert turn.assessment.label == "aggressive"
    assert any(turn.persona_lines[0].startswith(f"Alex: {line}") for line in civil)
    assert not turn.over
    assert turn.coach_line.startswith("Coach:")
    # The tip names the GIVE skill and quotes the words that came across as an attack.
    assert "Gentle (GIVE)" in turn.coach_line
    assert '"you\'re being ridiculous"' in turn.coach_line
    assert roleplay.debrief(turn.state).counts["hostile"] == 1


def test_every_turn_has_exactly_one_coach_line_last() -> None:
    state, _ = roleplay.start("weekend_work", "relentless", rng_seed=9)
    for turn in _play(state, ["I guess", "No.", "ugh fine", "Oh great, what a surprise", "No."]):
        assert turn.messages[-1] == turn.coach_line
        assert turn.coach_line.startswith("Coach: ")
        assert sum(m.startswith("Coach:") for m in turn.messages) == 1


def test_stop_ends_the_practice_and_later_replies_are_not_assessed() -> None:
    state, _ = roleplay.start("group_trip", "firm", rng_seed=1)
    state = roleplay.respond(state, HEDGE).state
    stopped = roleplay.stop(state)
    assert stopped.over and stopped.end_reason == "stopped"
    assert stopped.persona_lines == [] and stopped.coach_line.startswith("Coach:")
    after = roleplay.respond(stopped.state, "No!")
    assert after.assessment is None and after.over
    assert after.state["log"] == stopped.state["log"]
    assert roleplay.debrief(stopped.state).outcome == "stopped"


def test_stop_before_any_reply() -> None:
    state, _ = roleplay.start("group_trip", "firm", rng_seed=1)
    report = roleplay.debrief(roleplay.stop(state).state)
    assert report.outcome == "no_replies"
    assert report.counts["replies"] == 0
    assert report.strongest_reply is None


def test_debrief_counts_and_quotes_the_strongest_reply() -> None:
    replies = [
        "Maybe, I don't know.",
        "Sorry, sorry, I can't, I feel awful.",
        "Oh sure, because I have nothing better to do.",
        "I won't be doing it.",
    ]
    state, _ = roleplay.start("bake_sale", "relentless", rng_seed=8)
    turns = _play(state, replies)
    report = roleplay.debrief(turns[-1].state)
    assert report.counts == {
        "clear_no": 2,
        "apology": 1,
        "over_justification": 0,
        "hedge": 1,
        "hostile": 1,
        "replies": 4,
    }
    assert report.strongest_reply == "I won't be doing it."
    assert report.strongest_label == "assertive"
    assert any(line == 'Your strongest line: "I won\'t be doing it."' for line in report.lines)
    assert report.summary in report.lines[0]


def test_state_keeps_only_the_strongest_and_the_weakest_reply_texts() -> None:
    state, _ = roleplay.start("roommate_guest", "relentless", rng_seed=2)
    replies = ["I suppose so, secret-one", "No thanks, secret-two.", "ugh fine three", "No."]
    turns = _play(state, replies)
    dumped = json.dumps(turns[-1].state)
    assert "secret-two" in dumped  # the strongest, quoted back
    assert "secret-one" in dumped  # the weakest (a maybe beats a plain yes), rewritten
    assert "three" not in dumped
    assert all(set(t) == {"label", "features", "stance"} for t in turns[-1].state["log"])


def test_state_survives_a_json_round_trip_and_replays_the_same() -> None:
    state, _ = roleplay.start("dog_sitting", "firm", rng_seed=11)
    state = roleplay.respond(state, HEDGE).state
    restored = json.loads(json.dumps(state))
    assert roleplay.respond(restored, FIRM_NO).messages == roleplay.respond(state, FIRM_NO).messages


def test_respond_does_not_change_the_state_it_was_given() -> None:
    state, _ = roleplay.start("dog_sitting", "firm", rng_seed=11)
    before = json.dumps(state, sort_keys=True)
    roleplay.respond(state, FIRM_NO)
    assert json.dumps(state, sort_keys=True) == before


def test_practising_your_own_script(script: dict) -> None:
    state, lines = roleplay.start_script(script, "firm", rng_seed=3)
    assert script["assert_"] in lines[0]
    assert lines[1].startswith("Coworker Sam: ")
    turns = _play(state, [script["assert_"], "I hear you, and it's still no."])
    assert [t.assessment.label for t in turns] == ["assertive", "assertive"]
    assert turns[-1].over and turns[-1].end_reason == "backed_off"
    assert json.loads(json.dumps(turns[-1].state))["script"]["assert_"] == script["assert_"]
    assert roleplay.debrief(turns[-1].state).outcome == "backed_off"


def test_surprise_is_repeatable_with_a_seed() -> None:
    first = roleplay.surprise(rng_seed=42)
    assert first == roleplay.surprise(rng_seed=42)
    picks = {(roleplay.surprise(rng_seed=n)[0]["scenario"]) for n in range(30)}
    assert len(picks) > 3
    assert picks <= {s.id for s in roleplay.list_scenarios()}


def test_list_scenarios_and_difficulties_for_the_menu() -> None:
    menu = roleplay.list_scenarios()
    assert len(menu) >= 12
    assert all(s.id and len(s.title) <= 30 for s in menu)
    assert [d.id for d in roleplay.list_difficulties()] == ["gentle", "firm", "relentless"]


@pytest.mark.parametrize(
    "bad",
    [None, {}, {"v": 99}, {"v": 1, "scenario": "cover_shift"}],
)
def test_a_foreign_state_is_refused_clearly(bad) -> None:
    with pytest.raises(ValueError, match="role-play state"):
        roleplay.respond(bad, "no")


def test_unknown_scenario_or_difficulty_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        roleplay.start("nope", "firm")
    with pytest.raises(ValueError, match="unknown difficulty"):
        roleplay.start("cover_shift", "extreme")


def test_the_persona_s_last_words_are_kept_to_say_again() -> None:
    state, lines = roleplay.start("cover_shift", "relentless", rng_seed=2)
    assert roleplay.last_words(state) == [lines[1]]
    turn = roleplay.respond(state, HEDGE)
    assert roleplay.last_words(turn.state) == turn.persona_lines
    assert turn.coach_line not in roleplay.last_words(turn.state)
    # A state an older engine wrote (version 1 kept no words), or not a state at all: nothing
    # to say again, and the practice still goes on.
    dropped = ("said", "undo", "retries", "worst")
    older = {k: v for k, v in turn.state.items() if k not in dropped} | {"v": 1}
    assert roleplay.last_words(older) == []
    assert roleplay.last_words(None) == []
    assert roleplay.respond(older, FIRM_NO).persona_lines
