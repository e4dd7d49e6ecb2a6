"""Property-based fuzzing of the REST webhook against a real Rasa server with SafeRestInput.

Whatever a client posts (odd unicode, control characters, NUL bytes, 1 MB strings, `/intent`
injections, broken JSON, wrong types), the server must answer below 500 and stay up: a valid
message gets ``200`` with a list of bot messages, anything else a ``400``. Over 3,000 cases
run in total (see ``CASES``); each test ends by checking that both servers are still alive and
still answer "hi".

Run: ``.venv/bin/pytest -m server tests/fuzz -s`` (needs a trained model). The server is the shared
stack (``shared_stack`` in tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.channels.rest import MAX_BODY_BYTES, MAX_SENDER_CHARS
from deploy.processes import tail
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

TIMEOUT_S = 120
ONE_MB = 1_000_000

# Requests sent per test, printed at the end of the module (run with -s to see it).
CASES: Counter[str] = Counter()


# SECURE_BASE_FUZZ_SCALE=0.1 runs a tenth of the cases (a quick local try); the default runs all.
SCALE = float(os.environ.get("SECURE_BASE_FUZZ_SCALE", "1"))


def fuzz(examples: int, *, shrink: bool = True) -> settings:
    """Hypothesis settings for one property: no deadline (a round trip is ~20 ms, a 1 MB one more).

    ``shrink=False`` for properties whose failing case is a slow request: shrinking would repeat
    it dozens of times against a server that may still be busy with the last one.
    """
    phases = list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate]
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        phases=phases,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# Characters that break naive text handling: controls, NUL, bidi marks and overrides,
# zero-width joiners, BOM, combining marks, line/paragraph separators, non-characters.
TRICKY_CHARS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x1b",
    "\x7f",
    "\t",
    "\r",
    "\n",
    "\x85",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2069",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\u0301",
    "\u0338",
    "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U000e0001",
    "\U0010ffff",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u4f60\u597d",
]
WORDS = ["hi", "I want to die", "no", "stop", "help", "what is codependency", "/", "{", "}"]

# Intent names a client might try to force, known to the domain or not.
INJECTED_INTENTS = [
    "greet",
    "crisis",
    "restart",
    "session_start",
    "back",
    "out_of_scope",
    "nlu_fallback",
    "affirm",
    "deny",
    "stop_exercise",
    "start_roleplay",
    "start_values_exercise",
    "confirm_safe",
    "goodbye",
    "action_listen",
    "intent_that_does_not_exist",
]
INJECTED_TAILS = [
    "",
    " I want to die",
    " hello",
    "{}",
    '{"region": "UK"}',
    '{"name": "x"',
    "{not json}",
    '{"a": [1, 2, {"b": null}]}',
    '{"a": "' + "x" * 5000 + '"}',
    "[1, 2]",
    "{}{}",
    '{"a": 1} trailing',
    "\x00",
    "{" * 200,
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)
tricky_text = st.lists(
    st.one_of(st.sampled_from(TRICKY_CHARS), st.sampled_from(WORDS), st.text(max_size=8)),
    min_size=1,
    max_size=12,
).map("".join)


@pytest.fixture(scope="module")
def stack(shared_stack: RasaStack) -> Iterator[RasaStack]:
    """The shared stack (tests/conftest.py); the summary counts only this module's part of its log."""
    log = shared_stack.workdir / "rasa.log"
    start = log.stat().st_size if log.exists() else 0
    yield shared_stack
    total = sum(CASES.values())
    print(f"\nREST fuzz: {total} requests ({dict(CASES)})")
    with log.open("rb") as handle:
        handle.seek(start)
        text = handle.read().decode(errors="replace")
    failures = Counter(
        match.group(1)
        for match in re.finditer(r"(dialogue failed[^\n]*|Traceback|Exception[^\n]{0,80})", text)
    )
    print(f"REST fuzz: failures the fail-safe absorbed (rasa.log): {dict(failures) or 'none'}")


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _url(stack: RasaStack) -> str:
    return f"{stack.base_url}/webhooks/rest/webhook"


def _post_bytes(
    http: requests.Session,
    stack: RasaStack,
    body: bytes,
    case: str,
    content_type: str = "application/json",
) -> requests.Response:
    CASES[case] += 1
    return http.post(
        _url(stack),
        data=body,
        headers={"Content-Type": content_type, **stack.rest_headers},
        timeout=TIMEOUT_S,
    )


def _post_json(
    http: requests.Session, stack: RasaStack, payload: Any, case: str
) -> requests.Response:
    # ensure_ascii keeps lone surrogates sendable (as \\udXXX escapes), as a browser's would be.
    return _post_bytes(http, stack, json.dumps(payload).encode("ascii"), case)


def _expect_answer(answer: requests.Response) -> None:
    """A valid message: 200 and a non-empty list of bot messages (the fail-safe never is silent)."""
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    messages = answer.json()
    assert isinstance(messages, list) and messages, messages
    assert all(isinstance(m, dict) and m.get("recipient_id") is not None for m in messages)


def _expect_below_500(answer: requests.Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.status_code in (200, 400), answer.status_code


def _assert_still_up(http: requests.Session, stack: RasaStack) -> None:
    # RasaStack keeps its processes private; if that changes this fails loudly, not silently.
    for process, log in ((stack._rasa_proc, "rasa.log"), (stack._actions, "actions.log")):
        assert process is not None, "a server was never started"
        assert process.popen.poll() is None, f"{process.name} died:\n{tail(stack.workdir / log)}"
    health = http.get(f"{stack.action_url}/health", timeout=TIMEOUT_S)
    assert health.status_code == 200
    _expect_answer(_post_json(http, stack, {"sender": uuid.uuid4().hex, "message": "hi"}, "hi"))


def _sender() -> str:
    return f"fuzz-{uuid.uuid4().hex}"


# --- properties -------------------------------------------------------------------------------
# Each test runs an inner @given property, then checks that both servers survived it.


def test_any_unicode_message_is_answered(http: requests.Session, stack: RasaStack) -> None:
    @fuzz(400)
    @given(message=st.text(max_size=300))
    def prop(message: str) -> None:
        _expect_answer(
            _post_json(http, stack, {"sender": _sender(), "message": message}, "unicode")
        )

    prop()
    _assert_still_up(http, stack)


def test_lone_surrogates_and_tricky_characters_are_answered(
    http: requests.Session, stack: RasaStack
) -> None:
    surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)

    @fuzz(250)
    @given(message=st.one_of(tricky_text, st.text(st.one_of(surrogates, st.characters()))))
    def prop(message: str) -> None:
        _expect_answer(_post_json(http, stack, {"sender": _sender(), "message": message}, "tricky"))

    prop()
    _assert_still_up(http, stack)


def test_intent_injections_are_answered(http: requests.Session, stack: RasaStack) -> None:
    @fuzz(250)
    @given(
        prefix=st.sampled_from(["/", "//", " /", "/ /", "\u200b/", "\ufeff/"]),
        intent=st.one_of(st.sampled_from(INJECTED_INTENTS), st.text(max_size=20)),
        tail=st.one_of(st.sampled_from(INJECTED_TAILS), tricky_text),
    )
    def prop(prefix: str, intent: str, tail: str) -> None:
        body = {"sender": _sender(), "message": f"{prefix}{intent}{tail}"}
        _expect_answer(_post_json(http, stack, body, "injection"))

    prop()
    _assert_still_up(http, stack)


def test_wrong_types_get_400_never_500(http: requests.Session, stack: RasaStack) -> None:
    @fuzz(300)
    @given(
        body=st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"sender": json_values, "message": json_values},
                optional={"metadata": json_values, "input_channel": json_values},
            ),
            st.fixed_dictionaries(
                {"sender": st.text(min_size=1, max_size=40), "message": st.text(max_size=40)},
                optional={"metadata": json_values, "input_channel": json_values},
            ),
        )
    )
    def prop(body: Any) -> None:
        _expect_below_500(_post_json(http, stack, body, "types"))

    prop()
    _assert_still_up(http, stack)


def test_malformed_bodies_get_400_never_500(http: requests.Session, stack: RasaStack) -> None:
    valid = json.dumps({"sender": "s", "message": "hi"}).encode()

    @fuzz(250)
    @given(
        body=st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.integers(min_value=0, max_value=len(valid)).map(lambda n: valid[:n]),
            st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n),
            st.integers(min_value=1, max_value=200_000).map(lambda n: b'{"a":' * n),
            st.sampled_from(["utf-16", "utf-32", "latin-1"]).map(
                lambda codec: '{"sender": "s", "message": "héllo"}'.encode(codec)
            ),
        ),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
        ),
    )
    def prop(body: bytes, content_type: str) -> None:
        _expect_below_500(_post_bytes(http, stack, body, "malformed", content_type))

    prop()
    _assert_still_up(http, stack)


def test_huge_messages_and_senders_are_handled(http: requests.Session, stack: RasaStack) -> None:
    @fuzz(30, shrink=False)
    @given(
        unit=st.one_of(
            st.sampled_from(["a", "I want to die ", "/greet ", "\x00", "é\u202e"]),
            tricky_text.filter(bool),  # an empty unit cannot be repeated to a size
        ),
        size=st.integers(min_value=4_000, max_value=ONE_MB),
        where=st.sampled_from(["message", "sender"]),
    )
    def prop(unit: str, size: int, where: str) -> None:
        big = (unit * (size // len(unit) + 1))[:size]
        body = {"sender": _sender(), "message": "hi"}
        body[where] = big
        answer = _post_json(http, stack, body, "huge")
        if len(json.dumps(body).encode("ascii")) > MAX_BODY_BYTES:
            # Limits before work: the body is refused before anything reads it.
            assert answer.status_code == 413, (answer.status_code, answer.text[:300])
            assert "larger than" in answer.json()["error"]
        elif where == "message":
            _expect_answer(answer)
        else:
            _expect_below_500(answer)  # a long or unprintable sender id is refused with 400

    prop()
    _assert_still_up(http, stack)


def test_a_conversation_survives_a_stream_of_junk(http: requests.Session, stack: RasaStack) -> None:
    # One sender, many turns: the tracker grows with odd events instead of starting fresh.
    sender = _sender()

    @fuzz(150)
    @given(message=st.one_of(tricky_text, st.sampled_from(INJECTED_INTENTS).map("/".__add__)))
    def prop(message: str) -> None:
        _expect_answer(
            _post_json(http, stack, {"sender": sender, "message": message}, "one-sender")
        )

    prop()
    _assert_still_up(http, stack)


# --- hand-written edge cases --------------------------------------------------------------------

ANSWERED = [
    "\x00",
    "\x00" * 10,
    "hi\x00there",
    "\u202eI want to die",
    "\u200f\u200e",
    "\ufeffhello",
    "\ud800",
    "I want to die\udfff",
    "a" * ONE_MB,
    "I want to die " * 70_000,
    "/greet I want to die",
    "/crisis",
    "/restart",
    "/session_start",
    "/session_start{}",
    '/greet{"name": ',
    '/greet{"name": "x"}',
    '/greet{"name": "x"}{"a": 1}',
    "/greet" + "{" * 10_000,
    "/" * 10_000,
    "   ",
    "",
    "\U0001f600" * 2000,
    "\n\n\n",
]


@pytest.mark.parametrize("message", ANSWERED, ids=lambda m: repr(m[:24]) + f"[{len(m)}]")
def test_edge_case_message_is_answered(
    http: requests.Session, stack: RasaStack, message: str
) -> None:
    _expect_answer(_post_json(http, stack, {"sender": _sender(), "message": message}, "edge"))
    _assert_still_up(http, stack)


REFUSED = [
    b"",
    b"null",
    b"[]",
    b'"hi"',
    b"42",
    b"\xff\xfe\xfa",
    b"{",
    b"[" * 100_000,
    b'{"sender": "s"}',
    b'{"message": "hi"}',
    b'{"sender": "", "message": "hi"}',
    b'{"sender": "  ", "message": "hi"}',
    b'{"sender": null, "message": "hi"}',
    b'{"sender": true, "message": "hi"}',
    b'{"sender": [1], "message": "hi"}',
    b'{"sender": {"a": 1}, "message": "hi"}',
    b'{"sender": 1.5, "message": "hi"}',
    b'{"sender": NaN, "message": "hi"}',
    b'{"sender": "s", "message": null}',
    b'{"sender": "s", "message": 42}',
    b'{"sender": "s", "message": ["hi"]}',
    b'{"sender": "s", "message": "hi", "metadata": "x"}',
    b'{"sender": 1' + b"0" * 5000 + b', "message": "hi"}',
]


@pytest.mark.parametrize("body", REFUSED, ids=lambda b: repr(b[:30]) + f"[{len(b)}]")
def test_edge_case_body_is_refused_with_400(
    http: requests.Session, stack: RasaStack, body: bytes
) -> None:
    answer = _post_bytes(http, stack, body, "edge")
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert "error" in answer.json()
    _assert_still_up(http, stack)


@pytest.mark.parametrize(
    "sender", [12345, "a/b/../c", "\u00f1and\u00fa \U0001f642", "x" * MAX_SENDER_CHARS]
)
def test_odd_but_printable_senders_are_answered(
    http: requests.Session, stack: RasaStack, sender: object
) -> None:
    _expect_answer(_post_json(http, stack, {"sender": sender, "message": "hi"}, "edge"))
    _assert_still_up(http, stack)


# A lone surrogate (SQLite) or a NUL (PostgreSQL) in a sender id once made Rasa's SQL tracker
# store exit the whole server; the channel now refuses ids it could not store.
@pytest.mark.parametrize(
    "sender",
    ["\ud800", "\x00", "a\x00b", "\u202eevil", "line\nbreak", "x" * (MAX_SENDER_CHARS + 1)],
    ids=repr,
)
def test_unstorable_senders_are_refused_with_400(
    http: requests.Session, stack: RasaStack, sender: str
) -> None:
    answer = _post_json(http, stack, {"sender": sender, "message": "hi"}, "edge")
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert "sender" in answer.json()["error"]
    _assert_still_up(http, stack)
