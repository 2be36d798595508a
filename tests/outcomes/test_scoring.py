"""Scoring as data: for every valid answer vector the total is the sum and the band is the published one;
wrong lengths and values are refused naming the item."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import ValidationFailed
from outcomes.models import Instrument
from outcomes.scoring import instrument_spec, score

# The published tables, written out independently of the shipped data: (lowest total of the band, label).
PUBLISHED = {
    "phq-9": (9, 3, [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")]),
    "gad-7": (7, 3, [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]),
    "pcl-5": (20, 4, [(0, "below the PTSD threshold"), (33, "provisional PTSD")]),
}


def published_band(code: str, total: int) -> str:
    return [label for low, label in PUBLISHED[code][2] if total >= low][-1]


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_every_valid_answer_vector_scores_its_sum_in_the_published_band(
    instruments: dict[str, Instrument], code: str
) -> None:
    spec = instrument_spec(instruments[code])
    items, top, _bands = PUBLISHED[code]

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.integers(0, top), min_size=items, max_size=items))
    def check(answers: list[int]) -> None:
        result = score(spec, answers)
        assert result.total == sum(answers)
        assert result.severity == published_band(code, result.total)
        self_harm = code == "phq-9" and answers[8] > 0
        assert result.flags == (("self_harm",) if self_harm else ())
        assert bool(result.alerts) == self_harm

    check()


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_a_wrong_number_of_answers_is_refused_with_the_count(instruments: dict[str, Instrument], code: str) -> None:
    spec = instrument_spec(instruments[code])
    items, _top, _bands = PUBLISHED[code]

    @settings(max_examples=50, deadline=None)
    @given(st.integers(0, 40).filter(lambda n: n != items))
    def check(length: int) -> None:
        with pytest.raises(ValidationFailed) as refused:
            score(spec, [0] * length)
        assert refused.value.errors == {"answers": [f"Give exactly {items} answers, one per item, in order."]}
        assert f"{items} items; {length} answers" in refused.value.detail

    check()


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_a_value_outside_the_options_is_refused_naming_its_item(instruments: dict[str, Instrument], code: str) -> None:
    spec = instrument_spec(instruments[code])
    items, top, _bands = PUBLISHED[code]
    bad_values = st.one_of(st.integers(top + 1, 10_000), st.integers(-100, -1), st.booleans(), st.text(max_size=3),
                           st.floats(allow_nan=False), st.none())  # fmt: skip

    @settings(max_examples=200, deadline=None)
    @given(st.integers(1, items), bad_values)
    def check(item: int, value: object) -> None:
        answers: list[object] = [0] * items
        answers[item - 1] = value
        with pytest.raises(ValidationFailed) as refused:
            score(spec, answers)
        assert list(refused.value.errors) == [f"answers.{item}"]
        assert refused.value.detail.startswith(f"Item {item}: ")

    check()


def test_the_shipped_instruments_match_the_published_instruments(instruments: dict[str, Instrument]) -> None:
    for code, (items, top, bands) in PUBLISHED.items():
        instrument = instruments[code]
        assert len(instrument.items.all()) == items
        assert [option.value for option in instrument.options.all()] == list(range(top + 1))
        assert [(band.min_total, band.label) for band in instrument.bands.all()] == bands
        assert instrument.bands.all()[len(bands) - 1].max_total == items * top
    assert instruments["phq-9"].items.get(number=9).text.startswith("Thoughts that you would be better off dead")
    assert (instruments["phq-9"].remission_below, instruments["gad-7"].remission_below) == (5, 5)
    assert (instruments["pcl-5"].remission_below, instruments["pcl-5"].meaningful_change) == (33, 10)
