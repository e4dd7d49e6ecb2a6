"""The role-play engine: a pushy persona, an assessment of each reply, one line of coaching.

Pure functions over a JSON-able ``state`` dict, so a Rasa action can keep the whole session in
one slot and any action server process can pick it up. The state keeps no more of the user's
words than the debrief needs: the label and features of each reply, and the texts of the
strongest and the weakest reply so far (to quote the first back and rewrite the second). A
practice of the user's own DEAR MAN script also keeps that script, which the persona is rebuilt
from on every turn. The state before the last reply is kept too, so the user can try that turn
again (:func:`retry`).

    state, lines = start("cover_shift", "firm")
    turn = respond(state, "No, I can't this Saturday.")
    turn.messages  # ["Sam: Oh, come on. You're the only one ...", "Coach: ..."]
    state = retry(turn.state).state  # "try again": Sam says the last line once more
    debrief(state).lines
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

from bot.roleplay.assessor import Assessment, assess
from bot.roleplay.coaching import Coaching, coaching
from bot.roleplay.rewrite import rewrite
from bot.roleplay.scenarios import (
    DIFFICULTY_ORDER,
    SCRIPT_SCENARIO_ID,
    Difficulty,
    Scenario,
    difficulties,
    persona_lines,
    scenario_from_script,
    scenarios,
    validate_script,
)

STATE_VERSION = 2
_OLDER_VERSIONS = (1,)  # states written before the retry and the rewrite; upgraded on read
# What a retry puts back: everything a reply changes except the log, which loses its last entry.
_UNDONE = ("moves_used", "streak", "over", "end", "best", "worst", "said")
QUOTE_MAX = 280  # the strongest reply is quoted back; a pasted essay is cut
# A firm no counts 1 towards the persona backing off; a no buried in padding counts half.
_NO_WEIGHT = {"assertive": 1.0, "partial": 0.5}
_STRENGTH = {"assertive": 3.0, "partial": 2.0}
# What the debrief counts (a state written before a feature existed counts it as absent).
COUNTED = ("clear_no", "apology", "over_justification", "hedge", "hostile")
_WEAKNESS_ORDER = ("hostile", "gave_in", "hedge", "over_justification", "apology")
# How much a reply needs a rewrite: the debrief rewrites the one that needs it most.
_NEED = {"aggressive": 4.0, "passive": 3.0, "partial": 2.0}


@dataclass(frozen=True)
class Turn:
    """What one user reply produced: the new state and the messages to send, in order."""

    state: dict[str, Any]
    persona_lines: list[str]
    coach_line: str
    assessment: Assessment | None
    over: bool
    end_reason: str | None = None
    can_retry: bool = False  # the coach line offers to try this turn again
    coach_first: bool = False  # a retry: the coach introduces the persona's repeated line

    @property
    def messages(self) -> list[str]:
        if self.coach_first:
            return [self.coach_line, *self.persona_lines]
        return [*self.persona_lines, self.coach_line]


@dataclass(frozen=True)
class Debrief:
    """How the practice went: counts, the user's strongest reply, and a short summary."""

    counts: dict[str, int]
    strongest_reply: str | None
    strongest_label: str | None
    outcome: str
    summary: str
    lines: list[str] = field(default_factory=list)
    weakest_reply: str | None = None
    rewrite: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "strongest_reply": self.strongest_reply,
            "strongest_label": self.strongest_label,
            "weakest_reply": self.weakest_reply,
            "rewrite": self.rewrite,
            "outcome": self.outcome,
            "summary": self.summary,
            "lines": list(self.lines),
        }


# -- menus --------------------------------------------------------------------------------


def list_scenarios() -> list[Scenario]:
    """The shipped scenarios, for the menu (``.id`` and ``.title`` make a button)."""
    return list(scenarios().values())


def list_difficulties() -> list[Difficulty]:
    """Gentle, firm, relentless, in that order."""
    table = difficulties()
    return [table[key] for key in DIFFICULTY_ORDER]


# -- starting -----------------------------------------------------------------------------


def start(
    scenario_id: str, difficulty: str, rng_seed: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Begin a shipped scenario; returns the state and the opening messages."""
    if scenario_id not in scenarios():
        raise ValueError(f"unknown scenario {scenario_id!r}")
    return _begin(scenario_id, None, difficulty, rng_seed)


def start_script(
    script: dict, difficulty: str = "firm", rng_seed: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Begin a practice of the user's own DEAR MAN script (see ``scenario_from_script``)."""
    return _begin(SCRIPT_SCENARIO_ID, validate_script(script), difficulty, rng_seed)


def surprise(rng_seed: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """A random scenario at a random difficulty (seeded for tests)."""
    seed = _new_seed() if rng_seed is None else int(rng_seed)
    rng = random.Random(f"{seed}:surprise")
    scenario_id = rng.choice(sorted(scenarios()))
    difficulty = rng.choice(DIFFICULTY_ORDER)
    return _begin(scenario_id, None, difficulty, seed)


def _begin(
    scenario_id: str, script: dict | None, difficulty: str, rng_seed: int | None
) -> tuple[dict[str, Any], list[str]]:
    if difficulty not in difficulties():
        raise ValueError(f"unknown difficulty {difficulty!r}: use {', '.join(DIFFICULTY_ORDER)}")
    state: dict[str, Any] = {
        "v": STATE_VERSION,
        "scenario": scenario_id,
        "script": script,
        "difficulty": difficulty,
        "seed": _new_seed() if rng_seed is None else int(rng_seed),
        "moves_used": 0,
        "streak": 0.0,
        "over": False,
        "end": None,
        "log": [],
        "best": None,
        "worst": None,
        "said": None,
        "undo": None,
        "retries": 0,
    }
    scenario = _scenario_of(state)
    text = coaching()
    rng = _rng(state, "opening")
    if script is not None:
        intro = text.pick(
            text.script_intro, rng, who=scenario.persona_role, assert_=script["assert_"]
        )
    else:
        intro = text.pick(
            text.intro,
            rng,
            role=scenario.persona_role,
            name=scenario.persona_name,
            difficulty=difficulties()[difficulty].label,
        )
    state["said"] = scenario.opening
    return state, [intro, _say(text, scenario, scenario.opening)]


# -- one reply ----------------------------------------------------------------------------


def respond(state: dict[str, Any], user_reply: str) -> Turn:
    """Assess the reply, let the persona react in character, and add one coaching line."""
    state = _checked(state)
    text = coaching()
    if state["over"]:
        line = text.pick(text.already_over, _rng(state, "over"))
        return Turn(copy.deepcopy(state), [], line, None, True, state["end"])

    scenario = _scenario_of(state)
    difficulty = difficulties()[state["difficulty"]]
    verdict = assess(user_reply, _request(state, scenario))

    new = copy.deepcopy(state)
    new["undo"] = {key: copy.deepcopy(state[key]) for key in _UNDONE}
    previous = new["log"][-1]["label"] if new["log"] else None
    new["log"].append(
        {"label": verdict.label, "features": dict(verdict.features), "stance": verdict.stance}
    )
    _keep_if_strongest(new, user_reply, verdict)
    _keep_if_weakest(new, user_reply, verdict)
    if verdict.label in _NO_WEIGHT:
        new["streak"] += _NO_WEIGHT[verdict.label]
    elif verdict.label == "passive":
        new["streak"] = 0.0  # a maybe or a yes: the persona smells a chance
    # A hostile no leaves the count where it was: the practice is a calm no, and backing off
    # in the face of heat would teach the opposite.

    rng = _rng(new, "persona")
    lines: list[str] = []
    moves_left = difficulty.move_budget(scenario) - new["moves_used"]
    said_no = verdict.label in _NO_WEIGHT
    if said_no and new["streak"] >= difficulty.back_off_after:
        lines.append(_pick(rng, scenario.back_off))
        _finish(new, "backed_off")
    elif moves_left <= 0:
        lines.append(_closing(rng, scenario, verdict))
        _finish(new, "out_of_moves")
    elif verdict.label == "aggressive":
        # Stay civil, name it gently, then carry on with the next move.
        lines.append(_pick(rng, scenario.civil) + " " + _next_move(new, scenario))
    elif verdict.label == "passive" and verdict.stance == "give_in":
        # Take the yes and ask a little more: the foot in the door.
        lines.append(_pick(rng, scenario.on_give_in))
        new["moves_used"] += 1
    else:
        lead = _pick(rng, persona_lines().lead_ins[_lead_in_key(verdict)])
        lines.append(lead + " " + _next_move(new, scenario))

    if lines:
        new["said"] = lines[-1]
    persona = [_say(text, scenario, line) for line in lines]
    rng = _rng(new, "coach")
    coach = _coach_line(text, rng, verdict, previous, new["over"], new["end"])
    can_retry = not new["over"]
    if can_retry:
        coach += "\n" + text.pick(text.retry_offer, rng)
    return Turn(new, persona, coach, verdict, new["over"], new["end"], can_retry)


def retry(state: dict[str, Any]) -> Turn:
    """Try the last turn again: the state before the last reply, and the persona's line again.

    Only the last reply can be taken back, once; the debrief then knows nothing of it.
    """
    state = _checked(state)
    text = coaching()
    scenario = _scenario_of(state)
    if state["over"]:
        line = text.pick(text.already_over, _rng(state, "over"))
        return Turn(copy.deepcopy(state), [], line, None, True, state["end"])
    if not state["log"] or not state["undo"]:
        line = text.pick(text.retry_nothing, _rng(state, "retry"), name=scenario.persona_name)
        return Turn(copy.deepcopy(state), [], line, None, False)
    new = copy.deepcopy(state)
    new.update(copy.deepcopy(state["undo"]))
    new["log"].pop()
    new["undo"] = None
    new["retries"] += 1
    intro = text.pick(text.retry_intro, _rng(new, "retry"), name=scenario.persona_name)
    persona = [_say(text, scenario, new["said"] or scenario.opening)]
    return Turn(new, persona, intro, None, False, coach_first=True)


def last_words(state: Any) -> list[str]:
    """What the persona said last (to repeat it when the practice resumes after a break);
    empty for a state this engine did not write."""
    try:
        state = _checked(state)
        scenario = _scenario_of(state)
    except (ValueError, KeyError, TypeError):
        return []
    if state["over"]:
        return []
    said = state["said"]
    if said is None and state["log"]:  # an older engine's state, mid-practice: not kept
        return []
    return [_say(coaching(), scenario, said or scenario.opening)]


def stop(state: dict[str, Any]) -> Turn:
    """The user said stop: end the practice kindly, whatever point it had reached."""
    state = _checked(state)
    new = copy.deepcopy(state)
    if not new["over"]:
        _finish(new, "stopped")
    text = coaching()
    return Turn(new, [], text.pick(text.stop, _rng(new, "stop")), None, True, new["end"])


# -- the debrief --------------------------------------------------------------------------


def debrief(state: dict[str, Any]) -> Debrief:
    """Counts, the strongest reply, the weakest one rewritten in the user's words, a summary."""
    state = _checked(state)
    text = coaching()
    scenario = _scenario_of(state)
    log = state["log"]
    counts = {name: sum(1 for t in log if t["features"].get(name)) for name in COUNTED}
    counts["replies"] = len(log)
    gave_in = sum(1 for t in log if t["label"] == "passive" and t["stance"] == "give_in")

    outcome = _outcome(state)
    rng = _rng(state, "debrief")
    weakness = {**counts, "gave_in": gave_in}
    worst = max(_WEAKNESS_ORDER, key=lambda k: (weakness[k], -_WEAKNESS_ORDER.index(k)))
    next_key = worst if weakness[worst] > 0 else "none"
    if next_key == "none" and outcome in ("gave_in", "maybe"):
        next_key = "gave_in"  # "try a harder level" would mock a practice that ended on a yes
    summary = " ".join(
        [
            text.pick(text.outcome[outcome], rng, name=scenario.persona_name),
            text.pick(text.next_time[next_key], rng),
        ]
    )
    best = state["best"]
    lines = [summary]
    if log:
        lines.append(
            text.pick(text.counts, rng, **{k: counts[k] for k in counts if k != "replies"})
        )
    if best:
        lines.append(text.pick(text.strongest, rng, reply=best["text"]))
    elif log:
        lines.append(text.pick(text.no_strongest, rng))
    worst = state["worst"]
    better = None
    if worst:
        better = rewrite(assess(worst["text"], worst.get("request")), text.rewrite_no)
        lines.append(text.pick(text.weakest, rng, reply=worst["text"]))
        if better:
            lines.append(text.pick(text.rewrite, rng, rewrite=better))
    elif log:
        lines.append(text.pick(text.no_weakest, rng))
    if scenario.debrief_note:
        lines.append(scenario.debrief_note)
    return Debrief(
        counts=counts,
        strongest_reply=best["text"] if best else None,
        strongest_label=best["label"] if best else None,
        outcome=outcome,
        summary=summary,
        lines=lines,
        weakest_reply=worst["text"] if worst else None,
        rewrite=better,
    )


def _outcome(state: dict[str, Any]) -> str:
    log = state["log"]
    if not log:
        return "no_replies"
    if state["end"] == "backed_off":
        return "backed_off"
    if state["end"] == "stopped":
        return "stopped"
    last = log[-1]
    if last["label"] in _NO_WEIGHT:
        return "out_of_moves"
    if last["label"] == "aggressive":
        return "hostile"
    return "gave_in" if last["stance"] == "give_in" else "maybe"


# -- helpers ------------------------------------------------------------------------------


def _scenario_of(state: dict[str, Any]) -> Scenario:
    if state["script"] is not None:
        return scenario_from_script(state["script"])
    return scenarios()[state["scenario"]]


def _request(state: dict[str, Any], scenario: Scenario) -> str | None:
    """What the reply answers: the ask and the persona's latest line (as the corpus reads it)."""
    said = state.get("said")
    if state["script"] is not None:
        return said
    if not said or said == scenario.opening:
        return scenario.opening
    return f"{scenario.opening} {said}"


def _checked(state: Any) -> dict[str, Any]:
    """The state, checked, and upgraded if an older engine wrote it (a copy, then)."""
    if isinstance(state, dict) and state.get("v") in _OLDER_VERSIONS:
        state = {**state, "v": STATE_VERSION}
        for key, value in (("worst", None), ("said", None), ("undo", None), ("retries", 0)):
            state.setdefault(key, value)
    _check_state(state)
    return state


def _check_state(state: Any) -> None:
    """A slot can hold anything: fail clearly on a state this engine did not write."""
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        raise ValueError("not a role-play state (missing or unknown version)")
    needed = ("scenario", "script", "difficulty", "seed", "moves_used", "streak", "over", "log")
    needed += ("best", "worst", "said", "undo", "retries")
    missing = [key for key in needed if key not in state]
    if missing:
        raise ValueError(f"role-play state lacks {missing[0]!r}")
    if state["difficulty"] not in difficulties():
        raise ValueError(f"role-play state has an unknown difficulty {state['difficulty']!r}")
    if state["script"] is None and state["scenario"] not in scenarios():
        raise ValueError(f"role-play state names an unknown scenario {state['scenario']!r}")


def _new_seed() -> int:
    return random.SystemRandom().randrange(2**31)


def _rng(state: dict[str, Any], purpose: str) -> random.Random:
    # Seeded from the state alone, so a restored state replays the same way.
    return random.Random(f"{state['seed']}:{len(state['log'])}:{purpose}")


def _pick(rng: random.Random, options: tuple[str, ...] | list[str]) -> str:
    return options[rng.randrange(len(options))]


def _say(text: Coaching, scenario: Scenario, line: str) -> str:
    return text.persona_line.format(name=scenario.persona_name, line=line)


def _next_move(state: dict[str, Any], scenario: Scenario) -> str:
    move = scenario.moves[state["moves_used"]]
    state["moves_used"] += 1
    return move.line


def _finish(state: dict[str, Any], reason: str) -> None:
    state["over"] = True
    state["end"] = reason


def _lead_in_key(verdict: Assessment) -> str:
    if verdict.label == "partial":
        return "after_partial"
    if verdict.label == "assertive":
        return "after_no"
    if verdict.stance == "hedge" or verdict.features["hedge"]:
        return "after_hedge"
    return "after_other"


def _closing(rng: random.Random, scenario: Scenario, verdict: Assessment) -> str:
    if verdict.label in _NO_WEIGHT:
        return _pick(rng, scenario.back_off)
    if verdict.label == "aggressive":
        return _pick(rng, scenario.civil)
    closing = persona_lines().closing
    key = "after_give_in" if verdict.stance == "give_in" else "after_maybe"
    return _pick(rng, closing[key])


def _keep_if_strongest(state: dict[str, Any], reply: str, verdict: Assessment) -> None:
    strength = _STRENGTH.get(verdict.label)
    if strength is None:
        return
    padding = sum(verdict.features[k] for k in ("apology", "over_justification", "hedge"))
    score = strength - 0.1 * padding
    best = state["best"]
    if best is None or score > best["score"]:
        state["best"] = {"text": _quote(reply), "label": verdict.label, "score": score}


def _keep_if_weakest(state: dict[str, Any], reply: str, verdict: Assessment) -> None:
    """Keep the reply the debrief should rewrite: the most aggressive, then the most passive."""
    need = _NEED.get(verdict.label)
    if need is None:
        return
    padding = sum(verdict.features[k] for k in ("apology", "over_justification", "hedge"))
    score = need + 0.1 * padding
    worst = state["worst"]
    if worst is None or score > worst["score"]:
        scenario = _scenario_of(state)
        state["worst"] = {
            "text": _quote(reply),
            "label": verdict.label,
            "score": score,
            "request": _request(state, scenario),
        }


def _quote(reply: str) -> str:
    quote = " ".join(str(reply).split())
    if len(quote) > QUOTE_MAX:
        quote = quote[: QUOTE_MAX - 1].rstrip() + "…"
    return quote


def _coach_line(
    text: Coaching,
    rng: random.Random,
    verdict: Assessment,
    previous: str | None,
    over: bool,
    end: str | None,
) -> str:
    """What worked, then one thing to try, each naming its DEAR MAN / GIVE / FAST skill."""
    f = verdict.features
    words = {"no": (verdict.evidence.get("clear_no") or [""])[0]}
    # Never call a reply aggressive without saying which words made it so.
    quoted = [f'"{w.strip(chr(34))}"' for w in verdict.evidence.get("hostile", [])[:2]]
    hostile = " and ".join(quoted) or "Part of that reply"
    label = verdict.label
    if label == "aggressive":
        worked = "hostile_with_no" if f["clear_no"] else "hostile"
        tip = "keep_kind"
    elif label == "assertive":
        repeated = previous == "assertive"
        if repeated:
            worked = "broken_record"
        elif f["negotiates"]:
            worked = "negotiated"
        elif f["validation"]:
            worked = "validated_no"
        elif f["alternative_offered"]:
            worked = "clear_no_with_alternative"
        else:
            worked = "clear_no"
        if over:
            tip = "ended_held"
        elif repeated:
            tip = "keep_repeating"
        elif f["alternative_offered"] and not f["negotiates"]:
            tip = "alternative_only_if_meant"
        elif f["validation"] or f["negotiates"]:
            tip = "broken_record"
        else:
            tip = "add_validation"
    elif label == "partial":
        worked = "buried_no"
        if f["over_justification"]:
            tip = "drop_reasons"
        elif f["apology"]:
            tip = "drop_apologies"
        elif f["hedge"]:
            tip = "drop_padding"
        else:
            tip = "drop_hesitation"
    elif verdict.stance == "give_in" or f["gives_in"]:
        worked = "gave_in_after_no" if f["clear_no"] else "gave_in"
        tip = "stay_with_first_no" if f["clear_no"] else "take_it_back"
    elif verdict.stance == "hedge" or f["hedge"]:
        worked, tip = "hedged", "say_the_no"
    elif f["alternative_offered"]:
        worked, tip = "offered_only", "no_first"
    elif f["over_justification"] or (verdict.stance == "none" and f["apology"]):
        worked, tip = "excuse_only", "say_the_no"
    else:
        worked, tip = "nothing", "say_the_no"
    if over and end != "backed_off" and label not in _NO_WEIGHT:
        tip = "ended"
    return text.line.format(
        marker=text.marker,
        worked=text.advise(text.worked[worked], rng, **words),
        tip=text.advise(text.tip[tip], rng, hostile=hostile),
    )
