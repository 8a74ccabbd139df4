"""Two readers made faster by arithmetic, checked against the plain definitions they replace: a date field's
best date and its share of all real dates (scanner.dates), and a choice box's paper and border levels
(scanner.marks, from histograms instead of sorting)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from formkit.layout.model import Box, BoxesField
from scanner import dates, handwriting, marks


def _every_date(first: int, last: int) -> tuple[np.ndarray, list[str]]:
    start = dt.date(first, 1, 1)
    days = [start + dt.timedelta(days=n) for n in range((dt.date(last, 12, 31) - start).days + 1)]
    return np.array([[int(c) for c in d.strftime("%d%m%Y")] for d in days]), [d.isoformat() for d in days]


def _by_every_date(probabilities: np.ndarray, written: np.ndarray, iso: list[str]) -> tuple[str, float]:
    log_p = np.log(np.clip(probabilities, 1e-6, 1.0))
    scores = log_p[np.arange(8), written].sum(axis=1)
    best = int(scores.argmax())
    return iso[best], (0.0 if scores[best] < np.log(0.5) else float(1.0 / np.exp(scores - scores[best]).sum()))


def _boxes_reading(text: str, sure: float, rng: np.random.Generator) -> np.ndarray:
    """Eight boxes' probabilities: ``sure`` on the digits of ``text``, the rest spread at random."""
    rest = rng.dirichlet(np.full(10, 0.3), size=8) * (1 - sure)
    rest[np.arange(8), [int(c) for c in text]] += sure
    return rest


CENTURIES = (1900, 2100)


@pytest.mark.parametrize("years", [CENTURIES, (1900, 2031), (1900, 2028)])
def test_the_best_date_and_its_share_are_those_of_every_date_one_by_one(years):
    written, iso = _every_date(*years)
    rng = np.random.default_rng(7)
    for n in range(300):
        truth = iso[rng.integers(len(iso))]
        text = truth[8:10] + truth[5:7] + truth[0:4]
        probabilities = _boxes_reading(text, rng.uniform(0.3, 0.999), rng)
        if n % 3 == 0:  # one box unclear between its digit and another
            probabilities[rng.integers(8)] = rng.dirichlet(np.full(10, 0.1))
        expected, share = _by_every_date(probabilities, written, iso)
        found, found_share = dates.most_likely_date(probabilities, years)
        assert found_share == pytest.approx(share, abs=1e-12)
        if share > 0:
            assert found == expected


def test_29_february_only_in_leap_years():
    rng = np.random.default_rng(3)
    assert dates.most_likely_date(_boxes_reading("29022024", 0.999, rng), CENTURIES)[0] == "2024-02-29"
    found, share = dates.most_likely_date(_boxes_reading("29022023", 0.999, rng), CENTURIES)
    assert share == 0.0 and found != "2023-02-29"
    found, share = dates.most_likely_date(_boxes_reading("29022100", 0.999, rng), CENTURIES)  # 2100 is not a leap year
    assert share == 0.0


def test_a_year_further_ahead_than_forms_are_dated_goes_to_review(monkeypatch):
    """06/04/2026 with its 2 read as a 7 at p 0.99, as networks trained on other writers once read a 2
    written like a Z: on a page read in December 2026, 2076 is a misreading, not a date to accept."""
    read_on = dt.date(2026, 12, 2)
    assert dates.plausible_years(read_on) == (1900, 2031)
    monkeypatch.setattr(handwriting, "plausible_years", lambda: dates.plausible_years(read_on))
    field = BoxesField("date_completed", "date", ())
    rng = np.random.default_rng(11)
    for written, sure in (("06042076", 0.99), ("06042076", 0.9999), ("06042032", 0.9999), ("06042031", 0.99)):
        probabilities = _boxes_reading(written, sure, rng)
        boxes = [{"digit": int(c), "p": float(p[int(c)]), "probs": p.tolist()}
                 for c, p in zip(written, probabilities, strict=True)]
        value = handwriting._resolve_date(field, boxes, accept=0.97, date_share=0.97)
        assert value.raw["years"] == (1900, 2031)
        if written.endswith("2031"):  # the last plausible year is still read
            assert not value.needs_review and value.value == "2031-04-06"
        else:  # said as it is: no in-range date is offered instead
            year = written[4:]
            assert value.needs_review and value.reason == f"year {year} is implausible (expected 1900-2031)"
            assert value.value == f"{year}-04-06"


def test_only_plausible_years_compete_for_a_year_digit(monkeypatch):
    """A last box between 1 (p 0.9) and 7 (0.1): read in 2026, 2037 is no candidate and 2031 is accepted;
    with every year to 2100 a candidate, 2031 has 0.9 of the weight and goes to review."""
    probabilities = _boxes_reading("06042031", 0.999, np.random.default_rng(2))
    probabilities[7] = 0.0
    probabilities[7][1], probabilities[7][7] = 0.9, 0.1
    boxes = [{"digit": int(np.argmax(p)), "p": float(np.max(p)), "probs": list(p)} for p in probabilities]
    field = BoxesField("d", "date", ())
    for last_year, flagged in ((2031, False), (2100, True)):
        monkeypatch.setattr(handwriting, "plausible_years", lambda last=last_year: (1900, last))
        value = handwriting._resolve_date(field, boxes, accept=0.97, date_share=0.97)
        assert value.value == "2031-04-06" and value.needs_review == flagged, value


def _reference_levels(page: np.ndarray, box: Box) -> tuple[float, float]:
    """marks.local_references as first written: NumPy percentiles of the ring's and border band's pixels."""
    outer = page[marks.box_slices(box, marks.RING_MM[1], page.shape)].astype(np.float32)
    pad = int(round((marks.RING_MM[1] - marks.RING_MM[0]) * 8))
    ring = np.ones(outer.shape, bool)
    ring[pad:-pad, pad:-pad] = False
    band = page[marks.box_slices(box, marks.BORDER_BAND_MM, page.shape)].astype(np.float32)
    band_px = max(1, int(round(2 * marks.BORDER_BAND_MM * 8)))
    edge = np.ones(band.shape, bool)
    edge[band_px:-band_px, band_px:-band_px] = False
    return float(np.percentile(outer[ring], 80)), float(np.percentile(band[edge], 10))


def test_box_levels_from_histograms_are_numpys_percentiles():
    rng = np.random.default_rng(11)
    for _ in range(50):
        page = rng.integers(0, 256, (160, 160), dtype=np.uint8)
        page[40:120, 40:120] = rng.integers(150, 256, (80, 80))  # paper of its own level around the box
        box = Box(rng.uniform(6, 8), rng.uniform(6, 8), rng.uniform(3, 5), rng.uniform(3, 5))
        white, black = marks.local_references(page, box)
        assert (white, black) == pytest.approx(_reference_levels(page, box), abs=1e-4)


def _box(digit: int, p: float, other: int) -> dict:
    """A read box as scanner.handwriting resolves fields from it: ``digit`` at ``p``, the rest on ``other``."""
    probs = [0.0] * 10
    probs[digit], probs[other] = p, 1.0 - p
    return {"digit": digit, "p": p, "probs": probs, "ink_mm2": 3.0, "p_networks": p}


def test_a_date_whose_digits_each_pass_but_whose_value_is_unsure_goes_to_review():
    """12/03/2026 with every digit at 0.975 and five of its digits' other readings real dates: every digit
    passes a threshold of 0.971, but the date is about 0.89 sure, short of that threshold."""
    from formkit.layout.model import BoxesField
    from scanner import handwriting

    field = BoxesField("d", "date", ())
    # (digit, its other reading): 02/03, 11/03, 12/02, 2016 and 2025 are real dates, 12/13, 7026, 2126 are not
    written = [(1, 0), (2, 1), (0, 1), (3, 2), (2, 7), (0, 1), (2, 1), (6, 5)]
    sure = [_box(d, 0.999, other) for d, other in written]
    unsure = [_box(d, 0.975, other) for d, other in written]
    assert handwriting._resolve_date(field, sure, 0.971, 0.971).needs_review is False
    value = handwriting._resolve_date(field, unsure, 0.971, 0.971)
    assert all(b["p"] >= 0.971 for b in unsure)
    assert value.needs_review and "unsure which date" in value.reason, value
    assert value.value == "2026-03-12"  # the reading is kept for the reviewer


def test_a_date_is_judged_by_the_dates_own_threshold():
    """The same sure date (each digit at 0.999, about 0.995 of the weight) is accepted at a date threshold
    under its share and flagged at one over it, though every digit passes the digits' threshold either way."""
    from formkit.layout.model import BoxesField
    from scanner import handwriting

    field = BoxesField("d", "date", ())
    written = [(1, 0), (2, 1), (0, 1), (3, 2), (2, 7), (0, 1), (2, 1), (6, 5)]
    sure = [_box(d, 0.999, other) for d, other in written]
    share = handwriting._resolve_date(field, sure, 0.97, 0.97).confidence
    assert 0.97 < share < 0.999
    assert not handwriting._resolve_date(field, sure, 0.97, date_share=share - 0.001).needs_review
    stricter = handwriting._resolve_date(field, sure, 0.97, date_share=share + 0.001)
    assert stricter.needs_review and "unsure which date" in stricter.reason, stricter
    assert f"({share + 0.001:.1%} needed)" in stricter.reason  # what it fell short of, to the staff who review
    assert "unclear" not in stricter.reason  # no digit is under the digits' threshold


def test_a_number_with_a_range_whose_value_is_unsure_goes_to_review():
    """47 in 0-99 with each digit at 0.975 and its other reading (9, 1) also in range: both digits pass a
    threshold of 0.971, but 47 has 0.95 of the weight of 47, 41, 97 and 91."""
    from formkit.layout.model import BoxesField
    from scanner import handwriting

    field = BoxesField("n", "digits", (), 0, 99)
    value = handwriting._resolve_digits(field, [_box(4, 0.975, 9), _box(7, 0.975, 1)], 0.971)
    assert value.needs_review and value.reason.startswith("unsure which number"), value
    assert handwriting._resolve_digits(field, [_box(4, 0.999, 9), _box(7, 0.999, 1)], 0.971).value == "47"
    outside = handwriting._resolve_digits(BoxesField("n", "digits", (), 0, 40), [_box(4, 0.999, 9),
                                                                                 _box(7, 0.999, 1)], 0.971)
    assert outside.needs_review and outside.reason == "47 is outside 0-40"  # one reason, not two
