"""Which real date eight digit boxes (DD MM YYYY) favour, and how sure that is.

A date's log-probability is the sum of its eight boxes' log-probabilities: the day-and-month part plus the
year part. So the best date and the probability of all real dates are found from the 366 days of the year
and the plausible years (``plausible_years``) apart (29 February only with leap years), instead of from
every date in the range one by one: the same numbers, within rounding, at a fiftieth of the cost
(measured 2026-12 over 1900-2100: 0.06 ms a date field against 5 ms).
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import cache

import numpy as np

from formkit.records import plausible_years as plausible_years  # the review page judges corrections by it too

EVEN_ODDS = np.log(0.5)


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Boxes' digit probabilities as logs, a probability under 1e-6 taken as 1e-6 (no reading rules a
    digit out altogether)."""
    return np.log(np.clip(np.asarray(probabilities, np.float64), 1e-6, 1.0))


@cache
def _calendar(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    """(days, years, leap_day, common_days, leap_years): the 366 days of a leap year as their four digits
    DDMM, the years from ``first_year`` to ``last_year`` as their four digits, the index of 29 February
    among the days, the indices of the other 365, and which years are leap."""
    first = dt.date(2000, 1, 1)
    days = [first + dt.timedelta(days=n) for n in range(366)]
    day_digits = np.array([[d.day // 10, d.day % 10, d.month // 10, d.month % 10] for d in days], np.int64)
    years = np.arange(first_year, last_year + 1)
    year_digits = np.stack([years // 1000, years // 100 % 10, years // 10 % 10, years % 10], axis=1)
    leap = np.array([calendar.isleap(int(y)) for y in years])
    leap_day = days.index(dt.date(2000, 2, 29))
    return day_digits, year_digits, leap_day, np.delete(np.arange(len(days)), leap_day), leap


def most_likely_date(probabilities: np.ndarray, years: tuple[int, int]) -> tuple[str, float]:
    """The real date in ``years`` (first, last) that eight boxes' digit probabilities favour, as ISO text,
    and its share of the probability of all real dates in that range.

    In: ``probabilities`` (8, 10), each box's probability of each digit, boxes in the order written
    (DDMMYYYY); ``years``, as ``plausible_years`` gives them. Out: the date, and its share in 0..1; the
    share is 0 unless the networks themselves give that date at least even odds, so something written that
    is no date is never turned into one."""
    log_p = log_probabilities(probabilities)
    day_digits, year_digits, leap_day, common_days, leap = _calendar(*years)
    day_scores = log_p[np.arange(4), day_digits].sum(axis=1)
    year_scores = log_p[np.arange(4, 8), year_digits].sum(axis=1)
    best_day = int(common_days[day_scores[common_days].argmax()])
    best_year = int(year_scores.argmax())
    best = day_scores[best_day] + year_scores[best_year]
    if leap.any():
        best_leap_year = int(np.flatnonzero(leap)[year_scores[leap].argmax()])
        if day_scores[leap_day] + year_scores[best_leap_year] > best:
            best_day, best_year = leap_day, best_leap_year
            best = day_scores[leap_day] + year_scores[best_leap_year]
    year = int(years[0] + best_year)
    day = dt.date(2000, 1, 1) + dt.timedelta(days=best_day)
    iso = dt.date(year, day.month, day.day).isoformat()
    if best < EVEN_ODDS:
        return iso, 0.0
    # all real dates, relative to the best: every common day with every year, 29 February with leap years
    day_share = np.exp(day_scores - day_scores.max())
    year_share = np.exp(year_scores - year_scores.max())
    total = (day_share[common_days].sum() * year_share.sum() + day_share[leap_day] * year_share[leap].sum())
    total *= np.exp(day_scores.max() + year_scores.max() - best)
    return iso, float(1.0 / total)
