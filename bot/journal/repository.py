"""Everything actions do with the journal, as functions that take a session.

Actions never write SQL: they open ``session_scope()`` once per run and call these. Text is
cleaned and checked here (see ``inputs``), so a bad message becomes a ``JournalInputError``
with a clear reason, never a database error. Logs carry pseudonyms and counts only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from bot import sender_ids
from bot.journal import tracker_events
from bot.journal.errors import (
    IdSecretMismatch,
    JournalConsentMissing,
    JournalInputError,
    JournalNotFound,
)
from bot.journal.exports import FULL_EXPORT_COMMAND, MAX_EXPORT_BYTES, item_size, render
from bot.journal.identity import ID_SECRET_ENV, fingerprint, load_id_secret, pseudonym, short
from bot.journal.inputs import (
    ACTION_TEXT_LIMIT,
    CHANNEL_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    PLAN_ITEM_LIMIT,
    PLAN_ITEMS_MAX,
    REGION_LIMIT,
    REPLY_ID_LIMIT,
    REPLY_LIMIT,
    REPORT_NOTE_LIMIT,
    SCRIPT_PART_LIMIT,
    TITLE_LIMIT,
    RoleplayReplyIn,
    ValueRatingIn,
    check_rating,
    clean_json,
    clean_scores,
    clean_text,
)
from bot.journal.models import (
    ENTRY_TABLES,
    AiNotice,
    Base,
    BoundaryScript,
    CommittedAction,
    DeploymentKey,
    EndedSession,
    Nudge,
    PendingExport,
    ReflectionResult,
    ReplyReport,
    RoleplayReply,
    RoleplaySession,
    SafetyPlan,
    User,
    ValueRating,
    WiseMindEntry,
    utcnow,
)

logger = logging.getLogger(__name__)

PRIORITIES = ("relationship", "self_respect")
# /2: ``size_limit`` (an export is capped, and says what it left out).
EXPORT_FORMAT = "secure-base-journal-export/2"


# --- the deployment's pseudonym secret ----------------------------------------------------

ID_SECRET_KEY = "id_secret"
# (database, fingerprint) pairs this process has already checked: one query per process.
_checked_secrets: set[tuple[str, str]] = set()
_checked_lock = threading.Lock()


def check_id_secret(session: Session, secret: bytes | None = None) -> None:
    """Record this secret's fingerprint on first use; refuse a secret with another fingerprint.

    Raises ``IdSecretMismatch`` (a ``JournalUnavailable``: actions answer "I can't reach my
    notebook") rather than computing pseudonyms nobody else would find or erase.
    """
    mine = fingerprint(secret if secret is not None else load_id_secret())
    bind = session.get_bind()
    cache_key = (bind.url.render_as_string(hide_password=True), mine)
    with _checked_lock:
        if cache_key in _checked_secrets:
            return
    _insert_ignoring_duplicate(session, DeploymentKey, name=ID_SECRET_KEY, fingerprint=mine)
    recorded = session.execute(
        sa.select(DeploymentKey.fingerprint).where(DeploymentKey.name == ID_SECRET_KEY)
    ).scalar_one()
    if not hmac.compare_digest(recorded, mine):
        logger.error("%s differs from the secret this database was first used with", ID_SECRET_ENV)
        raise IdSecretMismatch(
            f"{ID_SECRET_ENV} differs from the one this database was first used with; every "
            "process must share one secret, or pseudonyms (and erasure) would miss data"
        )
    with _checked_lock:
        _checked_secrets.add(cache_key)


def _insert_ignoring_duplicate(session: Session, model: type, **values: Any) -> bool:
    """Insert a row unless one with the same key exists (two processes may start together)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if "created_at" in model.__table__.c and "created_at" not in values:
        values["created_at"] = utcnow()
    statement = insert(model.__table__).values(**values).on_conflict_do_nothing()
    return session.execute(statement).rowcount == 1


# --- users -------------------------------------------------------------------------------


def _pseudonym_for(session: Session, channel: str, sender_id: str) -> str:
    if not isinstance(channel, str) or not channel:
        raise JournalInputError("channel", "must be a non-empty text")
    if not isinstance(sender_id, str) or not sender_id:
        raise JournalInputError("sender_id", "must be a non-empty text")
    check_id_secret(session)
    return pseudonym(channel, sender_id)


def _user_by_pseudonym(session: Session, pid: str) -> User | None:
    return session.execute(sa.select(User).where(User.pseudonym == pid)).scalar_one_or_none()


def find_user(session: Session, channel: str, sender_id: str) -> User | None:
    """The journal user of this sender on this channel, if they have one."""
    return _user_by_pseudonym(session, _pseudonym_for(session, channel, sender_id))


def get_or_create_user(session: Session, channel: str, sender_id: str) -> User:
    """The journal user of this sender, created on first contact (safe against a race)."""
    pid = _pseudonym_for(session, channel, sender_id)
    user = _user_by_pseudonym(session, pid)
    if user is not None:
        return user
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # Two action runs for one new sender may insert at once: the loser's insert does nothing.
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(User.__table__)
            .values(pseudonym=pid)
            .on_conflict_do_nothing(index_elements=["pseudonym"])
        )
        created = session.execute(statement).rowcount == 1
        user = _user_by_pseudonym(session, pid)
    else:
        user = User(pseudonym=pid)
        session.add(user)
        session.flush()
        created = True
    if created:
        logger.info("journal user %s created (channel %s)", short(pid), channel)
    return user


def set_region(session: Session, user: User, region: str | None) -> User:
    """Remember (or forget, with None) the region used to choose crisis resources."""
    if region is not None:
        _require_consent(user)
    user.region = clean_text(region, "region", REGION_LIMIT, required=False)
    session.flush()
    return user


def set_consent(session: Session, user: User, journal_consent: bool) -> User:
    """Record whether the user agreed that the bot keeps their reflections."""
    if not isinstance(journal_consent, bool):
        raise JournalInputError("journal_consent", "must be true or false")
    user.journal_consent = journal_consent
    session.flush()
    logger.info("journal user %s consent set to %s", short(user.pseudonym), journal_consent)
    return user


def consent_of(session: Session, channel: str, sender_id: str) -> bool | None:
    """True (agreed), False (declined) or None (never asked) for this sender."""
    user = find_user(session, channel, sender_id)
    return user.journal_consent if user is not None else None


def _require_consent(user: User) -> None:
    # Every write of an entry passes here: a missing "yes" keeps nothing, whatever the caller.
    if user.journal_consent is not True:
        raise JournalConsentMissing("the user has not agreed that their answers are kept")


# --- values and committed actions -------------------------------------------------------


@dataclass(frozen=True)
class ValueView:
    """The latest rating of one value, with the one before it so change can be shown."""

    value: str
    life_area: str
    own_word: bool
    importance: int
    consistency: int
    rated_at: datetime
    previous_importance: int | None = None
    previous_consistency: int | None = None
    previous_rated_at: datetime | None = None

    @property
    def gap(self) -> int:
        """How far living this value lags behind how much it matters (ACT's neglected value)."""
        return self.importance - self.consistency

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO 8601 strings)."""
        return {key: _jsonable(item) for key, item in asdict(self).items()}


def save_value_ratings(
    session: Session, user: User, life_area: str, ratings: Sequence[ValueRatingIn]
) -> list[ValueRating]:
    """Store one sitting of the values exercise: one row per value, all with the same time."""
    _require_consent(user)
    area = clean_text(life_area, "life_area", NAME_LIMIT)
    if not ratings:
        raise JournalInputError("ratings", "needs at least one value")
    now = utcnow()
    rows: list[ValueRating] = []
    seen: set[str] = set()
    for rating in ratings:
        word = clean_text(rating.value, "value", NAME_LIMIT)
        if word.casefold() in seen:
            raise JournalInputError("value", "the same value appears twice in one sitting")
        seen.add(word.casefold())
        rows.append(
            ValueRating(
                user_id=user.id,
                value=word,
                life_area=area,
                own_word=bool(rating.own_word),
                importance=check_rating(rating.importance, "importance"),
                consistency=check_rating(rating.consistency, "consistency"),
                created_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    logger.info("journal user %s rated %d values", short(user.pseudonym), len(rows))
    return rows


def latest_values(session: Session, user: User) -> list[ValueView]:
    """Each value's latest rating with its previous one, sorted by life area and value."""
    rows = session.execute(
        sa.select(ValueRating)
        .where(ValueRating.user_id == user.id)
        .order_by(ValueRating.created_at, ValueRating.id)
    ).scalars()
    history: dict[tuple[str, str], list[ValueRating]] = {}
    for row in rows:
        history.setdefault((row.life_area.casefold(), row.value.casefold()), []).append(row)
    views = []
    for key in sorted(history):
        *earlier, last = history[key]
        previous = earlier[-1] if earlier else None
        views.append(
            ValueView(
                value=last.value,
                life_area=last.life_area,
                own_word=last.own_word,
                importance=last.importance,
                consistency=last.consistency,
                rated_at=last.created_at,
                previous_importance=previous.importance if previous else None,
                previous_consistency=previous.consistency if previous else None,
                previous_rated_at=previous.created_at if previous else None,
            )
        )
    return views


def value_rating_history(session: Session, user: User) -> list[tuple[str, datetime, int]]:
    """Every rating of every value as ``(value, rated_at, lived)``, oldest first (the progress
    picture of values: ``bot.progress``)."""
    rows = session.execute(
        sa.select(ValueRating.value, ValueRating.created_at, ValueRating.consistency)
        .where(ValueRating.user_id == user.id)
        .order_by(ValueRating.created_at, ValueRating.id)
    )
    return [(value, rated_at, lived) for value, rated_at, lived in rows]


def add_committed_action(
    session: Session, user: User, text: str, value: str | None = None
) -> CommittedAction:
    """Store a small step the user chose, optionally tied to one of their values."""
    _require_consent(user)
    action = CommittedAction(
        user_id=user.id,
        value=clean_text(value, "value", NAME_LIMIT, required=False),
        text=clean_text(text, "text", ACTION_TEXT_LIMIT),
    )
    session.add(action)
    session.flush()
    logger.info("journal user %s added a committed action", short(user.pseudonym))
    return action


def set_action_done(
    session: Session, user: User, action_id: int, done: bool = True
) -> CommittedAction:
    """Mark a committed action done (or not done again)."""
    action = session.get(CommittedAction, action_id)
    if action is None or action.user_id != user.id:
        raise JournalNotFound("no such committed action")
    action.done = bool(done)
    action.done_at = utcnow() if done else None
    session.flush()
    return action


def _newest_first(model: Any, user: User, limit: int | None = None) -> Select:
    """The user's rows of ``model``, newest first (the later id first within one time)."""
    return (
        sa.select(model)
        .where(model.user_id == user.id)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(limit)
    )


def list_committed_actions(
    session: Session, user: User, include_done: bool = True
) -> list[CommittedAction]:
    """The user's committed actions, newest first."""
    query = _newest_first(CommittedAction, user)
    if not include_done:
        query = query.where(CommittedAction.done.is_(False))
    return list(session.execute(query).scalars())


# --- wise mind ---------------------------------------------------------------------------


def add_wise_mind_entry(
    session: Session,
    user: User,
    practice: str,
    distress_before: int,
    distress_after: int | None = None,
    note: str | None = None,
) -> WiseMindEntry:
    """Store one practice with distress before and after (0-10) and an optional note."""
    _require_consent(user)
    entry = WiseMindEntry(
        user_id=user.id,
        practice=clean_text(practice, "practice", NAME_LIMIT),
        distress_before=check_rating(distress_before, "distress_before"),
        distress_after=check_rating(distress_after, "distress_after", required=False),
        note=clean_text(note, "note", NOTE_LIMIT, required=False),
    )
    session.add(entry)
    session.flush()
    logger.info("journal user %s added a wise-mind entry", short(user.pseudonym))
    return entry


def list_wise_mind_entries(
    session: Session, user: User, limit: int | None = None
) -> list[WiseMindEntry]:
    """The user's practice history, newest first."""
    return list(session.execute(_newest_first(WiseMindEntry, user, limit)).scalars())


# --- boundary scripts --------------------------------------------------------------------

_SCRIPT_PARTS = ("describe", "express", "assertion", "reinforce")


def _assemble(parts: dict[str, str]) -> str:
    return "\n".join(parts[name] for name in _SCRIPT_PARTS)


def _check_priority(priority: Any) -> str:
    if priority not in PRIORITIES:
        raise JournalInputError("priority", f"must be one of {', '.join(PRIORITIES)}")
    return priority


def save_boundary_script(
    session: Session,
    user: User,
    *,
    title: str,
    describe: str,
    express: str,
    assertion: str,
    reinforce: str,
    priority: str,
    text: str | None = None,
) -> BoundaryScript:
    """Store a DEAR MAN script; ``text`` defaults to the four parts, one per line."""
    _require_consent(user)
    parts = {
        "describe": clean_text(describe, "describe", SCRIPT_PART_LIMIT),
        "express": clean_text(express, "express", SCRIPT_PART_LIMIT),
        "assertion": clean_text(assertion, "assertion", SCRIPT_PART_LIMIT),
        "reinforce": clean_text(reinforce, "reinforce", SCRIPT_PART_LIMIT),
    }
    assembled = clean_text(text, "text", NOTE_LIMIT, required=False) or _assemble(parts)
    script = BoundaryScript(
        user_id=user.id,
        title=clean_text(title, "title", TITLE_LIMIT),
        priority=_check_priority(priority),
        text=assembled,
        **parts,
    )
    session.add(script)
    session.flush()
    logger.info("journal user %s saved boundary script %d", short(user.pseudonym), script.id)
    return script


def get_boundary_script(session: Session, user: User, script_id: int) -> BoundaryScript | None:
    """One of this user's scripts (None for a missing id or someone else's script)."""
    script = session.get(BoundaryScript, script_id)
    return script if script is not None and script.user_id == user.id else None


def update_boundary_script(
    session: Session,
    user: User,
    script_id: int,
    *,
    title: str | None = None,
    describe: str | None = None,
    express: str | None = None,
    assertion: str | None = None,
    reinforce: str | None = None,
    priority: str | None = None,
    text: str | None = None,
) -> BoundaryScript:
    """Change some fields of a script; the text is re-assembled when a part changes without it."""
    _require_consent(user)
    script = get_boundary_script(session, user, script_id)
    if script is None:
        raise JournalNotFound("no such boundary script")
    changes = {
        "describe": describe,
        "express": express,
        "assertion": assertion,
        "reinforce": reinforce,
    }
    changed_parts = False
    for name, value in changes.items():
        if value is not None:
            setattr(script, name, clean_text(value, name, SCRIPT_PART_LIMIT))
            changed_parts = True
    if title is not None:
        script.title = clean_text(title, "title", TITLE_LIMIT)
    if priority is not None:
        script.priority = _check_priority(priority)
    if text is not None:
        script.text = clean_text(text, "text", NOTE_LIMIT)
    elif changed_parts:
        script.text = _assemble({name: getattr(script, name) for name in _SCRIPT_PARTS})
    session.flush()
    logger.info("journal user %s updated boundary script %d", short(user.pseudonym), script.id)
    return script


def list_boundary_scripts(session: Session, user: User) -> list[BoundaryScript]:
    """The user's scripts, most recently changed first."""
    query = (
        sa.select(BoundaryScript)
        .where(BoundaryScript.user_id == user.id)
        .order_by(BoundaryScript.updated_at.desc(), BoundaryScript.id.desc())
    )
    return list(session.execute(query).scalars())


# --- reflections and role-play -----------------------------------------------------------


def save_reflection(session: Session, user: User, scores: dict[str, float]) -> ReflectionResult:
    """Store the per-dimension scores of one codependency reflection."""
    _require_consent(user)
    result = ReflectionResult(user_id=user.id, scores=clean_scores(scores))
    session.add(result)
    session.flush()
    logger.info("journal user %s saved a reflection", short(user.pseudonym))
    return result


def latest_reflections(session: Session, user: User, limit: int = 5) -> list[ReflectionResult]:
    """The user's most recent reflections, newest first."""
    return list(session.execute(_newest_first(ReflectionResult, user, limit)).scalars())


def save_roleplay_session(
    session: Session,
    user: User,
    scenario_id: str,
    difficulty: str,
    outcome: str,
    replies: Iterable[RoleplayReplyIn | tuple[str, str, dict[str, Any] | None]],
) -> RoleplaySession:
    """Store one role-play with each reply, its label and the assessor's features."""
    _require_consent(user)
    record = RoleplaySession(
        user_id=user.id,
        scenario_id=clean_text(scenario_id, "scenario_id", NAME_LIMIT),
        difficulty=clean_text(difficulty, "difficulty", NAME_LIMIT),
        outcome=clean_text(outcome, "outcome", NAME_LIMIT),
    )
    for position, reply in enumerate(replies):
        text, label, features = RoleplayReplyIn(*reply)
        record.replies.append(
            RoleplayReply(
                position=position,
                text=clean_text(text, "reply", REPLY_LIMIT),
                label=clean_text(label, "label", NAME_LIMIT),
                features=clean_json(features, "features") if features is not None else None,
            )
        )
    session.add(record)
    session.flush()
    logger.info(
        "journal user %s saved a role-play with %d replies",
        short(user.pseudonym),
        len(record.replies),
    )
    return record


def list_roleplay_sessions(
    session: Session, user: User, limit: int | None = None
) -> list[RoleplaySession]:
    """The user's role-plays with their replies loaded, newest first."""
    query = _newest_first(RoleplaySession, user, limit).options(
        selectinload(RoleplaySession.replies)
    )
    return list(session.execute(query).scalars())


# --- the safety plan ----------------------------------------------------------------------

# Steps 1-5 of the plan, as columns of lists; step 6 is a choice, never text.
PLAN_LIST_FIELDS = ("warning_signs", "coping", "social", "helpers", "professionals")
SURROUNDINGS_CHOICES = ("done", "helper", "later")


def _plan_items(items: Any, field: str) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise JournalInputError(field, "must be a list of texts")
    if len(items) > PLAN_ITEMS_MAX:
        raise JournalInputError(field, f"has {len(items)} items; at most {PLAN_ITEMS_MAX}")
    return [clean_text(item, field, PLAN_ITEM_LIMIT) for item in items]


def _surroundings(choice: Any) -> str | None:
    if choice is not None and choice not in SURROUNDINGS_CHOICES:
        raise JournalInputError("surroundings", f"must be one of {', '.join(SURROUNDINGS_CHOICES)}")
    return choice


def save_safety_plan(
    session: Session, user: User, steps: dict[str, Any], surroundings: str | None
) -> SafetyPlan:
    """Store the user's plan (``steps``: a list of items for each of ``PLAN_LIST_FIELDS``),
    replacing the one they had."""
    _require_consent(user)
    values = {field: _plan_items(steps.get(field), field) for field in PLAN_LIST_FIELDS}
    choice = _surroundings(surroundings)
    plan = get_safety_plan(session, user)
    if plan is None:
        plan = SafetyPlan(user_id=user.id, surroundings=choice, **values)
        session.add(plan)
    else:
        for field, items in values.items():
            setattr(plan, field, items)
        plan.surroundings = choice
        plan.updated_at = utcnow()
    session.flush()
    logger.info("journal user %s saved a safety plan", short(user.pseudonym))
    return plan


def update_safety_plan_step(session: Session, user: User, field: str, value: Any) -> SafetyPlan:
    """Change one step of the user's plan (a list of items, or step 6's choice)."""
    _require_consent(user)
    plan = get_safety_plan(session, user)
    if plan is None:
        raise JournalNotFound("no safety plan")
    if field == "surroundings":
        plan.surroundings = _surroundings(value)
    elif field in PLAN_LIST_FIELDS:
        setattr(plan, field, _plan_items(value, field))
    else:
        raise JournalInputError("field", "is not a step of the safety plan")
    plan.updated_at = utcnow()
    session.flush()
    logger.info("journal user %s changed a step of their safety plan", short(user.pseudonym))
    return plan


def get_safety_plan(session: Session, user: User) -> SafetyPlan | None:
    return session.execute(
        sa.select(SafetyPlan).where(SafetyPlan.user_id == user.id)
    ).scalar_one_or_none()


def safety_plan_dict(plan: SafetyPlan) -> dict[str, Any]:
    """The plan's steps by field (lists of items; ``surroundings`` a choice or None)."""
    return {
        **{field: list(getattr(plan, field) or []) for field in PLAN_LIST_FIELDS},
        "surroundings": plan.surroundings,
    }


def safety_plan_of(session: Session, channel: str, sender_id: str) -> dict[str, Any] | None:
    """This sender's plan (``safety_plan_dict``), or None: what a crisis answer adds, read by
    the sender id the channel set (never one a client chose)."""
    user = find_user(session, channel, sender_id)
    plan = get_safety_plan(session, user) if user is not None else None
    return safety_plan_dict(plan) if plan is not None else None


# --- reported replies ----------------------------------------------------------------------


def save_reply_report(
    session: Session,
    user: User,
    *,
    channel: str,
    reply_id: str,
    note: str | None = None,
    consent: bool = False,
) -> ReplyReport:
    """Keep a report of one bot reply for the operator's review (``python -m bot.journal
    reports``).

    A report has its own yes (``consent``, asked with what will be kept, each time), apart from
    the notebook's consent: someone who keeps nothing else can still report a reply.
    """
    if consent is not True:
        raise JournalConsentMissing("the user has not agreed that this report is kept")
    report = ReplyReport(
        user_id=user.id,
        channel=clean_text(channel, "channel", CHANNEL_LIMIT),
        reply_id=clean_text(reply_id, "reply_id", REPLY_ID_LIMIT),
        note=clean_text(note, "note", REPORT_NOTE_LIMIT, required=False),
    )
    session.add(report)
    session.flush()
    logger.info("journal user %s reported a reply", short(user.pseudonym))
    return report


def list_reply_reports(session: Session, since: datetime | None = None) -> list[ReplyReport]:
    """Every user's reports, newest first (the operator's review); ``since``: from that time on."""
    query = sa.select(ReplyReport).order_by(ReplyReport.created_at.desc(), ReplyReport.id.desc())
    if since is not None:
        query = query.where(ReplyReport.created_at >= since)
    return list(session.execute(query).scalars())


# --- what we remember, export, erasure, retention ----------------------------------------


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def row_dict(row: Base, exclude: Iterable[str] = ("user_id",)) -> dict[str, Any]:
    """A mapped row's columns as a JSON-ready dict (times as ISO 8601 strings)."""
    skip = set(exclude)
    return {
        column.key: _jsonable(getattr(row, column.key))
        for column in sa.inspect(row).mapper.column_attrs
        if column.key not in skip
    }


def _count(session: Session, model: type, user: User) -> int:
    query = sa.select(sa.func.count()).select_from(model).where(model.user_id == user.id)
    return session.execute(query).scalar_one()


def summary(session: Session, user: User) -> dict[str, Any]:
    """What the bot can tell a user it remembers about them (JSON-ready)."""
    wise_mind = list_wise_mind_entries(session, user, limit=1)
    reflections = latest_reflections(session, user, limit=1)
    roleplays = list_roleplay_sessions(session, user, limit=1)
    plan = get_safety_plan(session, user)
    return {
        "region": user.region,
        "journal_consent": user.journal_consent,
        "member_since": _jsonable(user.created_at),
        "values": [view.as_dict() for view in latest_values(session, user)],
        "open_actions": [
            row_dict(action, exclude=("user_id", "done", "done_at"))
            for action in list_committed_actions(session, user, include_done=False)
        ],
        "done_actions": session.execute(
            sa.select(sa.func.count())
            .select_from(CommittedAction)
            .where(CommittedAction.user_id == user.id, CommittedAction.done.is_(True))
        ).scalar_one(),
        "wise_mind": {
            "entries": _count(session, WiseMindEntry, user),
            "last": row_dict(wise_mind[0], exclude=("user_id", "note")) if wise_mind else None,
        },
        "boundary_scripts": [
            {"id": script.id, "title": script.title, "updated_at": _jsonable(script.updated_at)}
            for script in list_boundary_scripts(session, user)
        ],
        "reflection": row_dict(reflections[0]) if reflections else None,
        "roleplay": {
            "sessions": _count(session, RoleplaySession, user),
            "last": row_dict(roleplays[0]) if roleplays else None,
        },
        "safety_plan": (
            {
                "steps_filled": sum(bool(getattr(plan, f)) for f in PLAN_LIST_FIELDS)
                + (plan.surroundings is not None),
                "updated_at": _jsonable(plan.updated_at),
            }
            if plan is not None
            else None
        ),
    }


def _rows(session: Session, model: type, user: User) -> list[dict[str, Any]]:
    query = sa.select(model).where(model.user_id == user.id).order_by(model.id)
    return [row_dict(row) for row in session.execute(query).scalars()]


JOURNAL_SECTIONS = (
    "value_ratings",
    "committed_actions",
    "wise_mind_entries",
    "boundary_scripts",
    "reflections",
    "roleplay_sessions",
    "safety_plans",
    "reply_reports",
)
# Room kept for the note on what was left out (its numbers vary) and each list's brackets.
_NOTE_ROOM = 1_000


def _newest_within(items: list[Any], budget: int) -> tuple[list[Any], int]:
    """The newest items (the end of ``items``) whose rendered size fits ``budget``; bytes used."""
    used = 0
    start = len(items)
    while start > 0:
        size = item_size(items[start - 1])
        if used + size > budget:
            break
        used += size
        start -= 1
    return items[start:], used


def _left_out_note(max_bytes: int, sender_id: str, left_out: dict[str, int]) -> str:
    parts = [f"{count:,} {name.replace('_', ' ')}" for name, count in left_out.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"One export holds at most {max_bytes:,} bytes, so this one is not complete: the oldest "
        f"{listed} are left out (everything newer is here). They are still stored, and "
        '"delete my data" erases them with everything else. To get them too, ask the people who '
        f"run this service for a full export of {sender_id}; they can make one with "
        f"`{FULL_EXPORT_COMMAND} {sender_id} --out <file>`."
    )


def export_user(
    session: Session,
    channel: str,
    sender_id: str,
    max_bytes: int | None = MAX_EXPORT_BYTES,
) -> dict[str, Any]:
    """What is stored about this sender, conversation log included, as JSON-ready data.

    Rendered as the user gets it (``exports.render``) the export holds at most ``max_bytes``:
    the journal comes first, then the conversation log, each keeping its newest entries;
    ``size_limit`` says whether anything was left out, how much, and how to get it. The log is
    read newest first and only as far as fits. ``max_bytes=None``: everything (the operator's
    ``python -m bot.journal export``).
    """
    user = find_user(session, channel, sender_id)
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _jsonable(utcnow()),
        "size_limit": {"max_bytes": max_bytes, "complete": True},
        "channel": channel,
        "sender_id": sender_id,
        "user": row_dict(user, exclude=()) if user else None,
        # The "lean on people" reminder: turned off or not, and when it was last shown.
        "nudges": _nudge_export(session, channel, sender_id),
        **{section: [] for section in JOURNAL_SECTIONS},
        "conversation_events": [],
    }
    journal: dict[str, list[Any]] = {section: [] for section in JOURNAL_SECTIONS}
    if user is not None:
        journal["value_ratings"] = _rows(session, ValueRating, user)
        journal["committed_actions"] = _rows(session, CommittedAction, user)
        journal["wise_mind_entries"] = _rows(session, WiseMindEntry, user)
        journal["boundary_scripts"] = _rows(session, BoundaryScript, user)
        journal["reflections"] = _rows(session, ReflectionResult, user)
        journal["safety_plans"] = _rows(session, SafetyPlan, user)
        journal["reply_reports"] = _rows(session, ReplyReport, user)
        journal["roleplay_sessions"] = [
            {
                **row_dict(record),
                "replies": [row_dict(reply, exclude=("session_id",)) for reply in record.replies],
            }
            for record in sorted(list_roleplay_sessions(session, user), key=lambda r: r.id)
        ]
    if max_bytes is None:
        export.update(journal)
        export["size_limit"] = {"max_bytes": None, "complete": True}
        export["conversation_events"] = tracker_events.export_events(session, sender_id)
        _log_export(user, export, {})
        return export

    budget = max_bytes - len(render(export).encode("utf-8")) - _NOTE_ROOM
    left_out: dict[str, int] = {}
    for section, rows in journal.items():
        export[section], used = _newest_within(rows, max(budget, 0))
        budget -= used
        if len(export[section]) < len(rows):
            left_out[section] = len(rows) - len(export[section])
    events, missing = tracker_events.newest_events(session, sender_id, max(budget, 0), item_size)
    export["conversation_events"] = events
    if missing:
        left_out["conversation_events"] = missing
    if left_out:
        export["size_limit"] = {
            "max_bytes": max_bytes,
            "complete": False,
            "left_out": left_out,
            "note": _left_out_note(max_bytes, sender_id, left_out),
        }
    _log_export(user, export, left_out)
    return export


def _nudge_export(session: Session, channel: str, sender_id: str) -> dict[str, Any] | None:
    row = nudge_of(session, channel, sender_id)
    return row_dict(row, exclude=()) if row is not None else None


def _log_export(user: User | None, export: dict[str, Any], left_out: dict[str, int]) -> None:
    logger.info(
        "journal export for user %s: %d events%s",
        short(user.pseudonym) if user else "(none)",
        len(export["conversation_events"]),
        f", left out: {_format_counts(left_out)}" if left_out else "",
    )


# --- one-time export downloads ------------------------------------------------------------

EXPORT_LINK_LIFETIME = timedelta(minutes=10)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_pending_export(
    session: Session,
    channel: str,
    sender_id: str,
    filename: str,
    body: str,
    lifetime: timedelta = EXPORT_LINK_LIFETIME,
) -> str:
    """Keep ``body`` for one download and return the link's token (shown once, never stored)."""
    pid = _pseudonym_for(session, channel, sender_id)
    now = utcnow()
    # Expired links of anyone go here: no separate cleaner needed for a rarely used feature.
    session.execute(sa.delete(PendingExport.__table__).where(PendingExport.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        PendingExport(
            token_hash=_token_hash(token),
            pseudonym=pid,
            filename=clean_text(filename, "filename", 120),
            body=body,
            expires_at=now + lifetime,
            created_at=now,
        )
    )
    session.flush()
    logger.info("journal export link created for user %s", short(pid))
    return token


def take_pending_export(session: Session, token: str) -> tuple[str, str] | None:
    """``(filename, body)`` for a valid token, deleting it (single use); None otherwise."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    row = session.get(PendingExport, _token_hash(token))
    if row is None:
        return None
    # Deleted before the expiry check: an expired row has no further use either.
    deleted = _delete(
        session,
        sa.delete(PendingExport.__table__).where(PendingExport.token_hash == row.token_hash),
    )
    if deleted != 1 or row.expires_at <= utcnow():
        return None
    return row.filename, row.body


def _delete(session: Session, statement: sa.sql.Delete) -> int:
    return session.execute(statement).rowcount


def delete_user(session: Session, channel: str, sender_id: str) -> dict[str, int]:
    """Erase this sender: every journal row and Rasa's conversation log. Returns row counts.

    Each table is cleared explicitly (for the counts); the foreign keys cascade as well, as a
    net for tables added later.
    """
    user = find_user(session, channel, sender_id)
    counts = {"roleplay_replies": 0, **{model.__tablename__: 0 for model, _ in ENTRY_TABLES}}
    counts["users"] = 0
    pid = _pseudonym_for(session, channel, sender_id)
    counts["pending_exports"] = _delete(
        session, sa.delete(PendingExport.__table__).where(PendingExport.pseudonym == pid)
    )
    counts["ai_notices"] = _delete(
        session, sa.delete(AiNotice.__table__).where(AiNotice.pseudonym == pid)
    )
    counts["nudges"] = _delete(session, sa.delete(Nudge.__table__).where(Nudge.pseudonym == pid))
    if user is not None:
        sessions_of_user = sa.select(RoleplaySession.id).where(RoleplaySession.user_id == user.id)
        counts["roleplay_replies"] = _delete(
            session,
            sa.delete(RoleplayReply.__table__).where(
                RoleplayReply.session_id.in_(sessions_of_user)
            ),
        )
        for model, _ in ENTRY_TABLES:
            counts[model.__tablename__] = _delete(
                session, sa.delete(model.__table__).where(model.user_id == user.id)
            )
        counts["users"] = _delete(session, sa.delete(User.__table__).where(User.id == user.id))
        session.expunge(user)
    counts["events"] = tracker_events.delete_events(session, sender_id)
    if sender_ids.channel_of(sender_id) in SESSION_CHANNELS:
        # In the same transaction: once the log is gone, its token opens nothing.
        end_session(session, sender_id)
    logger.info(
        "journal erased user %s: %s",
        short(user.pseudonym) if user else "(none)",
        _format_counts(counts),
    )
    return counts


# --- the "program, not a person" notice ------------------------------------------------------


def ai_notice_of(session: Session, channel: str, sender_id: str) -> AiNotice | None:
    """This sender's notice times (``bot.channels.ai_notice``), or None before their first turn."""
    return session.get(AiNotice, _pseudonym_for(session, channel, sender_id))


def record_ai_notice(
    session: Session,
    channel: str,
    sender_id: str,
    *,
    last_seen_at: datetime,
    conversation_since: datetime,
    last_notice_at: datetime | None,
) -> None:
    """Store this sender's notice times (one upsert: several processes may write at once)."""
    pid = _pseudonym_for(session, channel, sender_id)
    values = {
        "last_seen_at": last_seen_at,
        "conversation_since": conversation_since,
        "last_notice_at": last_notice_at,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(AiNotice.__table__)
        .values(pseudonym=pid, **values)
        .on_conflict_do_update(index_elements=["pseudonym"], set_=values)
    )
    session.execute(statement)


# --- the "lean on people, not on the bot" reminder -------------------------------------------


def nudge_of(session: Session, channel: str, sender_id: str) -> Nudge | None:
    """This sender's reminder choice and last reminder (``bot.exercises.nudge``), or None."""
    return session.get(Nudge, _pseudonym_for(session, channel, sender_id))


_UNCHANGED: Any = object()


def record_nudge(
    session: Session,
    channel: str,
    sender_id: str,
    *,
    reminders_off: bool | None = None,
    last_nudge_at: datetime | None = _UNCHANGED,
    now: datetime | None = None,
) -> None:
    """Store the reminder's choice and/or its last time (one upsert; what is not given stays)."""
    pid = _pseudonym_for(session, channel, sender_id)
    values: dict[str, Any] = {"updated_at": now or utcnow()}
    if reminders_off is not None:
        values["reminders_off"] = bool(reminders_off)
    if last_nudge_at is not _UNCHANGED:
        values["last_nudge_at"] = last_nudge_at
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Nudge.__table__)
        .values(pseudonym=pid, **{"reminders_off": False, **values})
        .on_conflict_do_update(index_elements=["pseudonym"], set_=values)
    )
    session.execute(statement)


# --- web sessions ended by an erasure ------------------------------------------------------

# Channels whose sender id is a session the server issued (and can end); Telegram chat ids and
# REST senders are named by their client and cannot be replaced.
SESSION_CHANNELS = frozenset({"socketio"})
# Longer than any token can live (bot.channels.socketio.MAX_SESSION_DAYS is 365).
ENDED_SESSION_KEPT = timedelta(days=366)


def _session_hash(sender_id: str) -> str:
    return hashlib.sha256(b"secure-base ended session:" + sender_id.encode("utf-8")).hexdigest()


def end_session(session: Session, sender_id: str, now: datetime | None = None) -> None:
    """Record that this web session was erased: ``session_ended`` is True for it from now on."""
    now = now or utcnow()
    # Rows past their time go here: erasures are rare, no separate cleaner is needed.
    session.execute(sa.delete(EndedSession.__table__).where(EndedSession.expires_at <= now))
    _insert_ignoring_duplicate(
        session,
        EndedSession,
        session_hash=_session_hash(sender_id),
        ended_at=now,
        expires_at=now + ENDED_SESSION_KEPT,
    )


def session_ended(session: Session, sender_id: str) -> bool:
    """Whether this web session's conversation was erased (its token must not be used)."""
    found = session.execute(
        sa.select(EndedSession.session_hash).where(
            EndedSession.session_hash == _session_hash(sender_id)
        )
    ).first()
    return found is not None


def purge(session: Session, older_than: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Remove entries and conversation events older than the cutoff, then users left empty.

    A user row goes when nothing of theirs remains and it has not changed since the cutoff.
    """
    if older_than <= timedelta(0):
        raise ValueError("older_than must be a positive duration")
    cutoff = (now or utcnow()) - older_than
    counts: dict[str, int] = {}
    # Export links last minutes; any left over have expired (they are never kept longer).
    counts["pending_exports"] = _delete(
        session,
        sa.delete(PendingExport.__table__).where(PendingExport.expires_at <= utcnow()),
    )
    counts["ai_notices"] = _delete(
        session, sa.delete(AiNotice.__table__).where(AiNotice.last_seen_at < cutoff)
    )
    counts["nudges"] = _delete(session, sa.delete(Nudge.__table__).where(Nudge.updated_at < cutoff))
    old_sessions = sa.select(RoleplaySession.id).where(RoleplaySession.created_at < cutoff)
    counts["roleplay_replies"] = _delete(
        session,
        sa.delete(RoleplayReply.__table__).where(RoleplayReply.session_id.in_(old_sessions)),
    )
    for model, time_column in ENTRY_TABLES:
        column = model.__table__.c[time_column]
        counts[model.__tablename__] = _delete(
            session, sa.delete(model.__table__).where(column < cutoff)
        )
    nothing_left = [~sa.exists().where(model.user_id == User.id) for model, _ in ENTRY_TABLES]
    counts["users"] = _delete(
        session, sa.delete(User.__table__).where(User.updated_at < cutoff, *nothing_left)
    )
    counts["events"] = tracker_events.purge_events(session, cutoff)
    # Objects loaded before the purge may describe rows that are gone.
    session.expire_all()
    logger.info("journal purge before %s: %s", cutoff.isoformat(), _format_counts(counts))
    return counts


def table_counts(session: Session) -> dict[str, int]:
    """Rows per table (journal tables, and Rasa's events when present); no content."""
    counts = {
        table.name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }
    events = tracker_events.count_events(session)
    if events is not None:
        counts[tracker_events.EVENTS_TABLE] = events
    return counts


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}={count}" for name, count in counts.items())
