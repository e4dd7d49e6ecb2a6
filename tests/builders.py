"""Trackers for tests, built from events the way Rasa and rasa-sdk build them. One place, so a
test says what happened in the conversation and nothing about how a tracker is put together.

Rasa's side (policies, the tracker store, channels, NLU components)::

    from tests.builders import rasa_tracker, user_says

    tracker = rasa_tracker(user_says("I want to die", "crisis"), ActionExecuted("utter_x"))
    tracker.sender_id  # "someone"; rasa_tracker(..., sender_id="ana") for another

  ``rasa_tracker(*events)`` is a ``DialogueStateTracker`` that starts with ``action_listen``, as
  a conversation does when the first message arrives; ``listening=False`` takes the events as
  given (a stored conversation that starts with its own events). ``user_says(text, intent)`` is
  the ``UserUttered`` event with its NLU result (confidence 0.97 unless given, entities and the
  channel's metadata if any).

Policies, as Rasa's graph builds them (no trained model; the project's domain/)::

    from tests.builders import build_policy, predicted

    policy = build_policy(CheckInPolicy, tmp_path)
    predicted(policy, rasa_tracker(...), domain)  # the action it predicts, None if it abstains

The crisis detector's middle-band verdict, for a stand-in detector::

    from tests.builders import check_in_verdict

    check_in_verdict("burden", "burden_better_off")  # tier check_in, one sign and its pattern

The action server's side (custom actions)::

    from tests.builders import sdk_tracker

    tracker = sdk_tracker({"feeling": "calm"}, sender_id="ana", intent="affirm", text="yes")

  ``sdk_tracker(slots, ...)`` is rasa-sdk's ``Tracker`` as an action receives it: the latest
  message, the slots (``requested_slot`` included), the active loop, and the sender id with its
  channel's prefix as Rasa hands it over (``rest:ana``), so ``find_user(session, channel,
  sender_id)`` finds what the action wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rasa is slow to import: only when a tracker is built.
    from rasa.core.policies.policy import Policy
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_sdk import Tracker

    from bot.safety.detector import CrisisResult

SENDER = "someone"
DOMAIN_DIR = Path(__file__).resolve().parents[1] / "domain"


def user_says(
    text: str,
    intent: str,
    confidence: float = 0.97,
    entities: Iterable[dict[str, Any]] = (),
    metadata: dict[str, Any] | None = None,
) -> UserUttered:
    """The user's message as NLU read it (``metadata`` as the channel sent it)."""
    from rasa.shared.core.events import UserUttered

    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=list(entities),
        metadata=metadata,
    )


def rasa_tracker(
    *events: Event, sender_id: str = SENDER, listening: bool = True
) -> DialogueStateTracker:
    """Rasa's tracker after ``events`` (after ``action_listen`` first when ``listening``)."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    history = [ActionExecuted("action_listen"), *events] if listening else list(events)
    return DialogueStateTracker.from_events(sender_id, history)


def build_policy(cls: type[Policy], tmp_path: Path, config: dict[str, Any] | None = None) -> Policy:
    """``cls`` with ``config`` (its defaults if none), as the graph constructs it."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    return cls(
        cls.get_default_config() if config is None else config,
        LocalModelStorage(tmp_path),
        Resource(cls.__name__),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predicted(policy: Policy, tracker: DialogueStateTracker, domain: Domain) -> str | None:
    """The action ``policy`` predicts for ``tracker``, or None when it abstains."""
    prediction = policy.predict_action_probabilities(tracker, domain)
    if prediction.max_confidence == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


def check_in_verdict(sign: str, pattern: str) -> CrisisResult:
    """What the detector says of a middle-band message: the check-in tier, for ``sign``."""
    from bot.safety.detector import TIER_CHECK_IN, CrisisResult

    return CrisisResult(
        is_crisis=True,
        categories=("suicidal_thoughts",),
        matched=(pattern,),
        tier=TIER_CHECK_IN,
        signs=(sign,),
    )


def channel_sender_id(sender_id: str, channel: str) -> str:
    """``sender_id`` as ``channel`` hands it to Rasa (``rest:ana``); an already prefixed id, or
    one for a channel that has no prefix, stays as given."""
    from bot import sender_ids

    if channel in sender_ids.PREFIXES and sender_ids.channel_of(sender_id) is None:
        return sender_ids.with_channel(channel, sender_id)
    return sender_id


def sdk_tracker(
    slots: dict | None = None,
    *,
    sender_id: str = "test-user",
    channel: str = "rest",
    intent: str = "greet",
    text: str = "hi",
    entities: list | None = None,
    active_loop: str | None = None,
    requested_slot: str | None = None,
    events: Sequence[dict] | None = None,
) -> Tracker:
    """rasa-sdk's tracker as an action receives it (``sender_id`` is the bare id)."""
    from rasa_sdk import Tracker

    all_slots = {"requested_slot": requested_slot, **(slots or {})}
    latest = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        "text": text,
    }
    history = (
        list(events)
        if events is not None
        else [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    )
    return Tracker(
        sender_id=channel_sender_id(sender_id, channel),
        slots=all_slots,
        latest_message=latest,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def roleplay_weeks(session, user, weeks) -> None:  # type: ignore[no-untyped-def]
    """Finished role-plays dated ``weeks_ago`` back, one per ``(weeks_ago, labels)`` pair, as
    the role-play's save action keeps them (the progress tests' history)."""
    from datetime import timedelta

    from bot.journal import repository
    from bot.journal.models import utcnow

    for weeks_ago, labels in weeks:
        record = repository.save_roleplay_session(
            session,
            user,
            "flatmate_party",
            "gentle",
            "finished",
            [(f"reply {n}", label, None) for n, label in enumerate(labels)],
        )
        record.created_at = utcnow() - timedelta(weeks=weeks_ago)
