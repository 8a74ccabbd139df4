"""Scores of one filled form from its answers, by the template's rules. Pure functions.

Every score ends with a status: ``complete``, ``prorated``, ``invalid`` (with why, and no value) or
``pending-review`` (an input still awaits a person's check: no value until then, so no number in an
export was ever computed from a guess nobody confirmed). An input on a page that was never read (not
scanned, or voided) is not a blank answer: the score is invalid and says which inputs were not read, so a
form with its second page missing is never scored, prorated or "complete" as if that page were empty.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .rules import Band, ScoreRule, Scoring

COMPLETE, PRORATED, INVALID, PENDING = "complete", "prorated", "invalid", "pending-review"
DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")  # a number as written on a form or typed in review


@dataclass(frozen=True)
class Answer:
    value: str  # as exported: '' when blank
    needs_review: bool = False
    read: bool = True  # False: its page was not read (not scanned, or voided), so '' is not an answer
    illegible: bool = False  # a person found something written that cannot be read: '' is not a blank answer


@dataclass(frozen=True)
class ScoreResult:
    value: float | None
    status: str
    reason: str = ""
    band: str = ""
    unread: bool = False  # invalid because inputs were not read: a score built on this one is not either

    def text(self, decimals: int | None) -> str:
        return format_number(self.value, decimals) if self.value is not None else ""


def round_half_up(value: float, decimals: int) -> float:
    """Rounding as taught and as scoring manuals mean it: 2.5 -> 3 (Python's round gives 2)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def format_number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def gas_t_score(ratings: list[float], weights: list[float], rho: float = 0.3) -> float:
    """Goal Attainment Scaling T-score (Kiresuk & Sherman):
    T = 50 + 10·Σwᵢxᵢ / √((1−ρ)Σwᵢ² + ρ(Σwᵢ)²)."""
    if not ratings or len(ratings) != len(weights):
        raise ValueError("one weight per rating, at least one rating")
    weighted = sum(w * x for w, x in zip(weights, ratings, strict=True))
    spread = (1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2
    return 50 + 10 * weighted / math.sqrt(spread)


def band_of(value: float, bands: tuple[Band, ...]) -> str:
    """The label of the band holding ``value``; between two bands' ends, the lower band."""
    ordered = sorted(bands, key=lambda b: b.low)
    for i, band in enumerate(ordered):
        upper = ordered[i + 1].low if i + 1 < len(ordered) else band.high
        if band.low <= value <= band.high or band.low <= value < upper:
            return band.label
    return ""


def score_form(scoring: Scoring, answers: dict[str, Answer], scales: dict[str, tuple[float, float]],
               band_choice: dict[str, str] | None = None) -> dict[str, ScoreResult]:
    """Every score of ``scoring`` for one form. ``scales`` gives each item's lowest and highest answer
    (for reverse scoring); ``band_choice`` picks a band set per score id instead of its default."""
    results: dict[str, ScoreResult] = {}
    known = dict(answers)
    for rule in scoring.scores:
        result = _score(rule, known, scales)
        if result.value is not None and rule.band_sets:
            chosen = (band_choice or {}).get(rule.id, rule.default_bands)
            result = ScoreResult(result.value, result.status, result.reason,
                                 band_of(result.value, rule.band_sets[chosen]))
        results[rule.id] = result
        # later scores may read this one (a mean of subscales, say)
        known[rule.id] = Answer(result.text(rule.decimals), result.status == PENDING, not result.unread)
    return results


def _score(rule: ScoreRule, answers: dict[str, Answer], scales: dict[str, tuple[float, float]]) -> ScoreResult:
    unread = [i for i in rule.inputs() if not answers.get(i, Answer("")).read]
    if unread:
        return ScoreResult(None, INVALID, f"not read: {', '.join(unread)} (a page not scanned, or voided)",
                           unread=True)
    pending = [i for i in rule.inputs() if answers.get(i, Answer("")).needs_review]
    numbers: dict[str, float] = {}
    for item in rule.inputs():
        text = answers.get(item, Answer("")).value
        if text == "" or item in pending:
            continue
        if not DECIMAL.match(text.strip()):  # float() also reads 'nan', 'inf', '1e400' (inf) and '1_0' (10)
            return ScoreResult(None, INVALID, f"{item} is not a single number ('{text}')")
        numbers[item] = float(text)
    if pending:
        missing = [i for i in rule.items if i not in numbers and i not in pending]
        if rule.method in ("sum", "mean") and len(missing) > rule.prorate_max_missing:
            # no decision on the waiting items can make this score: not worth a reviewer's wait
            allowed = f"at most {rule.prorate_max_missing} allowed" if rule.prorate_max_missing else "none allowed"
            return ScoreResult(None, INVALID, f"{len(missing)} of {len(rule.items)} items missing ({allowed}), "
                                              f"whatever the review of {', '.join(pending)} decides")
        return ScoreResult(None, PENDING, f"waiting for review of {', '.join(pending)}")
    illegible = [i for i in rule.inputs() if answers.get(i, Answer("")).illegible]
    if rule.method == "gas" and illegible:
        # a goal rated or weighted illegibly cannot be left out or weighted equally: the T-score would change
        return ScoreResult(None, INVALID, f"illegible: {', '.join(illegible)} (each rated goal needs its rating "
                                          "and any weight written)")
    if rule.method == "gas":
        return _gas(rule, numbers)
    for item in rule.reverse:
        if item in numbers:
            low, high = scales[item]
            numbers[item] = low + high - numbers[item]
    if rule.method in ("latest", "change"):
        return _progress(rule, numbers, illegible)
    answered = [numbers[i] for i in rule.items if i in numbers]
    missing = len(rule.items) - len(answered)
    unreadable = f"; {', '.join(illegible)} illegible" if illegible else ""
    if not answered:
        return ScoreResult(None, INVALID, f"no items answered{unreadable}")
    if missing > rule.prorate_max_missing:
        allowed = f"at most {rule.prorate_max_missing} allowed" if rule.prorate_max_missing else "none allowed"
        return ScoreResult(None, INVALID, f"{missing} of {len(rule.items)} items missing ({allowed}){unreadable}")
    value = sum(answered) / len(answered)
    if rule.method == "sum":
        value *= len(rule.items)
    status, reason = (PRORATED, f"{missing} of {len(rule.items)} items missing{unreadable}") if missing \
        else (COMPLETE, "")
    return ScoreResult(_finish(rule, value), status, reason)


def _finish(rule: ScoreRule, value: float) -> float:
    if rule.rescale:
        (a, b), (c, d) = rule.rescale
        value = c + (value - a) * (d - c) / (b - a)
    return round_half_up(value, rule.decimals) if rule.decimals is not None else value


def _progress(rule: ScoreRule, numbers: dict[str, float], illegible: list[str]) -> ScoreResult:
    """The latest rating, or the change from the first to the latest, of ``rule.items`` in the order written;
    a rating found illegible past the latest readable one (or, for change, before the first) is the one that
    counts, and cannot be read: the score is invalid rather than taken from another occasion."""
    written = [i for i in rule.items if i in numbers or i in illegible]
    answered = [numbers[i] for i in written if i in numbers]
    if written and written[-1] in illegible:
        return ScoreResult(None, INVALID, f"the latest rating written, {written[-1]}, is illegible")
    if rule.method == "change" and written and written[0] in illegible:
        return ScoreResult(None, INVALID, f"the first rating written, {written[0]}, is illegible")
    if not answered:
        return ScoreResult(None, INVALID, "no rating yet")
    if rule.method == "latest":
        return ScoreResult(_finish(rule, answered[-1]), COMPLETE)
    if len(answered) < 2:
        return ScoreResult(None, INVALID, "one rating only: change needs two")
    return ScoreResult(_finish(rule, answered[-1] - answered[0]), COMPLETE)


def _gas(rule: ScoreRule, numbers: dict[str, float]) -> ScoreResult:
    rated = [g for g in rule.goals if g.score in numbers]
    # a weight written says the goal was set: left unrated, it cannot simply be left out (its T would change)
    unrated = [g.score for g in rule.goals if g.score not in numbers and g.weight and g.weight in numbers]
    if unrated:
        return ScoreResult(None, INVALID, f"a weight is written but no rating: {', '.join(unrated)}")
    if not rated:
        return ScoreResult(None, INVALID, "no goal rated")
    weights_given = [g for g in rated if g.weight and g.weight in numbers]
    if weights_given and len(weights_given) < len(rated):
        unweighted = [g.score for g in rated if g not in weights_given]
        return ScoreResult(None, INVALID, f"rated without a weight: {', '.join(unweighted)}")
    weights = [numbers[g.weight] if weights_given and g.weight else 1.0 for g in rated]
    if any(w <= 0 for w in weights):
        return ScoreResult(None, INVALID, "a weight is zero or negative")
    value = _finish(rule, gas_t_score([numbers[g.score] for g in rated], weights, rule.rho))
    dropped = len(rule.goals) - len(rated)
    reason = f"{dropped} goal(s) without a rating left out" if dropped else ""
    if not weights_given and any(g.weight for g in rated):
        reason = "; ".join(filter(None, [reason, "no weights written: equal weights used"]))
    return ScoreResult(value, COMPLETE, reason)
