"""A server with a guessable secret does not start; a REST channel without its token is locked.

Each start-up here is a real ``rasa run`` / ``rasa run actions`` process: the secrets are read
when the channels and the action server's plugin start, before any model is loaded, so a refused
start ends in seconds rather than minutes.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from bot.channels import rest
from deploy.processes import REPO_ROOT, bin_path, find_model, free_port, server_env
from tests.e2e.servers import RasaStack
from tests.telegram.updates import TOKEN

pytestmark = pytest.mark.server

START_LIMIT_S = 240
PLACEHOLDER_ACTION_TOKEN = "a-long-random-token-shared-by-rasa-and-the-action-server"


def _env(**overrides: str) -> dict[str, str]:
    env = server_env(
        {
            "SECURE_BASE_WARM_UP": "0",
            "SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32),
            "SECURE_BASE_SESSION_SECRET": secrets.token_urlsafe(32),
            "SECURE_BASE_REST_TOKEN": secrets.token_urlsafe(32),
            "SECURE_BASE_ACTION_TOKEN": secrets.token_urlsafe(32),
        }
    )
    for name in ("TELEGRAM_TOKEN", "TELEGRAM_SECRET", "TELEGRAM_WEBHOOK_URL"):
        env.pop(name, None)
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def _run_until_exit(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a server that must refuse to start; a server that starts is killed at the limit."""
    try:
        return subprocess.run(
            [bin_path(args[0]), *args[1:]],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_LIMIT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{args[0]} started (still running after {START_LIMIT_S} s): {expired}")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        pytest.param(None, "is not set", id="unset"),
        pytest.param(PLACEHOLDER_ACTION_TOKEN, "example value", id="placeholder"),
        pytest.param("short-token-42", "characters long", id="short"),
    ],
)
def test_the_action_server_refuses_to_start_without_a_strong_token(
    value: str | None, why: str
) -> None:
    env = _env(SECURE_BASE_ACTION_TOKEN=value)  # type: ignore[arg-type]  (None: unset)
    done = _run_until_exit(
        ["rasa", "run", "actions", "--actions", "actions", "--port", str(free_port())], env
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "SECURE_BASE_ACTION_TOKEN" in output and why in output, output[-2000:]
    if value:
        assert value not in output


def _rasa_with(tmp_path: Path, credentials: dict, **overrides: str) -> tuple[int, str]:
    credentials_file = tmp_path / "credentials.yml"
    credentials_file.write_text(yaml.safe_dump(credentials))
    endpoints_file = tmp_path / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump({}))
    args = ["rasa", "run", "--model", str(find_model()), "--port", str(free_port())]
    args += ["--interface", "127.0.0.1", "--credentials", str(credentials_file)]
    args += ["--endpoints", str(endpoints_file)]
    done = _run_until_exit(args, _env(**overrides))
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("setting", "value", "credentials"),
    [
        pytest.param(
            "SECURE_BASE_REST_TOKEN",
            "a-long-random-token-for-tools-and-tests",
            {"bot.channels.rest.SafeRestInput": None},
            id="rest-placeholder",
        ),
        pytest.param(
            "SECURE_BASE_SESSION_SECRET",
            "another-long-random-string",
            {"bot.channels.socketio.SafeSocketIOInput": {"session_persistence": True}},
            id="session-placeholder",
        ),
        pytest.param(
            "TELEGRAM_SECRET",
            "x1",
            {"bot.channels.telegram.SecureTelegramInput": None},
            id="telegram-one-character",
        ),
    ],
)
def test_rasa_refuses_to_start_with_a_guessable_secret(
    tmp_path: Path, setting: str, value: str, credentials: dict
) -> None:
    overrides = {setting: value}
    if setting == "TELEGRAM_SECRET":
        overrides.update(
            TELEGRAM_TOKEN=TOKEN,
            TELEGRAM_WEBHOOK_URL="https://bot.example.org/webhooks/telegram/webhook",
            TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",
        )
    code, output = _rasa_with(tmp_path, credentials, **overrides)
    assert code != 0
    assert setting in output, output[-2000:]


@pytest.fixture(scope="module")
def tokenless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """Rasa with the REST channel and no SECURE_BASE_REST_TOKEN (and, to start fast, no model:
    the lock sits in front of the dialogue, so the dialogue is not needed to show it)."""
    workdir = tmp_path_factory.mktemp("rest-tokenless")
    empty = workdir / "no-models"
    empty.mkdir()
    stack = RasaStack(
        {"bot.channels.rest.SafeRestInput": None},
        workdir,
        model=empty,
        env={"SECURE_BASE_REST_TOKEN": ""},
        rasa_args=["--enable-api"],
    )
    with stack as running:
        yield running


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer anything-at-all-anything"])
def test_without_the_setting_every_rest_request_gets_a_401_that_says_how_to_set_it(
    tokenless: RasaStack, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = requests.post(
        f"{tokenless.base_url}/webhooks/rest/webhook",
        json={"sender": "someone", "message": "I want to die"},
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error == rest.NO_TOKEN_TEXT
    assert "SECURE_BASE_REST_TOKEN" in error and "Authorization: Bearer" in error
