"""Where Secure Base replaces Rasa's own code: installed once, at the Rasa server's start-up.

- :mod:`bot.action_results`: the action server's answers are checked with a JSON-schema
  validator built once, not rebuilt per custom action (same errors).
- :mod:`bot.model_loading`: DIET and ResponseSelector weights are restored without Rasa's
  one-step training run at load time (same predictions).

Both replace methods of Rasa's classes, as Rasa :data:`RASA_VERSION` has them, and their tests
compare them with that version's own code. :func:`install` refuses any other version
(:class:`RasaVersionError`) instead of running patched code on code it was not written for:
the server does not start until someone has checked them against the new version.

Every channel of this project calls :func:`install` in ``from_credentials``, which Rasa calls for
the channels in credentials.yml before it loads the model. Importing this module installs
nothing.
"""

from __future__ import annotations

import logging
import threading

import rasa

from bot import action_results, model_loading

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"

# name -> (installed?, install): in the order they are installed.
_OVERRIDES = {
    "action_results": (action_results.installed, action_results.install),
    "model_loading": (model_loading.installed, model_loading.install),
}
_lock = threading.Lock()


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the version the overrides were written for."""


def check_version(found: str | None = None) -> None:
    """Raise ``RasaVersionError`` unless the installed Rasa (or ``found``) is ``RASA_VERSION``."""
    found = found or rasa.__version__
    if found != RASA_VERSION:
        raise RasaVersionError(
            f"Secure Base's overrides of Rasa (bot/rasa_overrides.py) were written for Rasa "
            f"{RASA_VERSION}, and this is Rasa {found}. Install Rasa {RASA_VERSION} "
            "(requirements/), or check bot/action_results.py and bot/model_loading.py against "
            f"Rasa {found} with their tests in tests/bot/ and then change RASA_VERSION."
        )


def install() -> list[str]:
    """Check Rasa's version, then install every override not yet installed (idempotent).

    Returns the names installed by this call and logs them at INFO; [] when all were active.
    """
    check_version()
    with _lock:
        installed = []
        for name, (is_installed, install_one) in _OVERRIDES.items():
            if not is_installed():
                install_one()
                installed.append(name)
    if installed:
        logger.info("Rasa %s overrides active: %s", RASA_VERSION, ", ".join(active()))
    return installed


def active() -> list[str]:
    """The names of the overrides installed right now."""
    return [name for name, (is_installed, _) in _OVERRIDES.items() if is_installed()]
