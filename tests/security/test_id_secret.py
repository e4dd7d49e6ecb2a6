"""Finding 6 of issue 13: one pseudonym secret per deployment, or the deployment does not start.

A new secret per run (the launcher's old default) or two processes with different secrets file
one person under two pseudonyms, and an erasure by one leaves the other's rows behind.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from bot.journal import repository, session_scope
from bot.journal.db import dispose_engines, upgrade
from bot.journal.errors import IdSecretMismatch
from bot.journal.identity import ID_SECRET_ENV
from bot.secrets import SecretError
from deploy import launch
from deploy.cluster import Cluster, Settings


def _settings(url: str, tmp_path: Path, secret: str | None) -> Settings:
    env = {ID_SECRET_ENV: secret} if secret is not None else {}
    # Nothing is started here: a stand-in model file keeps these tests off models/.
    model = tmp_path / "model.tar.gz"
    model.touch()
    return Settings(database_url=url, workdir=tmp_path / "work", env=env, model=model)


def test_a_deployment_without_the_secret_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ID_SECRET_ENV, raising=False)
    with pytest.raises(SecretError, match=ID_SECRET_ENV):
        Cluster(_settings("postgresql://postgres@127.0.0.1/none", tmp_path, None))


def test_a_deployment_with_an_example_secret_is_refused(tmp_path: Path) -> None:
    example = "a-long-random-string-shared-by-every-process"
    with pytest.raises(SecretError, match=ID_SECRET_ENV):
        Cluster(_settings("postgresql://postgres@127.0.0.1/none", tmp_path, example))


@pytest.mark.postgres
def test_a_deployment_started_with_another_secret_is_refused(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    first, second = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    Cluster(_settings(postgres_url, tmp_path, first)).prepare_database()

    monkeypatch.setenv(ID_SECRET_ENV, second)
    code = launch.main(["--database-url", postgres_url, "--workdir", str(tmp_path / "second")])
    assert code == 2
    assert ID_SECRET_ENV in capsys.readouterr().err
    # Refused before anything was started: no process wrote a log.
    assert not list((tmp_path / "second").glob("*.log"))

    # The first secret still works: the record was not replaced by the refused start.
    Cluster(_settings(postgres_url, tmp_path, first)).record_id_secret()


def test_a_process_with_another_secret_cannot_use_the_journal(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    monkeypatch.setenv(ID_SECRET_ENV, secrets.token_urlsafe(32))
    with session_scope(sqlite_url) as session:
        repository.get_or_create_user(session, "rest", "someone")
    dispose_engines(sqlite_url)

    monkeypatch.setenv(ID_SECRET_ENV, secrets.token_urlsafe(32))
    with pytest.raises(IdSecretMismatch, match=ID_SECRET_ENV), session_scope(sqlite_url) as s:
        repository.find_user(s, "rest", "someone")
    dispose_engines(sqlite_url)
