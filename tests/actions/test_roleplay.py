"""The role-play actions against the real engine (spaCy assessor) and a temporary SQLite journal.

Trackers are built from events as Rasa sends them: the form validator sees the reply as the
slot event after the user's message, exactly as the form hands it over.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import roleplay as actions
from bot import roleplay
from bot.journal import repository, session_scope
from bot.roleplay import choice
from bot.roleplay.texts import texts
from tests.conftest import journal_kept_for, make_tracker, user_who_agreed

REPO = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((REPO / "domain" / "roleplay.yml").read_text())
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"
TEXTS = texts()


# -- helpers ------------------------------------------------------------------------------


journal_db = journal_kept_for("rest", "ana")


def _slots(events: list) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def _texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def _pattern(key: str) -> re.Pattern[str]:
    """A text of data/roleplay/texts.yml as a pattern, each placeholder a named group."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(TEXTS.template(key)):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>.*)")
    return re.compile("".join(parts), re.DOTALL)


def _key_of(message: dict[str, Any]) -> str:
    """The domain response, or the key of the text, a message was made from ("" for none)."""
    if message.get("response"):
        return message["response"]
    text = message.get("text") or ""
    return next((key for key in TEXTS.keys() if _pattern(key).fullmatch(text)), "")


def _responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [_key_of(m) for m in dispatcher.messages]


def _message(dispatcher: CollectingDispatcher, key: str) -> dict[str, Any]:
    """The message made from the text ``key``, with the values its placeholders were given."""
    for message in dispatcher.messages:
        found = _pattern(key).fullmatch(message.get("text") or "")
        if found:
            return {**message, **found.groupdict()}
    raise AssertionError(f"no message from {key!r}")


def _user_event(text: str, intent: str, entities: list | None = None) -> dict[str, Any]:
    parse = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        "text": text,
    }
    return {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest"}


def _slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


async def _validate(
    validator: Any,
    slot: str,
    text: str,
    slots: dict[str, Any],
    *,
    form: str,
    intent: str = "deny",
    sender: str = "ana",
) -> tuple[dict[str, Any], CollectingDispatcher]:
    """Run a form validator on one user message, as the form hands it over."""
    events = [_user_event(text, intent), _slot_event(slot, text)]
    tracker = make_tracker(
        {**slots, slot: text},
        sender_id=sender,
        intent=intent,
        text=text,
        active_loop=form,
        requested_slot=slot,
        events=events,
    )
    dispatcher = CollectingDispatcher()
    result = await validator.run(dispatcher, tracker, DOMAIN)
    return _slots(result), dispatcher


async def _set_up(
    slot: str, typed: str, slots: dict[str, Any] | None = None, intent: str = "start_roleplay"
) -> tuple[dict[str, Any], CollectingDispatcher]:
    """The set-up form's validator on what the user typed or tapped for ``slot``."""
    return await _validate(
        actions.ValidateRoleplaySetupForm(),
        slot,
        typed,
        slots or {},
        form="roleplay_setup_form",
        intent=intent,
    )


class Practice:
    """One role-play as the dialogue runs it: start, replies through the validator, the end."""

    def __init__(self, sender: str = "ana") -> None:
        self.sender = sender
        self.slots: dict[str, Any] = {}

    def start(self, scenario: str, difficulty: str) -> CollectingDispatcher:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            {"roleplay_scenario": scenario, "roleplay_difficulty": difficulty},
            sender_id=self.sender,
        )
        self.slots.update(_slots(actions.ActionStartRoleplay().run(dispatcher, tracker, DOMAIN)))
        return dispatcher

    async def reply(self, text: str, intent: str = "deny") -> CollectingDispatcher:
        changed, dispatcher = await _validate(
            actions.ValidateRoleplayForm(),
            "roleplay_reply",
            text,
            self.slots,
            form="roleplay_form",
            intent=intent,
            sender=self.sender,
        )
        self.slots.update(changed)
        return dispatcher

    def end(self, intent: str = "deny") -> CollectingDispatcher:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(self.slots, sender_id=self.sender, intent=intent)
        self.slots.update(_slots(actions.ActionEndRoleplay().run(dispatcher, tracker, DOMAIN)))
        return dispatcher


def _saved(sender: str = "ana") -> list:
    with session_scope() as session:
        user = repository.find_user(session, "rest", sender)
        return repository.list_roleplay_sessions(session, user) if user else []


def _save_script(sender: str = "ana", title: str = "Weekend shifts") -> int:
    with session_scope() as session:
        user = user_who_agreed(session, "rest", sender)
        script = repository.save_boundary_script(
            session,
            user,
            title=title,
            describe="You've asked me to cover three weekends in a row",
            express="I feel worn out",
            assertion="I'm not covering any more weekend shifts this month",
            reinforce="I'll be a better teammate rested",
            priority="self_respect",
        )
        return script.id


# -- a whole role-play --------------------------------------------------------------------


async def test_a_whole_role_play_until_the_persona_gives_up(journal_db: str) -> None:
    practice = Practice()
    opening = practice.start("cover_shift", "firm")
    assert _texts(opening)[0].startswith("Coach: You're talking to your coworker Sam (Firm)")
    assert _texts(opening)[1].startswith("Sam: ")
    assert practice.slots["roleplay_source"] == "cover_shift"

    first = await practice.reply("No, I can't this Saturday.")
    persona, coach = _texts(first)[:-1], _texts(first)[-1]
    assert persona and all(line.startswith("Sam: ") for line in persona)
    assert coach.startswith("Coach: ")
    assert practice.slots["roleplay_reply"] is None  # still listening
    assert practice.slots["roleplay_replies"] == ["No, I can't this Saturday."]

    second = await practice.reply("No. I said I can't.")
    assert _texts(second)[0].startswith("Sam: ")
    assert _texts(second)[-1].startswith("Coach: ")
    # The practice is over: the reply stays, which completes the form.
    assert practice.slots["roleplay_reply"] == "No. I said I can't."
    assert practice.slots["roleplay_state"]["end"] == "backed_off"

    end = practice.end(intent="deny")
    assert _responses(end) == [
        "debrief",
        "saved",
        "next",
    ]
    debrief = _message(end, "debrief")["debrief"]
    assert "Sam backed off" in debrief
    assert "Clear no's: 2" in debrief
    assert "Your strongest line:" in debrief
    assert "Nothing to rewrite." in debrief
    # Everything about this practice is cleared for the next one.
    assert practice.slots["roleplay_state"] is None
    assert practice.slots["roleplay_replies"] is None

    [saved] = _saved()
    assert (saved.scenario_id, saved.difficulty, saved.outcome) == (
        "cover_shift",
        "firm",
        "backed_off",
    )
    assert [r.text for r in saved.replies] == ["No, I can't this Saturday.", "No. I said I can't."]
    assert [r.label for r in saved.replies] == ["assertive", "assertive"]
    assert saved.replies[0].features["clear_no"] is True
    assert set(saved.replies[0].features) == set(roleplay.FEATURES)


async def test_the_next_round_offers_a_harder_level(journal_db: str) -> None:
    practice = Practice()
    practice.start("cover_shift", "gentle")
    await practice.reply("No, I can't.")
    end = practice.end(intent="deny")
    payloads = [b["payload"] for b in _message(end, "next")["buttons"]]
    harder = json.loads(payloads[1].removeprefix("/start_roleplay"))
    assert harder == {"roleplay_scenario": "cover_shift", "roleplay_difficulty": "firm"}
    assert payloads[0] == "/start_roleplay"
    assert payloads[-1] == "/ask_roleplay_progress"


async def test_stop_mid_way_gives_the_debrief_and_saves(journal_db: str) -> None:
    practice = Practice()
    practice.start("lend_money", "relentless")
    await practice.reply("Sorry, I really can't right now, money is tight and I have bills.")
    assert practice.slots["roleplay_reply"] is None
    before = practice.slots["roleplay_state"]

    stop = await practice.reply("stop", intent="stop_exercise")
    assert stop.messages == []
    assert practice.slots["requested_slot"] is None  # the form ends here
    assert practice.slots["roleplay_state"] == before  # "stop" is not a reply
    assert practice.slots["roleplay_replies"] == [
        "Sorry, I really can't right now, money is tight and I have bills."
    ]

    end = practice.end(intent="stop_exercise")
    assert _texts(end)[0].startswith("Coach: Okay, we'll stop here")
    debrief = _message(end, "debrief")["debrief"]
    assert "You stopped the practice" in debrief
    assert "saved" in _responses(end)

    [saved] = _saved()
    assert saved.outcome == "stopped"
    assert [r.text for r in saved.replies] == [
        "Sorry, I really can't right now, money is tight and I have bills."
    ]
    assert saved.replies[0].features["apology"] is True


@pytest.mark.parametrize("text", ["not this time", "NO. STOP BEGGING FOR MONEY.", "maybe later"])
async def test_a_no_or_a_maybe_read_as_stop_is_still_a_reply(journal_db: str, text: str) -> None:
    # NLU's stop_exercise covers "not now" and "maybe later": said to the persona, they are
    # the practice itself.
    practice = Practice()
    practice.start("lend_money", "relentless")
    dispatcher = await practice.reply(text, intent="stop_exercise")
    assert _texts(dispatcher)[0].startswith("Jordan: ")
    assert _texts(dispatcher)[-1].startswith("Coach: ")
    assert practice.slots["roleplay_replies"] == [text]
    assert "requested_slot" not in practice.slots


async def test_stop_before_any_reply_saves_nothing(journal_db: str) -> None:
    practice = Practice()
    practice.start("cover_shift", "firm")
    await practice.reply("pause", intent="stop_exercise")
    assert practice.slots["requested_slot"] is None
    end = practice.end(intent="stop_exercise")
    assert "You stopped before replying" in _message(end, "debrief")["debrief"]
    assert "saved" not in _responses(end)
    assert _saved() == []


async def test_a_button_from_an_old_message_is_not_a_reply(journal_db: str) -> None:
    practice = Practice()
    practice.start("cover_shift", "firm")
    before = practice.slots["roleplay_state"]
    dispatcher = await practice.reply("/start_values_exercise", intent="start_values_exercise")
    assert _responses(dispatcher) == ["hints.finish_this_first"]
    assert practice.slots["roleplay_reply"] is None
    assert practice.slots["roleplay_state"] == before
    assert practice.slots["roleplay_replies"] == []


async def test_a_reply_longer_than_the_journal_keeps_is_asked_again(journal_db: str) -> None:
    practice = Practice()
    practice.start("cover_shift", "firm")
    dispatcher = await practice.reply("no " * 2000)
    assert _responses(dispatcher) == ["hints.reply_too_long"]
    assert practice.slots["roleplay_state"]["log"] == []


async def test_a_lost_state_ends_the_form_kindly(journal_db: str) -> None:
    changed, dispatcher = await _validate(
        actions.ValidateRoleplayForm(),
        "roleplay_reply",
        "No.",
        {"roleplay_state": None},
        form="roleplay_form",
    )
    assert _responses(dispatcher) == ["lost"]
    assert changed["roleplay_reply"] == "No."  # a filled slot ends the form


# -- crisis -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rasa_domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(
        [str(REPO / "domain" / "_shared.yml"), str(REPO / "domain" / "roleplay.yml")]
    )


async def _extracted(rasa_domain: Any, text: str, intent: str) -> dict[str, Any]:
    """What Rasa's own slot extraction takes from a message while the role-play listens."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import ActiveLoop, UserUttered
    from rasa.shared.core.events import SlotSet as RasaSlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events(
        "ana",
        [
            ActiveLoop("roleplay_form"),
            RasaSlotSet("requested_slot", "roleplay_reply"),
            UserUttered(text, intent={"name": intent, "confidence": 1.0}),
        ],
        slots=rasa_domain.slots,
    )
    events = await ActionExtractSlots(None).run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(rasa_domain.responses),
        tracker,
        rasa_domain,
    )
    return {e.key: e.value for e in events}


@pytest.mark.parametrize(
    ("text", "intent"),
    [("I don't want to be alive anymore", "crisis"), ("why are you asking this?", "ask_why")],
)
async def test_crisis_and_why_are_never_taken_as_a_reply(
    rasa_domain: Any, text: str, intent: str
) -> None:
    assert "roleplay_reply" not in await _extracted(rasa_domain, text, intent)


# "stop" reaches the validator, which tells a plain stop from a no (tests above).
@pytest.mark.parametrize(
    ("text", "intent"), [("no", "deny"), ("fine", "affirm"), ("not now", "stop_exercise")]
)
async def test_a_no_or_a_fine_is_a_reply_to_the_persona(
    rasa_domain: Any, text: str, intent: str
) -> None:
    assert (await _extracted(rasa_domain, text, intent))["roleplay_reply"] == text


async def test_a_crisis_message_mid_role_play_is_never_recorded(
    journal_db: str, rasa_domain: Any
) -> None:
    practice = Practice()
    practice.start("cover_shift", "relentless")
    await practice.reply("No, I can't this weekend.")
    crisis = "honestly I want to kill myself"
    # Rasa's extraction refuses the message, so the validator never sees it ...
    assert "roleplay_reply" not in await _extracted(rasa_domain, crisis, "crisis")
    # ... and the crisis rule deactivates the form: no debrief, nothing saved, and the next
    # practice starts from a clean slate.
    assert len(practice.slots["roleplay_state"]["log"]) == 1
    assert crisis not in json.dumps(practice.slots)
    assert _saved() == []
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(practice.slots, text="/start_roleplay", intent="start_roleplay")
    cleared = _slots(actions.ActionPrepareRoleplay().run(dispatcher, tracker, DOMAIN))
    assert cleared["roleplay_state"] is None and cleared["roleplay_replies"] is None


async def test_a_crisis_diet_missed_never_reaches_the_persona(journal_db: str) -> None:
    practice = Practice()
    practice.start("holiday_guilt", "firm")
    await practice.reply("No, I'm staying home this year.")
    # Classified as something harmless, so the form takes it: the detector is the floor.
    dispatcher = await practice.reply("honestly might just kms tonight", intent="nlu_fallback")
    assert _responses(dispatcher) == ["utter_crisis_resources"]
    assert not any(text.startswith(("Mum:", "Coach:")) for text in _texts(dispatcher))
    assert practice.slots["requested_slot"] is None  # the form ends at once
    assert practice.slots["roleplay_state"] is None
    assert practice.slots["roleplay_replies"] is None
    # The form's end brings no debrief and stores nothing.
    end = practice.end(intent="nlu_fallback")
    assert end.messages == []
    assert _saved() == []


def test_every_free_text_mapping_has_the_crisis_guard() -> None:
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot["mappings"]:
            if mapping["type"] == "from_text":
                guarded = {"crisis", "crisis_check_in", "ask_why"}
                if name != "roleplay_reply":  # its validator tells "stop" from a no (domain)
                    guarded.add("stop_exercise")
                assert guarded <= set(mapping["not_intent"]), name
                assert mapping["conditions"], name  # never outside its own form


# -- choosing -----------------------------------------------------------------------------


def test_the_start_message_can_already_name_the_person() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="can you play my pushy coworker", intent="start_roleplay")
    slots = _slots(actions.ActionPrepareRoleplay().run(dispatcher, tracker, DOMAIN))
    assert slots["roleplay_scenario"] == "cover_shift"
    assert slots["roleplay_difficulty"] is None
    assert slots["roleplay_ready"] is False

    tracker = make_tracker(text="let's role-play with my partner", intent="start_roleplay")
    slots = _slots(actions.ActionPrepareRoleplay().run(dispatcher, tracker, DOMAIN))
    assert slots["roleplay_scenario"] is None
    assert set(slots["roleplay_matches"]) == {"partner_phone", "partner_plans"}

    tracker = make_tracker(text="/start_roleplay", intent="start_roleplay")
    slots = _slots(actions.ActionPrepareRoleplay().run(dispatcher, tracker, DOMAIN))
    assert slots["roleplay_scenario"] is None and slots["roleplay_matches"] is None


def test_a_harder_round_button_keeps_both_choices() -> None:
    entities = [
        {"entity": "roleplay_scenario", "value": "cover_shift"},
        {"entity": "roleplay_difficulty", "value": "relentless"},
    ]
    tracker = make_tracker(text="/start_roleplay{...}", intent="start_roleplay", entities=entities)
    slots = _slots(actions.ActionPrepareRoleplay().run(CollectingDispatcher(), tracker, DOMAIN))
    assert (slots["roleplay_scenario"], slots["roleplay_difficulty"]) == (
        "cover_shift",
        "relentless",
    )


def test_the_scenario_question_is_a_phone_sized_page() -> None:
    seen: list[str] = []
    for page in range(3):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker({"roleplay_page": page})
        actions.ActionAskRoleplayScenario().run(dispatcher, tracker, DOMAIN)
        [message] = dispatcher.messages
        assert _key_of(message) == "ask.roleplay_scenario"
        buttons = message["buttons"]
        assert len(buttons) <= choice.PAGE_SIZE + 2
        assert all(len(b["title"]) <= 30 for b in buttons)
        assert [b["title"] for b in buttons[-2:]] == ["Show me others", "Surprise me"]
        for button in buttons[:-2]:
            entities = json.loads(button["payload"].removeprefix("/start_roleplay"))
            seen.append(entities["roleplay_scenario"])
    assert sorted(seen) == sorted(s.id for s in roleplay.list_scenarios())


def test_matching_scenarios_are_offered_instead_of_the_page() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"roleplay_matches": ["partner_phone", "partner_plans"]})
    actions.ActionAskRoleplayScenario().run(dispatcher, tracker, DOMAIN)
    [message] = dispatcher.messages
    assert _key_of(message) == "ask.roleplay_scenario_matches"
    assert [b["title"] for b in message["buttons"][:2]] == [
        "Checking your phone",
        "Dropping your plans",
    ]


def test_the_difficulty_question_explains_each_level() -> None:
    dispatcher = CollectingDispatcher()
    actions.ActionAskRoleplayDifficulty().run(dispatcher, make_tracker(), DOMAIN)
    message = _message(dispatcher, "ask.roleplay_difficulty")
    assert "Relentless: Uses every trick." in message["levels"]
    assert [b["title"] for b in message["buttons"]] == [
        "Gentle",
        "Firm",
        "Relentless",
        "Surprise me",
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cover_shift", {"roleplay_scenario": "cover_shift"}),
        ("Covering a shift", {"roleplay_scenario": "cover_shift"}),
        ("the coworker one", {"roleplay_scenario": "cover_shift"}),
        ("my mum", {"roleplay_scenario": "holiday_guilt"}),
        ("2", {"roleplay_scenario": roleplay.list_scenarios()[1].id}),
        ("more", {"roleplay_scenario": None, "roleplay_page": 1}),
        (
            "partners",
            {"roleplay_scenario": None, "roleplay_matches": ["partner_phone", "partner_plans"]},
        ),
    ],
)
async def test_typed_and_tapped_scenario_choices(typed: str, expected: dict) -> None:
    changed, _ = await _set_up("roleplay_scenario", typed)
    assert {key: changed[key] for key in expected} == expected


async def test_surprise_me_picks_the_person_and_the_level() -> None:
    changed, _ = await _set_up("roleplay_scenario", "surprise me")
    assert changed["roleplay_scenario"] in {s.id for s in roleplay.list_scenarios()}
    assert changed["roleplay_difficulty"] in {"gentle", "firm", "relentless"}


async def test_an_unclear_scenario_is_asked_again_with_a_hint() -> None:
    changed, dispatcher = await _set_up("roleplay_scenario", "blorp", intent="nlu_fallback")
    assert changed["roleplay_scenario"] is None
    assert _responses(dispatcher) == ["hints.scenario_unclear"]


async def test_slots_cleared_before_the_form_starts_are_no_answer() -> None:
    # At activation Rasa hands over the slots set just before (None here) as candidates.
    events = [
        _user_event("/start_roleplay", "start_roleplay"),
        _slot_event("roleplay_scenario", None),
        _slot_event("roleplay_difficulty", None),
    ]
    tracker = make_tracker(
        {"roleplay_scenario": None, "roleplay_difficulty": None},
        intent="start_roleplay",
        text="/start_roleplay",
        active_loop="roleplay_setup_form",
        events=events,
    )
    dispatcher = CollectingDispatcher()
    result = await actions.ValidateRoleplaySetupForm().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []
    assert _slots(result) == {"roleplay_scenario": None, "roleplay_difficulty": None}


@pytest.mark.parametrize(
    ("typed", "level"),
    [("Relentless", "relentless"), ("1", "gentle"), ("firm please", "firm"), ("hmm", None)],
)
async def test_typed_difficulty_choices(typed: str, level: str | None) -> None:
    changed, dispatcher = await _set_up(
        "roleplay_difficulty", typed, {"roleplay_scenario": "cover_shift"}
    )
    assert changed["roleplay_difficulty"] == level
    hints = ["hints.difficulty_unclear"] if level is None else []
    assert _responses(dispatcher) == hints


# -- a saved boundary script --------------------------------------------------------------


def _practise_script_tracker(script_id: str | None, sender: str = "ana") -> Any:
    entities = [{"entity": "script_id", "value": script_id}] if script_id is not None else []
    text = (
        "/practise_script"
        if script_id is None
        else f'/practise_script{{"script_id":"{script_id}"}}'
    )
    return make_tracker(
        {"script_id": script_id},
        sender_id=sender,
        text=text,
        intent="practise_script",
        entities=entities,
    )


async def test_practising_a_saved_script(journal_db: str) -> None:
    script_id = _save_script()
    dispatcher = CollectingDispatcher()
    events = actions.ActionPractiseScript().run(
        dispatcher, _practise_script_tracker(str(script_id)), DOMAIN
    )
    slots = _slots(events)
    assert slots["roleplay_ready"] is True
    assert slots["roleplay_source"] == f"own_script:{script_id}"
    intro, opening = _texts(dispatcher)
    assert intro.startswith("Coach: Practising your own script")
    assert "I'm not covering any more weekend shifts this month" in intro
    assert opening.split(": ", 1)[1]  # the persona speaks

    practice = Practice()
    practice.slots.update(slots)
    first = await practice.reply("No. I'm not covering any more weekends this month.")
    assert _texts(first)[-1].startswith("Coach: ")
    practice.end()
    [saved] = _saved()
    assert saved.scenario_id == f"own_script:{script_id}"
    assert saved.difficulty == "firm"


def test_practise_my_script_without_an_id_lists_the_scripts(journal_db: str) -> None:
    first, second = _save_script(title="Weekend shifts"), _save_script(title="Mum's calls")
    dispatcher = CollectingDispatcher()
    events = actions.ActionPractiseScript().run(dispatcher, _practise_script_tracker(None), DOMAIN)
    assert _slots(events)["roleplay_ready"] is False
    [message] = dispatcher.messages
    assert _key_of(message) == "script.pick"
    payloads = {b["title"]: b["payload"] for b in message["buttons"]}
    assert payloads == {
        "Weekend shifts": f'/practise_script{{"script_id":"{first}"}}',
        "Mum's calls": f'/practise_script{{"script_id":"{second}"}}',
    }


def test_practise_my_script_with_none_saved_offers_to_write_one(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionPractiseScript().run(dispatcher, _practise_script_tracker(None), DOMAIN)
    assert _slots(events)["roleplay_ready"] is False
    assert _responses(dispatcher) == ["script.none"]
    buttons = _message(dispatcher, "script.none")["buttons"]
    assert buttons[0]["payload"] == "/start_boundary_script"


def test_someone_elses_script_cannot_be_practised(journal_db: str) -> None:
    theirs = _save_script(sender="bo")
    dispatcher = CollectingDispatcher()
    events = actions.ActionPractiseScript().run(
        dispatcher, _practise_script_tracker(str(theirs)), DOMAIN
    )
    assert _slots(events)["roleplay_ready"] is False
    assert _responses(dispatcher) == ["script.missing", "script.none"]


# -- progress -----------------------------------------------------------------------------


def _features(**true: bool) -> dict[str, bool]:
    return {name: bool(true.get(name)) for name in roleplay.FEATURES}


def _save_practice(replies: list[dict[str, bool]], scenario: str = "cover_shift") -> None:
    with session_scope() as session:
        user = user_who_agreed(session, "rest", "ana")
        repository.save_roleplay_session(
            session,
            user,
            scenario,
            "firm",
            "stopped",
            [("my reply", "assertive" if f["clear_no"] else "passive", f) for f in replies],
        )


def _progress() -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sender_id="ana", text="how is my practice going?", intent="ask_roleplay_progress"
    )
    assert actions.ActionShowRoleplayProgress().run(dispatcher, tracker, DOMAIN) == []
    return dispatcher


def test_progress_with_no_practice_yet(journal_db: str) -> None:
    assert _responses(_progress()) == ["progress.none"]


def test_progress_after_the_first_practices(journal_db: str) -> None:
    _save_practice([_features(apology=True), _features(clear_no=True)])
    dispatcher = _progress()
    assert _responses(dispatcher) == [
        "progress.sessions",
        "progress.so_far",
    ]
    sessions = _message(dispatcher, "progress.sessions")
    assert sessions["total"] == "1"
    assert "Covering a shift (Firm): a clear no in 1 of 2 replies" in sessions["sessions"]
    lines = _message(dispatcher, "progress.so_far")["lines"]
    assert "- A clear no: 50% of your replies" in lines
    assert "- An apology: 50% of your replies" in lines


def test_progress_shows_the_trend_per_feature(journal_db: str) -> None:
    hesitant = [_features(apology=True, hedge=True), _features(over_justification=True)]
    for _ in range(2):
        _save_practice(hesitant)
    clear = [_features(clear_no=True), _features(clear_no=True, apology=True)]
    for _ in range(3):
        _save_practice(clear, scenario="lend_money")
    dispatcher = _progress()
    assert _responses(dispatcher) == [
        "progress.sessions",
        "progress.trend",
        "progress.verdict.clearer",
    ]
    assert _message(dispatcher, "progress.sessions")["total"] == "5"
    trend = _message(dispatcher, "progress.trend")
    assert (trend["recent"], trend["earlier"]) == ("3", "2")
    assert "- A clear no: 100% of your replies lately, 0% before" in trend["lines"]
    assert "- An apology: 50% of your replies lately, 50% before" in trend["lines"]
    assert "- A maybe: 0% of your replies lately, 50% before" in trend["lines"]


def test_progress_names_a_practised_script(journal_db: str) -> None:
    script_id = _save_script(title="Weekend shifts")
    _save_practice([_features(clear_no=True)], scenario=f"own_script:{script_id}")
    sessions = _message(_progress(), "progress.sessions")["sessions"]
    assert "Weekend shifts (Firm)" in sessions


# -- the journal out of reach -------------------------------------------------------------


async def test_journal_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    practice = Practice()
    practice.start("cover_shift", "gentle")
    await practice.reply("No, I can't.")
    end = practice.end(intent="deny")
    # The debrief still comes; only the saving is missing, and the user is told.
    assert _responses(end) == [
        "debrief",
        "utter_journal_unavailable",
        "next",
    ]

    assert _responses(_progress()) == ["utter_journal_unavailable"]

    dispatcher = CollectingDispatcher()
    events = actions.ActionPractiseScript().run(dispatcher, _practise_script_tracker("1"), DOMAIN)
    assert _slots(events)["roleplay_ready"] is False
    assert _responses(dispatcher) == ["utter_journal_unavailable"]


def test_buttons_fit_a_phone() -> None:
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            for button in variation.get("buttons", []):
                assert len(button["title"]) <= 30, name
    buttons = [key for key in TEXTS.keys() if key.startswith("buttons.")]
    assert len(buttons) == 9
    assert all(len(TEXTS.text(key)) <= 30 for key in buttons)


# -- back from the check-in question -----------------------------------------------------------


def _ask_reply(before: str, state: Any) -> CollectingDispatcher:
    """The form's question as Rasa asks it: the tracker ends with the form's own run."""
    events = [
        {"event": "action", "name": "action_listen"},
        _user_event("no", "deny"),
        {"event": "action", "name": before},
        {"event": "action", "name": "roleplay_form"},
        _slot_event("requested_slot", "roleplay_reply"),
    ]
    tracker = make_tracker(
        {"roleplay_state": state},
        active_loop="roleplay_form",
        requested_slot="roleplay_reply",
        events=events,
    )
    dispatcher = CollectingDispatcher()
    assert actions.ActionAskRoleplayReply().run(dispatcher, tracker, DOMAIN) == []
    return dispatcher


def test_after_the_check_in_the_persona_says_their_last_words_again() -> None:
    state, lines = roleplay.start("cover_shift", "firm", rng_seed=4)
    turn = roleplay.respond(state, "Maybe, I'll see.")
    back = _ask_reply("utter_crisis_check_in_no", turn.state)
    assert _responses(back)[0] == "ask.roleplay_reply_back"
    assert _texts(back)[1:] == turn.persona_lines[-1:]  # the persona's last line
    # Right after the persona spoke, the question stays silent.
    assert _ask_reply("action_listen", turn.state).messages == []
    assert _ask_reply("action_start_roleplay", state).messages == []
    # Nothing kept to repeat: the way back is still said.
    assert _responses(_ask_reply("utter_crisis_check_in_no", None)) == ["ask.roleplay_reply_back"]


# -- issue 16: coaching that teaches, a turn tried again, the rewrite ---------------------


def _coach_message(dispatcher: CollectingDispatcher) -> dict[str, Any]:
    return next(m for m in dispatcher.messages if (m.get("text") or "").startswith("Coach:"))


@pytest.mark.parametrize(
    ("reply", "label", "skill"),
    [
        ("I know it matters to you. I'm still not covering Saturday.", "assertive", "Validate"),
        ("Sorry, sorry, I can't, I feel awful.", "partial", "no Apologies"),
        ("ok fine, I'll do it", "passive", "Stick to your values"),
        ("Oh, so I'm your free taxi now? Good to know.", "aggressive", "Gentle (GIVE)"),
    ],
)
async def test_each_labels_coaching_names_a_skill_and_offers_a_retry(
    journal_db: str, reply: str, label: str, skill: str
) -> None:
    practice = Practice()
    practice.start("cover_shift", "relentless")
    dispatcher = await practice.reply(reply)
    assert practice.slots["roleplay_state"]["log"][-1]["label"] == label
    coach = _coach_message(dispatcher)
    assert skill in coach["text"]
    assert coach["buttons"] == [{"title": "Try that again", "payload": "/retry_roleplay_turn"}]
    assert 'say "try again"' in coach["text"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("/retry_roleplay_turn", "retry_roleplay_turn"), ("let me try that again", "nlu_fallback")],
)
async def test_try_that_again_takes_the_last_reply_back(
    journal_db: str, text: str, intent: str
) -> None:
    practice = Practice()
    practice.start("lend_money", "relentless")
    await practice.reply("No, I can't lend money right now.")
    after_first = practice.slots["roleplay_state"]
    await practice.reply("ugh, ok fine, I'll send it")
    dispatcher = await practice.reply(text, intent=intent)
    texts = _texts(dispatcher)
    assert texts[0].startswith("Coach: Okay, let's take that one again")
    assert texts[1].startswith("Jordan: ")
    assert practice.slots["roleplay_reply"] is None  # the form listens on
    assert practice.slots["roleplay_replies"] == ["No, I can't lend money right now."]
    assert practice.slots["roleplay_state"]["log"] == after_first["log"]
    await practice.reply("No. Still no.")
    practice.end()
    [saved] = _saved()
    # The journal keeps what the user settled on, never the line they took back.
    assert [r.text for r in saved.replies] == ["No, I can't lend money right now.", "No. Still no."]


async def test_nothing_to_redo_before_the_first_reply(journal_db: str) -> None:
    practice = Practice()
    practice.start("cover_shift", "firm")
    dispatcher = await practice.reply("try again", intent="retry_roleplay_turn")
    assert "no reply to redo" in _texts(dispatcher)[0]
    assert practice.slots["roleplay_state"]["log"] == []


async def test_the_debrief_shows_the_strongest_line_and_the_rewrite(journal_db: str) -> None:
    practice = Practice()
    practice.start("bake_sale", "relentless")
    await practice.reply("No, I can't run it this year.")
    await practice.reply("I'm so sorry, I really can't, work is crazy and I'm exhausted and broke.")
    await practice.reply("stop", intent="stop_exercise")
    end = practice.end(intent="stop_exercise")
    debrief = _message(end, "debrief")["debrief"]
    assert 'Your strongest line: "No, I can\'t run it this year."' in debrief
    assert "The line to work on: \"I'm so sorry, I really can't" in debrief
    assert 'In your own words, firmer: "I really can\'t."' in debrief


async def test_a_reply_nlu_reads_as_try_again_stays_a_reply(journal_db: str) -> None:
    practice = Practice()
    practice.start("lend_money", "relentless")
    await practice.reply("No, I can't.")
    dispatcher = await practice.reply("No. Try again next year.", intent="retry_roleplay_turn")
    assert _texts(dispatcher)[0].startswith("Jordan: ")
    assert len(practice.slots["roleplay_state"]["log"]) == 2
