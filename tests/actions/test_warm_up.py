"""The action server's warm-up loads every resource the skills would otherwise load on first use."""

from __future__ import annotations

import actions


def test_warm_up_loads_every_skill_resource_without_a_failure() -> None:
    assert actions.warm_up() == []


def test_warm_up_reports_a_loader_that_fails(monkeypatch) -> None:
    from bot.exercises import values

    def broken() -> None:
        raise ValueError("data/values/values.yml: missing key 'areas'")

    broken.__module__ = values.__name__
    monkeypatch.setattr(values, "values_content", broken)
    assert actions.warm_up() == ["bot.exercises.values.broken"]
