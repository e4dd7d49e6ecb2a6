"""The progress pictures drawn from journal-like rows: real PNGs of the promised size, one point
per rating/pause/week passed in, and a kind sentence instead of an empty or one-point chart."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone

import pytest

from bot.progress import charts, history, pictures

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)  # a Monday


def _day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == charts.PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _assert_small_png(png: bytes) -> None:
    assert _png_size(png) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert len(png) < 60_000
    assert b"matplotlib" not in png.lower()  # no software stamp


def test_value_series_keeps_each_rating_per_value_oldest_first() -> None:
    rows = [("Honesty", _day(7), 6), ("honesty", _day(0), 3), ("Rest", _day(0), 5)]
    series = history.value_series(rows)
    assert [(s.value, [lived for _, lived in s.points]) for s in series] == [
        ("Honesty", [3, 6]),  # the newest spelling names it
        ("Rest", [5]),
    ]


def test_values_picture_has_one_point_per_rating_in_its_alt_and_a_real_png() -> None:
    rows = [
        ("Honesty", _day(0), 3),
        ("Rest", _day(0), 5),
        ("Honesty", _day(7), 6),
        ("Rest", _day(7), 4),
        ("Honesty", _day(15), 7),
    ]
    [picture] = pictures.progress_items(pictures.History(values=history.value_series(rows)))
    assert isinstance(picture, pictures.Picture)
    _assert_small_png(picture.png)
    assert "Honesty: 3, 6, 7." in picture.alt and "Rest: 5, 4." in picture.alt
    assert "3 check-ins" in picture.alt
    assert picture.summary == (
        "Since 2 Nov, you've been living “Honesty” more: from 3 to 7 out of 10."
    )
    assert picture.data_url.startswith("data:image/png;base64,iVBORw0KGgo")


def test_values_rated_once_get_the_not_yet_sentence_never_a_chart() -> None:
    series = history.value_series([("Honesty", _day(0), 3), ("Rest", _day(0), 5)])
    assert pictures.progress_items(pictures.History(values=series)) == [
        pictures.texts().text("values.not_yet")
    ]
    with pytest.raises(ValueError):
        charts.values_chart(series, {"title": "t", "y_label": "y"})


def test_wise_mind_picture_shows_each_complete_pause_and_says_it_eased() -> None:
    rows = [(_day(0), 8, 5), (_day(1), 6, None), (_day(2), 7, 4), (_day(3), 5, 4)]
    pauses = history.pauses(rows)
    assert len(pauses) == 3  # the pause without an "after" is not drawn
    [picture] = pictures.progress_items(pictures.History(pauses=pauses))
    _assert_small_png(picture.png)
    assert picture.alt.count(" before, ") == 3
    assert "2 Nov: 8 before, 5 after." in picture.alt
    assert (
        picture.summary == "Across your last 3 pauses, the feeling eased by 2.3 points on average."
    )


def test_wise_mind_rising_and_steady_summaries_are_kind() -> None:
    book = pictures.texts()
    rising = pictures.wise_mind_picture(history.pauses([(_day(0), 3, 5), (_day(1), 4, 6)]), book)
    assert "rose a little on average (2.0 points)" in rising.summary
    steady = pictures.wise_mind_picture(history.pauses([(_day(0), 3, 3), (_day(1), 4, 4)]), book)
    assert "stayed about the same" in steady.summary


def test_one_pause_gets_a_sentence() -> None:
    pauses = history.pauses([(_day(0), 8, 5)])
    assert pictures.progress_items(pictures.History(pauses=pauses)) == [
        pictures.texts().text("wise_mind.not_yet")
    ]
    with pytest.raises(ValueError):
        charts.wise_mind_chart(pauses, {"title": "t", "y_label": "y", "before": "b", "after": "a"})


def test_roleplay_weeks_count_assertive_replies_per_monday_week() -> None:
    rows = [
        (_day(0), "assertive"),
        (_day(0), "passive"),
        (_day(6), "partial"),  # Sunday: still the first week
        (_day(7), "assertive"),
        (_day(8), "assertive"),
        (_day(9), "aggressive"),
        (_day(21), "assertive"),
    ]
    weeks = history.roleplay_weeks(rows)
    assert [(w.week_start.isoformat(), w.assertive, w.replies) for w in weeks] == [
        ("2026-11-02", 1, 3),
        ("2026-11-09", 2, 3),
        ("2026-11-23", 1, 1),
    ]
    [picture] = pictures.progress_items(pictures.History(weeks=weeks))
    _assert_small_png(picture.png)
    assert picture.alt.count("Week of ") == 3
    assert "Week of 9 Nov: 67% assertive, out of 3." in picture.alt
    assert picture.summary.startswith("In the week of 23 Nov, 100% of your replies were assertive")


def test_one_week_of_practice_gets_a_sentence() -> None:
    weeks = history.roleplay_weeks([(_day(0), "assertive"), (_day(2), "passive")])
    assert pictures.progress_items(pictures.History(weeks=weeks)) == [
        pictures.texts().text("roleplay.not_yet")
    ]
    with pytest.raises(ValueError):
        charts.roleplay_chart(weeks, {"title": "t", "y_label": "y"})


def test_an_empty_history_gets_the_one_none_sentence() -> None:
    assert pictures.progress_items(pictures.History()) == [pictures.texts().text("none")]
    with pytest.raises(ValueError):
        charts.values_chart([], {"title": "t", "y_label": "y"})


def test_long_histories_are_cut_to_the_newest() -> None:
    many = [(f"v{n}", _day(n), n % 11) for n in range(8)] + [
        ("v7", _day(30 + n), 5) for n in range(20)
    ]
    series = history.value_series(many)
    assert len(series) == history.MAX_VALUES
    assert series[0].value == "v7" and len(series[0].points) == history.MAX_SITTINGS
    pauses = history.pauses([(_day(n), 6, 3) for n in range(30)])
    assert len(pauses) == history.MAX_PAUSES and pauses[-1].when == _day(29)
    weeks = history.roleplay_weeks([(_day(7 * n), "assertive") for n in range(30)])
    assert len(weeks) == history.MAX_WEEKS
    for picture in pictures.progress_items(pictures.History(series, pauses, weeks)):
        _assert_small_png(picture.png)
