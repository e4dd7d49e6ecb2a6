"""Faults on the multi-process deployment: a Rasa process killed, the action servers, PostgreSQL
and Redis stopped. Users must never get a 5xx or silence from a fault Rasa survives, crisis
messages must always get the resources, and every message answered is in the tracker store.

PostgreSQL and Redis here are private instances (tests/faults/services.py) on free ports:
stopping the machine's shared servers would break every other test running at the same time.
Each test leaves the deployment whole again for the next.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from bot.channels import failsafe
from bot.channels.ai_notice import is_notice_text
from bot.safety import resources
from deploy.cluster import Cluster, Settings
from tests.faults.services import PrivatePostgres, PrivateRedis
from tests.scale.traffic import (
    APOLOGIES,
    PIN_HEADER,
    audit,
    message_text,
    report,
    run_conversations,
    stored_user_messages,
)

pytestmark = pytest.mark.server

CRISIS_TEXT = "I want to die"
OUTAGE_SECONDS = 30


@dataclass
class Services:
    postgres: PrivatePostgres
    redis: PrivateRedis


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    postgres = PrivatePostgres().init()
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    try:
        postgres.start()
        redis.start()
        yield Services(postgres, redis)
    finally:
        redis.stop()
        postgres.destroy()


@pytest.fixture(scope="module")
def cluster(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    settings = Settings(
        database_url=services.postgres.create_database("secure_base"),
        workdir=tmp_path_factory.mktemp("faults"),
        rasa_processes=2,
        action_servers=2,
        redis_port=services.redis.port,
        redis_db=0,
        env={"SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32)},
    )
    with Cluster(settings) as running:
        yield running


@pytest.fixture
def deployment(cluster: Cluster, services: Services) -> Iterator[Cluster]:
    """The cluster, made whole again after the test whatever it stopped."""
    yield cluster
    if not (services.postgres.datadir / "postmaster.pid").exists():
        services.postgres.start()
    if services.redis._process is None:
        services.redis.start()
    for index, process in enumerate(cluster.actions):
        if process is None:
            cluster.start_actions(index)
    for index, process in enumerate(cluster.rasa):
        if process is None or process.popen.poll() is not None:
            cluster.start_rasa(index)


def say(cluster: Cluster, sender: str, text: str) -> tuple[int, list[str]]:
    """One REST message through nginx, pinned to the sender's process."""
    try:
        answer = requests.post(
            cluster.webhook_url,
            headers={PIN_HEADER: sender, **cluster.rest_headers},
            json={"sender": sender, "message": text},
            timeout=180,
        )
    except requests.RequestException:
        return 0, []
    texts = [m.get("text") or "" for m in answer.json()] if answer.status_code == 200 else []
    # The "program, not a person" notice (shown whenever the database cannot say it was seen)
    # is not what these tests are about.
    return answer.status_code, [t for t in texts if not is_notice_text(t)]


def has_resources(texts: list[str]) -> bool:
    return any(resources.is_resource_text(t) for t in texts)


def is_apology(texts: list[str]) -> bool:
    return bool(texts) and all(t.startswith(APOLOGIES) for t in texts)


def test_kill_9_of_a_rasa_process_under_load_loses_no_answered_message(
    deployment: Cluster,
) -> None:
    cluster = deployment
    run = uuid.uuid4().hex[:8]
    senders = [f"kill-{run}-{i}" for i in range(8)]
    stop = threading.Event()
    outcome: dict = {}

    def load() -> None:
        outcome["replies"], outcome["wall"] = asyncio.run(
            run_conversations(
                cluster.webhook_url,
                senders,
                turns=10_000,
                burst=3,
                pinned=lambda i: i % 2 == 0,
                keep_going=lambda: not stop.is_set(),
                headers=cluster.rest_headers,
            )
        )

    traffic = threading.Thread(target=load)
    traffic.start()
    try:
        time.sleep(10)  # conversations under way on both processes
        killed_at = time.monotonic()
        cluster.kill_rasa(0)
        time.sleep(10)  # the other process carries everyone
        cluster.start_rasa(0)
        restarted_at = time.monotonic()
        time.sleep(10)  # both again
    finally:
        stop.set()
        traffic.join(600)
    replies = outcome["replies"]
    result = audit(replies, stored_user_messages(cluster.settings.database_url, senders))
    print("\n" + report("kill -9 of Rasa process 0 under load, then restart", replies,
                        outcome["wall"], result))  # fmt: skip
    after_kill = [r for r in replies if killed_at < r.sent_at < restarted_at]
    after_restart = [r for r in replies if r.sent_at > restarted_at]
    print(
        f"while process 0 was down: {len(after_kill)} sent, "
        f"{sum(r.answered for r in after_kill)} answered; after its restart: "
        f"{len(after_restart)} sent, {sum(r.answered for r in after_restart)} answered; "
        f"statuses {dict(Counter(r.status for r in replies))}"
    )
    assert (result.lost, result.duplicated, result.reordered) == ([], [], [])
    assert any(r.answered for r in after_kill), "the surviving process should carry the load"
    assert after_restart and all(r.answered for r in after_restart)


def test_action_servers_down_give_an_apology_and_crisis_still_gets_resources(
    deployment: Cluster,
) -> None:
    cluster = deployment
    sender = f"actions-{uuid.uuid4().hex[:8]}"
    status, texts = say(cluster, sender, "show my journal")
    assert status == 200 and texts and not is_apology(texts)

    cluster.stop_actions(0)
    status, texts = say(cluster, sender, "show my journal")
    assert status == 200 and texts and not is_apology(texts), "nginx uses the other one"

    cluster.stop_actions(1)
    journal = say(cluster, sender, "show my journal")
    # Other users: a crisis exchange changes what the dialogue expects next.
    crisis = say(cluster, f"{sender}-crisis", CRISIS_TEXT)
    plain = say(cluster, f"{sender}-plain", message_text(1))
    print(f"\nno action server: journal {journal}, crisis {crisis[0]}, plain {plain[0]}")
    assert journal[0] == 200 and is_apology(journal[1])
    assert crisis[0] == 200 and has_resources(crisis[1])
    assert plain[0] == 200 and plain[1] and not is_apology(plain[1]), "responses need no actions"

    cluster.start_actions(0)
    cluster.start_actions(1)
    status, texts = say(cluster, sender, "show my journal")
    assert status == 200 and texts and not is_apology(texts)


@dataclass
class Outage:
    """What users got before, during and after PostgreSQL was down, and what was stored."""

    during: list[tuple[str, int, list[str]]]
    crisis: list[tuple[int, list[str]]]
    after: list[tuple[int, list[str]]]
    answered_before: dict[str, list[int]]
    answered_during: dict[str, list[int]]
    answered_after: dict[str, list[int]]
    stored: dict[str, list[int]]
    run: str
    logs: dict[str, str]
    # Typed replies, once the database is back, to the questions the floor asked while it was
    # down: "no" to "Are you safe right now?", "yes" to the check-in.
    safety_reply: tuple[int, list[str]]
    check_in: list[tuple[int, list[str]]]
    check_in_reply: tuple[int, list[str]]

    def missing(self, answered: dict[str, list[int]]) -> dict[str, list[int]]:
        gaps = {s: sorted(set(n) - set(self.stored[s])) for s, n in answered.items()}
        return {s: gap for s, gap in gaps.items() if gap}


@pytest.fixture(scope="module")
def postgres_outage(cluster: Cluster, services: Services) -> Outage:
    """Four users talk before, during (OUTAGE_SECONDS) and after a PostgreSQL stop; once."""
    run = uuid.uuid4().hex[:8]
    senders = [f"pg-{run}-{i}" for i in range(4)]
    seq: Counter[str] = Counter()
    phases: dict[str, dict[str, list[int]]] = {
        phase: {s: [] for s in senders} for phase in ("before", "during", "after")
    }

    def talk(sender: str, phase: str) -> tuple[int, list[str]]:
        seq[sender] += 1
        status, texts = say(cluster, sender, message_text(seq[sender]))
        if status == 200 and texts and not is_apology(texts):
            phases[phase][sender].append(seq[sender])
        return status, texts

    for sender in senders:
        for _ in range(2):
            talk(sender, "before")
    services.postgres.stop()
    try:
        down_until = time.monotonic() + OUTAGE_SECONDS
        during: list[tuple[str, int, list[str]]] = []
        crisis: list[tuple[int, list[str]]] = []
        check_in: list[tuple[int, list[str]]] = []
        while time.monotonic() < down_until:
            for sender in senders:
                during.append((sender, *talk(sender, "during")))
            crisis.append(say(cluster, f"pg-crisis-{run}", CRISIS_TEXT))
            check_in.append(say(cluster, f"pg-check-in-{run}", middle_band_text()))
            time.sleep(2)
    finally:
        services.postgres.start()
    after = [talk(sender, "after") for sender in senders for _ in range(3)]
    safety_reply = say(cluster, f"pg-crisis-{run}", "no")
    check_in_reply = say(cluster, f"pg-check-in-{run}", "yes")
    outage = Outage(
        during=during,
        crisis=crisis,
        after=after,
        answered_before=phases["before"],
        answered_during=phases["during"],
        answered_after=phases["after"],
        stored=stored_user_messages(cluster.settings.database_url, senders),
        run=run,
        logs={name: path.read_text(errors="replace") for name, path in cluster.logs().items()},
        safety_reply=safety_reply,
        check_in=check_in,
        check_in_reply=check_in_reply,
    )
    kinds = Counter(
        "apology" if is_apology(t) else "answer" if t else f"empty {st}" for _, st, t in during
    )
    print(
        f"\nPostgreSQL down {OUTAGE_SECONDS} s: {len(during)} messages -> {dict(kinds)}; "
        f"crisis {sum(has_resources(t) for _, t in crisis)}/{len(crisis)} with resources; "
        f"after: {dict(Counter(st for st, _ in after))}; answered during the outage but not "
        f"stored: {sum(map(len, outage.missing(outage.answered_during).values()))}"
    )
    return outage


def test_postgres_down_crisis_answers_work_and_no_one_meets_an_error_or_silence(
    postgres_outage: Outage,
) -> None:
    outage = postgres_outage
    assert all(status == 200 and texts for _, status, texts in outage.during)
    # Users are told the message was not taken in (and asked to send it again) rather than
    # answered from a fresh conversation that is never stored.
    assert any(texts == [failsafe.UNAVAILABLE_TEXT] for _, _, texts in outage.during)
    assert outage.crisis and all(st == 200 and has_resources(t) for st, t in outage.crisis)
    assert all(status == 200 and texts and not is_apology(texts) for status, texts in outage.after)


def middle_band_text() -> str:
    """A message the detector answers with the check-in question (not the full resources)."""
    from bot.safety import detect
    from bot.safety.detector import TIER_CHECK_IN

    for text in (
        "everyone is better off when I'm not there",
        "it would be simpler for everyone if I just faded out",
        "I'm just in everyone's way",
    ):
        result = detect(text)
        if result.is_crisis and result.tier == TIER_CHECK_IN:
            return text
    pytest.fail("the detector gives every candidate the full resources: add new candidates")


def test_postgres_down_a_typed_reply_to_the_floors_question_is_its_answer(
    postgres_outage: Outage,
) -> None:
    """The dialogue lost those turns; the user saw the question and answers it by typing."""
    outage = postgres_outage
    regions = resources.catalogue().all_texts()
    status, texts = outage.safety_reply
    said = " ".join(" ".join(texts).split())  # the channel may send a long text line by line
    assert status == 200 and any(" ".join(r.not_safe.split()) in said for r in regions), texts
    status, texts = outage.check_in[-1]
    assert status == 200 and any(resources.is_check_in_text(t) for t in texts), texts
    status, texts = outage.check_in_reply
    assert status == 200 and has_resources(texts), texts


def test_postgres_down_what_was_answered_before_and_after_is_stored(
    postgres_outage: Outage,
) -> None:
    outage = postgres_outage
    assert all(outage.answered_before.values()) and all(outage.answered_after.values())
    assert outage.missing(outage.answered_before) == {}
    assert outage.missing(outage.answered_after) == {}


def test_postgres_down_logs_hold_no_user_text_or_sender_id(postgres_outage: Outage) -> None:
    """Database errors are logged while it is down; they must not carry who wrote what."""
    leaks = {
        name: sorted(
            {m.group(0) for m in re.finditer(rf"pg-{postgres_outage.run}|seq \d+: ", text)}
        )
        for name, text in postgres_outage.logs.items()
    }
    assert {name: found for name, found in leaks.items() if found} == {}


def test_postgres_down_nothing_answered_during_the_outage_is_lost(
    postgres_outage: Outage,
) -> None:
    assert postgres_outage.missing(postgres_outage.answered_during) == {}


def test_redis_down_conversations_go_on_and_crisis_gets_resources(
    deployment: Cluster, services: Services
) -> None:
    cluster = deployment
    run = uuid.uuid4().hex[:8]
    senders = [f"redis-{run}-{i}" for i in range(4)]
    services.redis.stop()
    replies, wall = asyncio.run(
        run_conversations(
            cluster.webhook_url,
            senders,
            turns=6,
            burst=3,
            pinned=lambda i: True,
            headers=cluster.rest_headers,
        )
    )
    crisis = say(cluster, f"redis-crisis-{run}", CRISIS_TEXT)
    services.redis.start()
    more, more_wall = asyncio.run(
        run_conversations(
            cluster.webhook_url,
            [f"{s}-b" for s in senders],
            turns=3,
            burst=3,
            headers=cluster.rest_headers,
        )
    )
    stored = stored_user_messages(
        cluster.settings.database_url, senders + [f"{s}-b" for s in senders]
    )
    result = audit(replies + more, stored)
    print("\n" + report("Redis down, then back", replies + more, wall + more_wall, result))
    assert crisis[0] == 200 and has_resources(crisis[1])
    assert result.answered == result.sent
    assert (result.lost, result.duplicated, result.reordered) == ([], [], [])
