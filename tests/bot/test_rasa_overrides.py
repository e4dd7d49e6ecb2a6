"""The overrides of Rasa are installed by the channels' start-up, once, and only on Rasa 3.6.21.

``tests/channels/test_rest.py`` checks the same in a real ``rasa run`` (its log and its model).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.utils.tensorflow.models import RasaModel

from bot import action_results, model_loading, rasa_overrides
from bot.channels import rest, socketio, telegram

REPO = Path(__file__).resolve().parents[2]
FROM_CREDENTIALS = [
    rest.SafeRestInput.from_credentials,
    socketio.SafeSocketIOInput.from_credentials,
    telegram.SecureTelegramInput.from_credentials,
]


@pytest.fixture
def stock_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's own methods for the test, whatever an earlier test installed (restored after)."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", action_results._STOCK)
    monkeypatch.setattr(RasaModel, "load", classmethod(model_loading._STOCK_LOAD))
    assert rasa_overrides.active() == []


def test_the_overrides_are_written_for_the_installed_rasa() -> None:
    assert rasa.__version__ == rasa_overrides.RASA_VERSION == "3.6.21"


def test_importing_the_channels_changes_nothing_in_rasa() -> None:
    code = (
        "import bot.channels.rest, bot.channels.socketio, bot.channels.telegram\n"
        "from bot import rasa_overrides\n"
        "assert rasa_overrides.active() == [], rasa_overrides.active()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.parametrize("from_credentials", FROM_CREDENTIALS, ids=lambda f: f.__qualname__)
def test_each_channels_start_up_installs_them_once(
    stock_rasa: None,
    from_credentials: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv(rest.TOKEN_ENV, raising=False)
    caplog.set_level(logging.INFO, logger=rasa_overrides.__name__)
    from_credentials({})  # type: ignore[operator]
    assert rasa_overrides.active() == ["action_results", "model_loading"]
    [record] = [r for r in caplog.records if r.name == rasa_overrides.__name__]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "Rasa 3.6.21 overrides active: action_results, model_loading"
    caplog.clear()
    for start in FROM_CREDENTIALS:  # every channel of credentials.yml calls it
        start({})  # type: ignore[operator]
    assert rasa_overrides.install() == []
    assert [r for r in caplog.records if r.name == rasa_overrides.__name__] == []


def test_an_override_undone_is_installed_again(stock_rasa: None) -> None:
    assert rasa_overrides.install() == ["action_results", "model_loading"]
    model_loading.uninstall()
    assert rasa_overrides.install() == ["model_loading"]


def test_another_rasa_version_is_refused_before_anything_is_patched(
    stock_rasa: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    for start in FROM_CREDENTIALS:
        with pytest.raises(rasa_overrides.RasaVersionError) as refused:
            start({})  # type: ignore[operator]
        assert "written for Rasa 3.6.21, and this is Rasa 3.6.22" in str(refused.value)
    assert rasa_overrides.active() == []
