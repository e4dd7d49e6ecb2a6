"""Conversations with numbered messages, and the audit of what the tracker store kept.

Every message says ``seq <n>: <question>``: ordinary, non-crisis text the bot answers from a
response (no form, no custom action), so the load is on Rasa and the stores, not on an exercise.
A conversation sends its turns in bursts: the messages of one burst go out at the same moment;
the next burst starts when every answer of the previous one is back.

The audit reads Rasa's ``events`` table (SQL) and checks, per conversation:
lost (an answered message that is not stored), duplicated (stored twice) and reordered (a
message stored before one from an earlier burst, which had been answered before it was sent).
Inside one burst the messages were in flight together, so any order among them is correct.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
import sqlalchemy as sa

from bench.load import require_loopback
from bench.stats import summarize
from bot import sender_ids
from bot.channels import failsafe
from bot.channels.ai_notice import is_notice_text
from bot.safety import resources

QUESTIONS = (
    "what is codependency?",
    "tell me about codependency",
    "explain codependency",
)
SEQ_RE = re.compile(r"^seq (\d+): ")
# The fail-safe's answers when the dialogue produced nothing, or the conversation store was down
# and the message was not kept (bot/channels/failsafe.py): both ask the user to send it again.
APOLOGIES = (failsafe.APOLOGY_TEXT, failsafe.UNAVAILABLE_TEXT)
# nginx hashes on this header to keep a conversation on one process (deploy/nginx.conf.template).
PIN_HEADER = "X-Secure-Base-Sender"


def message_text(seq: int) -> str:
    return f"seq {seq}: {QUESTIONS[seq % len(QUESTIONS)]}"


@dataclass
class Reply:
    """One message sent and what came back."""

    sender: str
    seq: int
    burst: int
    status: int  # 0 = no HTTP answer at all (connection error, timeout)
    texts: list[str]
    seconds: float
    sent_at: float = 0.0  # time.monotonic() when it went out

    @property
    def answered(self) -> bool:
        """A 200 with a real answer: the user was told their message was heard.

        Neither the fail-safe's apology nor crisis resources alone count: the fail-safe sends
        resources on its own when the dialogue cannot run, and these messages are no crisis.
        """
        return self.status == 200 and any(
            not t.startswith(APOLOGIES) and not resources.is_resource_text(t) for t in self.texts
        )

    @property
    def apology(self) -> bool:
        return self.status == 200 and any(t.startswith(APOLOGIES) for t in self.texts)


async def send(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    text: str,
    *,
    pin: bool,
    timeout: float = 180,
) -> tuple[int, list[str], float]:
    """POST one message; ``pin`` names the sender in a header so nginx keeps it on one process.

    A header rather than ``?sender=``: nginx's error log quotes the request line when a process
    is down, and sender ids must not reach logs.
    """
    started = time.monotonic()
    headers = {PIN_HEADER: sender} if pin else None
    try:
        async with session.post(
            url,
            headers=headers,
            json={"sender": sender, "message": text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            status = response.status
            body = await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0, [], time.monotonic() - started
    texts: list[str] = []
    if status == 200:
        try:
            texts = [m.get("text") or "" for m in json.loads(body) if isinstance(m, dict)]
        except ValueError:
            texts = []
    # The "program, not a person" notice is no answer to the message (and a database outage
    # shows it on every message): it is left out.
    texts = [t for t in texts if not is_notice_text(t)]
    return status, texts, time.monotonic() - started


async def conversation(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    *,
    turns: int,
    burst: int,
    pin: bool,
    first_seq: int = 1,
    keep_going: Callable[[], bool] = lambda: True,
) -> list[Reply]:
    """``turns`` messages in bursts of ``burst``; stops early when ``keep_going()`` is false."""
    replies: list[Reply] = []
    seq = first_seq
    burst_index = 0
    while seq < first_seq + turns and keep_going():
        seqs = list(range(seq, min(seq + burst, first_seq + turns)))
        sent_at = time.monotonic()
        results = await asyncio.gather(
            *(send(session, url, sender, message_text(n), pin=pin) for n in seqs)
        )
        for n, (status, texts, seconds) in zip(seqs, results, strict=True):
            replies.append(Reply(sender, n, burst_index, status, texts, seconds, sent_at))
        seq += len(seqs)
        burst_index += 1
    return replies


async def run_conversations(
    url: str,
    senders: Sequence[str],
    *,
    turns: int,
    burst: int,
    pinned: Callable[[int], bool] = lambda index: True,
    keep_going: Callable[[], bool] = lambda: True,
    headers: Mapping[str, str] | None = None,
) -> tuple[list[Reply], float]:
    """Every sender's conversation at once; returns the replies and the wall time.

    ``headers`` go with every request (the REST token: ``Cluster.rest_headers``).
    """
    require_loopback(url)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        per_sender = await asyncio.gather(
            *(
                conversation(
                    session,
                    url,
                    sender,
                    turns=turns,
                    burst=burst,
                    pin=pinned(index),
                    keep_going=keep_going,
                )
                for index, sender in enumerate(senders)
            )
        )
    return [reply for replies in per_sender for reply in replies], time.monotonic() - started


def stored_user_messages(database_url: str, senders: Iterable[str]) -> dict[str, list[int]]:
    """The seq numbers of the user messages Rasa stored, per sender, in the order it stored them.

    ``senders`` are the ids sent over REST; Rasa stores them as ``rest:<sender>``.
    """
    wanted = list(senders)
    stored_as = {sender_ids.with_channel("rest", sender): sender for sender in wanted}
    engine = sa.create_engine(database_url)
    stored: dict[str, list[int]] = {sender: [] for sender in wanted}
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT sender_id, data FROM events WHERE type_name = 'user' "
                    "AND sender_id IN :senders ORDER BY id"
                ).bindparams(sa.bindparam("senders", expanding=True)),
                {"senders": list(stored_as)},
            )
            for sender_id, data in rows:
                match = SEQ_RE.match(json.loads(data).get("text") or "")
                if match:
                    stored[stored_as[sender_id]].append(int(match.group(1)))
    finally:
        engine.dispose()
    return stored


@dataclass
class Audit:
    """What the tracker store kept against what the users were told."""

    sent: int = 0
    answered: int = 0
    apologies: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    stored: int = 0
    lost: list[tuple[str, int]] = field(default_factory=list)
    duplicated: list[tuple[str, int]] = field(default_factory=list)
    reordered: list[tuple[str, int]] = field(default_factory=list)
    unanswered_but_stored: int = 0
    within_burst_swaps: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def audit(replies: Sequence[Reply], stored: dict[str, list[int]]) -> Audit:
    """Compare the replies with the stored messages (see the module docstring)."""
    result = Audit(sent=len(replies))
    by_sender: dict[str, dict[int, Reply]] = defaultdict(dict)
    for reply in replies:
        by_sender[reply.sender][reply.seq] = reply
        result.statuses[reply.status] += 1
        result.answered += reply.answered
        result.apologies += reply.apology
    for sender, seqs in stored.items():
        sent = by_sender.get(sender, {})
        result.stored += len(seqs)
        counts = Counter(seqs)
        result.duplicated += [(sender, n) for n, c in sorted(counts.items()) if c > 1]
        result.lost += [
            (sender, n) for n, r in sorted(sent.items()) if r.answered and n not in counts
        ]
        result.unanswered_but_stored += sum(1 for n in counts if n in sent and not sent[n].answered)
        latest_burst = -1
        previous = None
        for n in seqs:
            reply = sent.get(n)
            if reply is None:
                continue
            if reply.burst < latest_burst:
                result.reordered.append((sender, n))
            if previous is not None and reply.burst == previous.burst and n < previous.seq:
                result.within_burst_swaps += 1
            latest_burst = max(latest_burst, reply.burst)
            previous = reply
    return result


def report(title: str, replies: Sequence[Reply], wall: float, result: Audit) -> str:
    """The numbers, as printed by the tests."""
    latency = summarize([r.seconds for r in replies]) if replies else None
    lines = [
        f"== {title}",
        f"messages sent {result.sent}, answered {result.answered}, apologies "
        f"{result.apologies}, statuses {dict(sorted(result.statuses.items()))}",
        f"time {wall:.1f} s, throughput {result.sent / wall:.1f} msg/s"
        + (
            f", latency p50 {latency.p50:.0f} ms, p95 {latency.p95:.0f} ms, "
            f"max {latency.max:.0f} ms"
            if latency
            else ""
        ),
        f"stored {result.stored}; lost {len(result.lost)}, duplicated "
        f"{len(result.duplicated)}, reordered {len(result.reordered)}; stored though not "
        f"answered {result.unanswered_but_stored}; within-burst swaps (allowed) "
        f"{result.within_burst_swaps}",
    ]
    return "\n".join(lines)
