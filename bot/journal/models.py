"""The journal's tables (SQLAlchemy 1.4 declarative; Rasa pins SQLAlchemy below 1.5).

Every row hangs off ``users`` with ON DELETE CASCADE, so erasing a user is one delete even if
a table is added and the repository forgets it. Times are timezone-aware UTC in Python; SQLite
keeps them as naive UTC text, PostgreSQL as ``timestamptz``. Rasa's ``events`` table shares the
database but is not ours: it is not declared here and migrations never touch it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> datetime:
    """Now, aware and in UTC (the only kind of time the journal stores)."""
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on every database.

    SQLite has no time zones: without this, values come back naive and comparisons with aware
    times fail. Naive input is refused, because its zone would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the journal stores timezone-aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _user_fk() -> sa.Column:
    return sa.Column(
        sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )


def _created_at() -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)


def _rating(name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{name} BETWEEN 0 AND 10", name=f"{name}_range")


_CHILDREN = {"cascade": "all, delete-orphan", "passive_deletes": True}


class User(Base):
    """One person on one channel, known only by a pseudonym."""

    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    pseudonym = sa.Column(sa.String(64), nullable=False, unique=True)
    region = sa.Column(sa.String(32))
    # None: never asked; False: declined; True: agreed. Nothing is journaled unless True
    # (revision 0002 added it, 0003 made "never asked" distinct from "declined").
    journal_consent = sa.Column(sa.Boolean, nullable=True)
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    value_ratings = relationship("ValueRating", back_populates="user", **_CHILDREN)
    committed_actions = relationship("CommittedAction", back_populates="user", **_CHILDREN)
    wise_mind_entries = relationship("WiseMindEntry", back_populates="user", **_CHILDREN)
    boundary_scripts = relationship("BoundaryScript", back_populates="user", **_CHILDREN)
    reflections = relationship("ReflectionResult", back_populates="user", **_CHILDREN)
    roleplay_sessions = relationship("RoleplaySession", back_populates="user", **_CHILDREN)
    safety_plan = relationship("SafetyPlan", back_populates="user", uselist=False, **_CHILDREN)
    reply_reports = relationship("ReplyReport", back_populates="user", **_CHILDREN)


class ValueRating(Base):
    """A value as rated in one sitting; the rows of one value over time show its change."""

    __tablename__ = "value_ratings"
    __table_args__ = (_rating("importance"), _rating("consistency"))

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    value = sa.Column(sa.String(80), nullable=False)
    life_area = sa.Column(sa.String(80), nullable=False)
    own_word = sa.Column(sa.Boolean, nullable=False, default=False)
    importance = sa.Column(sa.SmallInteger, nullable=False)
    consistency = sa.Column(sa.SmallInteger, nullable=False)
    created_at = _created_at()

    user = relationship("User", back_populates="value_ratings")


class CommittedAction(Base):
    """A small step towards a value that the user promised themselves."""

    __tablename__ = "committed_actions"

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    value = sa.Column(sa.String(80))
    text = sa.Column(sa.Text, nullable=False)
    done = sa.Column(sa.Boolean, nullable=False, default=False)
    done_at = sa.Column(UTCDateTime())
    created_at = _created_at()

    user = relationship("User", back_populates="committed_actions")


class WiseMindEntry(Base):
    """One wise-mind practice with distress before and after, like a line of a diary card."""

    __tablename__ = "wise_mind_entries"
    __table_args__ = (_rating("distress_before"), _rating("distress_after"))

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    practice = sa.Column(sa.String(80), nullable=False)
    distress_before = sa.Column(sa.SmallInteger, nullable=False)
    distress_after = sa.Column(sa.SmallInteger)
    note = sa.Column(sa.Text)
    created_at = _created_at()

    user = relationship("User", back_populates="wise_mind_entries")


class BoundaryScript(Base):
    """A DEAR MAN script the user wrote, kept so they can use and refine it later."""

    __tablename__ = "boundary_scripts"
    __table_args__ = (
        sa.CheckConstraint("priority IN ('relationship', 'self_respect')", name="priority_kind"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    title = sa.Column(sa.String(200), nullable=False)
    describe = sa.Column(sa.Text, nullable=False)
    express = sa.Column(sa.Text, nullable=False)
    assertion = sa.Column(sa.Text, nullable=False)  # DEAR MAN's "Assert"
    reinforce = sa.Column(sa.Text, nullable=False)
    priority = sa.Column(sa.String(20), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    created_at = _created_at()
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    user = relationship("User", back_populates="boundary_scripts")


class ReflectionResult(Base):
    """Scores of one codependency reflection, per dimension (names come from the content)."""

    __tablename__ = "reflection_results"

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    scores = sa.Column(sa.JSON, nullable=False)
    created_at = _created_at()

    user = relationship("User", back_populates="reflections")


class RoleplaySession(Base):
    """One practice conversation of saying no."""

    __tablename__ = "roleplay_sessions"

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    scenario_id = sa.Column(sa.String(80), nullable=False)
    difficulty = sa.Column(sa.String(80), nullable=False)
    outcome = sa.Column(sa.String(80), nullable=False)
    created_at = _created_at()

    user = relationship("User", back_populates="roleplay_sessions")
    replies = relationship(
        "RoleplayReply",
        back_populates="session",
        order_by="RoleplayReply.position",
        **_CHILDREN,
    )


class RoleplayReply(Base):
    """One reply the user typed in a role-play, with the assessor's label and features."""

    __tablename__ = "roleplay_replies"

    id = sa.Column(sa.Integer, primary_key=True)
    session_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("roleplay_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    position = sa.Column(sa.Integer, nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    label = sa.Column(sa.String(80), nullable=False)
    features = sa.Column(sa.JSON)
    created_at = _created_at()

    session = relationship("RoleplaySession", back_populates="replies")


class SafetyPlan(Base):
    """The user's own safety plan (Stanley & Brown's six steps): one per user, kept up to date.

    Steps 1-5 are lists of short texts in the user's words (JSON arrays; an empty array is a
    skipped step). Step 6 keeps only a choice (``bot.exercises.safety_plan.SURROUNDINGS_CHOICES``),
    never words: nothing about making one's surroundings safer is stored as text.
    """

    __tablename__ = "safety_plans"
    __table_args__ = (
        sa.CheckConstraint(
            "surroundings IS NULL OR surroundings IN ('done', 'helper', 'later')",
            name="surroundings_choice",
        ),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    )
    warning_signs = sa.Column(sa.JSON, nullable=False)
    coping = sa.Column(sa.JSON, nullable=False)
    social = sa.Column(sa.JSON, nullable=False)
    helpers = sa.Column(sa.JSON, nullable=False)
    professionals = sa.Column(sa.JSON, nullable=False)
    surroundings = sa.Column(sa.String(16))
    created_at = _created_at()
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    user = relationship("User", back_populates="safety_plan")


class ReplyReport(Base):
    """A bot reply the user reported for the people who run the service to review.

    Kept only with the user's yes to this report (asked each time, apart from the notebook's
    consent). ``reply_id`` names the reply without its words: the response or action names of
    the bot's turn and the time it was said (``bot.exercises.report_reply.reply_id``). ``note``
    is the user's optional short note, never logged.
    """

    __tablename__ = "reply_reports"

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = _user_fk()
    channel = sa.Column(sa.String(32), nullable=False)
    reply_id = sa.Column(sa.String(200), nullable=False)
    note = sa.Column(sa.Text)
    created_at = _created_at()

    user = relationship("User", back_populates="reply_reports")


class DeploymentKey(Base):
    """A keyed fingerprint of a deployment-wide secret, recorded by the first process to start.

    Every later process compares its own secret's fingerprint with this row and refuses to work
    on a mismatch: processes with different pseudonym secrets would file one person under two
    ids, and an erasure by one would leave the other's rows behind.
    """

    __tablename__ = "deployment_keys"

    name = sa.Column(sa.String(64), primary_key=True)
    fingerprint = sa.Column(sa.String(64), nullable=False)
    created_at = _created_at()


class PendingExport(Base):
    """An export waiting to be downloaded once through a link (the web page's download).

    Keyed by the SHA-256 of the link's random token, so the table alone cannot be turned into
    working links; the row goes when the link is used, when it expires, or with an erasure.
    """

    __tablename__ = "pending_exports"

    token_hash = sa.Column(sa.String(64), primary_key=True)
    pseudonym = sa.Column(sa.String(64), nullable=False, index=True)
    filename = sa.Column(sa.String(120), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    expires_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    created_at = _created_at()


# Tables that hold a user's entries directly, each with the timestamp that retention uses.
ENTRY_TABLES: tuple[tuple[type, str], ...] = (
    (ValueRating, "created_at"),
    (CommittedAction, "created_at"),
    (WiseMindEntry, "created_at"),
    (BoundaryScript, "updated_at"),
    (ReflectionResult, "created_at"),
    (RoleplaySession, "created_at"),
    (SafetyPlan, "updated_at"),
    (ReplyReport, "created_at"),
)


class CrisisCount(Base):
    """How many crisis messages one region and channel had on one day (``bot.safety.counter``).

    Not a user's data: no sender, no text, so erasure and retention never touch it.
    """

    __tablename__ = "crisis_counts"

    day = sa.Column(sa.Date, primary_key=True)
    region = sa.Column(sa.String(16), primary_key=True)
    channel = sa.Column(sa.String(32), primary_key=True)
    count = sa.Column(sa.Integer, nullable=False)


class TelegramUpdate(Base):
    """A Telegram ``update_id`` taken by one server process (``bot.channels.telegram``).

    Shared by every process and kept over restarts, so a re-sent update is answered once.
    ``state`` is ``claimed`` while a process works on it (until ``expires_at``, unix seconds,
    after which another process may take it over) and ``done`` once it was answered.
    """

    __tablename__ = "telegram_updates"

    update_id = sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    state = sa.Column(sa.String(8), nullable=False)
    expires_at = sa.Column(sa.Float, nullable=False, index=True)


class EndedSession(Base):
    """A web session whose conversation was erased: its token must never open anything again.

    Keyed by a hash of the sender id (``web:<session id>``, a random 128-bit id), so the table
    holds nothing that could name or reach a person; it only lets the socket.io channel refuse
    the old token (``bot.channels.socketio``). A row outlives every token of its session: tokens
    are renewed only while a session is open and expire ``SECURE_BASE_SESSION_DAYS`` (at most
    365) after their last renewal, so rows go after ``expires_at``.
    """

    __tablename__ = "ended_sessions"

    session_hash = sa.Column(sa.String(64), primary_key=True)
    ended_at = sa.Column(UTCDateTime(), nullable=False)
    expires_at = sa.Column(UTCDateTime(), nullable=False, index=True)


class AiNotice(Base):
    """When a user last saw the notice that they are talking to a program, not a person, and
    when they last wrote (``bot.channels.ai_notice``: the chatbot laws' disclosure rules).

    Keyed by the pseudonym alone: a sender gets the notice from their first message on, long
    before (or without ever) becoming a journal user. Three times, no text; erased with the
    user's data and purged with old entries.
    """

    __tablename__ = "ai_notices"

    pseudonym = sa.Column(sa.String(64), primary_key=True)
    last_seen_at = sa.Column(UTCDateTime(), nullable=False, index=True)
    # The first message of the current conversation (after a pause of the conversation's length).
    conversation_since = sa.Column(UTCDateTime(), nullable=False)
    last_notice_at = sa.Column(UTCDateTime())


class Nudge(Base):
    """The "lean on people, not on the bot" reminder of one user (``bot.exercises.nudge``):
    whether they turned it off, and when they last saw it (at most once a week).

    Keyed by the pseudonym alone, like ``ai_notices``: the reminder is part of how the bot
    behaves, not an exercise answer, so it is kept without the journal consent. No text; in the
    export, erased with the user's data and purged with old entries.
    """

    __tablename__ = "nudges"

    pseudonym = sa.Column(sa.String(64), primary_key=True)
    reminders_off = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    last_nudge_at = sa.Column(UTCDateTime())
    updated_at = sa.Column(UTCDateTime(), nullable=False, index=True)
