"""Content errors name the file and the key."""

from pathlib import Path

import pytest

from bot.content import (
    ContentError,
    load_yaml,
    require_entries,
    require_keys,
    require_list,
    require_mapping,
    require_text,
    require_texts,
)
from bot.roleplay.content import ContentError as RoleplayContentError


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "values.yml"
    broken.write_text("values: [honesty, : oops\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_yaml(broken)
    assert str(broken) in str(info.value)
    assert "not valid YAML" in str(info.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="file not found"):
        load_yaml(tmp_path / "nope.yml")


def test_shape_checks_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    with pytest.raises(ContentError, match=r"key 'steps'.*mapping"):
        require_mapping([1], path, "steps")
    with pytest.raises(ContentError, match=r"key 'title'.*non-empty text"):
        require_text("  ", path, "title")
    with pytest.raises(ContentError, match=r"key 'title'.*at most 5"):
        require_text("too long", path, "title", max_len=5)
    with pytest.raises(ContentError, match=r"key 'moves'.*at least 4"):
        require_list([1, 2], path, "moves", min_len=4)
    with pytest.raises(ContentError, match=r"key 'scenario.persona'.*missing"):
        require_keys({"title": "t"}, ["title", "persona"], path, prefix="scenario")


def test_good_content_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text("title: Hello\nmoves: [a, b]\n", encoding="utf-8")
    data = require_mapping(load_yaml(path), path, "")
    assert require_text(data["title"], path, "title") == "Hello"
    assert require_list(data["moves"], path, "moves", min_len=2) == ["a", "b"]


def test_a_list_of_texts_is_stripped_and_names_the_bad_item(tmp_path: Path) -> None:
    path = tmp_path / "words.yml"
    assert require_texts([" calm ", "steady"], path, "words") == ("calm", "steady")
    with pytest.raises(ContentError, match=r"key 'words\[1\]'.*non-empty text"):
        require_texts(["calm", True], path, "words")
    with pytest.raises(ContentError, match=r"key 'words'.*at least 1"):
        require_texts([], path, "words")


def test_a_list_of_mappings_names_each_entry_and_the_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "areas.yml"
    entries = list(require_entries([{"key": "work"}, {"key": "home"}], path, "areas"))
    assert entries == [("areas[0]", {"key": "work"}), ("areas[1]", {"key": "home"})]
    with pytest.raises(ContentError, match=r"key 'areas\[1\]'.*mapping"):
        list(require_entries([{"key": "work"}, "home"], path, "areas"))
    with pytest.raises(ContentError, match=r"key 'areas'.*at least 3"):
        list(require_entries([{"key": "work"}], path, "areas", min_len=3))


def test_each_family_of_content_errors_keeps_its_message() -> None:
    assert str(ContentError("values.yml", "areas", "missing")) == "values.yml, key 'areas': missing"
    assert str(ContentError("values.yml", "", "file not found")) == "values.yml: file not found"
    error = RoleplayContentError("cover_shift.yml", "moves[2].kind", "unknown kind")
    assert isinstance(error, ContentError)
    assert str(error) == "cover_shift.yml: moves[2].kind: unknown kind"
    assert (error.path, error.key, error.problem) == (
        "cover_shift.yml",
        "moves[2].kind",
        "unknown kind",
    )
