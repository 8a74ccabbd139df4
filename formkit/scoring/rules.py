"""Scoring rules as a template declares them (its ``scoring:`` section), read into plain data.

    scoring:
      person: client_code            # optional: a digits field holding the person's pseudonymous code
      occasion_date: date_completed  # optional: orders one person's occasions (else the scan order)
      scores:
        - id: k10_total
          label: K10 total
          method: sum                # sum | mean | gas | latest | change
          items: [k10_01, k10_02]    # or "k10_01..k10_10"
          reverse: [k10_02]          # scored (min + max - answer) on the item's own scale
          prorate_max_missing: 1     # prorate up to this many missing items; more makes the score invalid
          round: 0                   # decimals of the result
          rescale: {from: [10, 50], to: [0, 100]}
          bands: {default: standard, sets: {standard: [[10, 15, Low], [16, 50, Higher]]}}
          change: true               # also report first-to-latest change per person
        - id: gas_t
          method: gas
          goals: [{score: gas_1, weight: weight_1}]
          rho: 0.3

Every mistake names the template file, the line and the score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import TemplateError
from ..template.schema import RESERVED_FIELD_IDS, ChoiceItem, MatrixItem, Template

METHODS = ("sum", "mean", "gas", "latest", "change")
SCORE_KEYS = {"id", "label", "method", "items", "reverse", "prorate_max_missing", "round", "rescale", "bands",
              "change", "goals", "rho", "reliable_change"}
RANGE = re.compile(r"^(.*?)(\d+)\.\.(.*?)(\d+)$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str


@dataclass(frozen=True)
class Goal:
    score: str  # field holding the attainment rating (-2..+2)
    weight: str | None  # field holding the goal's weight, or None for weight 1


@dataclass(frozen=True)
class ScoreRule:
    id: str
    label: str
    method: str
    items: tuple[str, ...] = ()
    reverse: tuple[str, ...] = ()
    prorate_max_missing: int = 0
    decimals: int | None = None
    rescale: tuple[tuple[float, float], tuple[float, float]] | None = None
    band_sets: dict[str, tuple[Band, ...]] = field(default_factory=dict)
    default_bands: str = ""
    change: bool = False
    goals: tuple[Goal, ...] = ()
    rho: float = 0.3
    line: int = 0
    reliable_change: float | None = None  # points of this score; None: no reliable change (reports)

    def inputs(self) -> tuple[str, ...]:
        """Every field the score reads."""
        if self.method == "gas":
            return tuple(x for g in self.goals for x in (g.score, g.weight) if x)
        return self.items


@dataclass(frozen=True)
class Scoring:
    scores: tuple[ScoreRule, ...] = ()
    person_field: str | None = None
    occasion_date_field: str | None = None


def scales(template: Template | None) -> dict[str, tuple[float, float]]:
    """Lowest and highest numeric answer of each choice field of ``template``, for reverse scoring."""
    out: dict[str, tuple[float, float]] = {}
    for item in template.items if template else ():
        options = item.options if isinstance(item, ChoiceItem | MatrixItem) else ()
        values = [float(o.value) for o in options if NUMBER.match(str(o.value))]
        if not values:
            continue
        ids = [r.id for r in item.rows] if isinstance(item, MatrixItem) else [item.id]  # type: ignore[union-attr]
        for field_id in ids:
            out[field_id] = (min(values), max(values))
    return out


def expand_items(spec: Any) -> list[str]:
    """``[a, b]`` as is; ``"k10_01..k10_10"`` as the ids in between, keeping the zero padding."""
    if isinstance(spec, str):
        m = RANGE.match(spec.strip())
        if not m or m.group(1) != m.group(3):
            return [spec]
        prefix, first, last = m.group(1), m.group(2), m.group(4)
        return [f"{prefix}{n:0{len(first)}d}" for n in range(int(first), int(last) + 1)]
    if isinstance(spec, list):
        return [str(x) for x in spec]
    return []


def read_scoring(template: Template) -> Scoring:
    """The template's scoring rules, checked against its fields."""
    raw = template.extra.get("scoring")
    if raw is None:
        return Scoring()
    path = template.source

    def fail(message: str, node: Any, score: str | None = None) -> TemplateError:
        return TemplateError(path, message, getattr(node, "line", None) or None, score)

    if not isinstance(raw, dict):
        raise fail("'scoring' must be a mapping with a 'scores' list", raw)
    unknown = set(raw) - {"scores", "person", "occasion_date"}
    if unknown:
        raise fail(f"unknown key(s) in 'scoring': {', '.join(sorted(unknown))}", raw)
    fields = set(template.field_ids())
    numeric = scales(template)
    for key in ("person", "occasion_date"):
        if key in raw and raw[key] not in fields:
            raise fail(f"'scoring.{key}' names '{raw[key]}', which is not a field of this form", raw)
    rules: list[ScoreRule] = []
    # the wide export's columns so far, and what each is
    columns = {c: "a column export writes for every form" for c in RESERVED_FIELD_IDS} | {f: "a field" for f in fields}
    for node in raw.get("scores") or []:
        rule = _read_rule(node, fields | {r.id for r in rules}, numeric, fail)
        own = score_columns(rule)
        for column in own:
            if column in columns:
                raise fail(f"the export writes this score in the columns {', '.join(own)}; {column} is already "
                           f"{columns[column]}: name the score otherwise", node, rule.id)
        columns.update({c: f"a column of score '{rule.id}'" for c in own})
        rules.append(rule)
    return Scoring(tuple(rules), raw.get("person"), raw.get("occasion_date"))


def score_columns(rule: ScoreRule) -> list[str]:
    """The columns a score takes in its form's wide export: its value, its status and, with bands, its band."""
    return [rule.id, f"{rule.id}_status"] + ([f"{rule.id}_band"] if rule.band_sets else [])


def _read_rule(node: Any, known: set[str], numeric: dict[str, tuple[float, float]], fail: Any) -> ScoreRule:
    if not isinstance(node, dict) or "id" not in node:
        raise fail("each score needs an 'id'", node)
    score_id = str(node["id"])
    unknown = set(node) - SCORE_KEYS
    if unknown:
        raise fail(f"unknown key(s): {', '.join(sorted(unknown))}", node, score_id)
    if score_id in known:
        raise fail("this id is already a field or an earlier score", node, score_id)
    method = node.get("method")
    if method not in METHODS:
        raise fail(f"'method' must be one of {', '.join(METHODS)}, not {method!r}", node, score_id)
    items = expand_items(node.get("items", []))
    goals = tuple(Goal(str(g.get("score")), str(g["weight"]) if g.get("weight") else None)
                  for g in node.get("goals") or [] if isinstance(g, dict))
    needed = [g.score for g in goals] + [g.weight for g in goals if g.weight] if method == "gas" else items
    if not needed:
        raise fail("the score reads no items ('items', or 'goals' for gas)", node, score_id)
    missing = [x for x in needed if x not in known]
    if missing:
        raise fail(f"unknown item(s): {', '.join(missing)}", node, score_id)
    reverse = tuple(expand_items(node.get("reverse", [])))
    if set(reverse) - set(items):
        raise fail("'reverse' may only list the score's own items", node, score_id)
    unscaled = [x for x in reverse if x not in numeric]
    if unscaled:
        raise fail(f"'reverse' needs choices numbered on a scale; {', '.join(unscaled)} has none", node, score_id)
    prorate = node.get("prorate_max_missing", 0)
    if not isinstance(prorate, int) or not 0 <= prorate < max(1, len(items)):
        raise fail("'prorate_max_missing' must be a whole number smaller than the number of items", node, score_id)
    decimals = node.get("round")
    if decimals is not None and (not isinstance(decimals, int) or not 0 <= decimals <= 6):
        raise fail("'round' is a number of decimals, 0 to 6", node, score_id)
    rescale = None
    if "rescale" in node:
        r = node["rescale"]
        try:
            rescale = ((float(r["from"][0]), float(r["from"][1])), (float(r["to"][0]), float(r["to"][1])))
        except (TypeError, KeyError, IndexError, ValueError):
            raise fail("'rescale' needs 'from: [low, high]' and 'to: [low, high]'", node, score_id) from None
        if rescale[0][0] == rescale[0][1]:
            raise fail("'rescale.from' must span a range", node, score_id)
    band_sets, default = _read_bands(node.get("bands"), node, score_id, fail)
    rho = float(node.get("rho", 0.3))
    if not 0 <= rho < 1:
        raise fail("'rho' must be at least 0 and below 1", node, score_id)
    reliable = node.get("reliable_change")  # a number above 0: the schema has checked it
    return ScoreRule(score_id, str(node.get("label", score_id)), method, tuple(items), reverse, prorate, decimals,
                     rescale, band_sets, default, bool(node.get("change", False)), goals, rho,
                     getattr(node, "line", 0), float(reliable) if reliable is not None else None)


def _read_bands(raw: Any, node: Any, score_id: str, fail: Any) -> tuple[dict[str, tuple[Band, ...]], str]:
    if raw is None:
        return {}, ""
    if not isinstance(raw, dict) or not isinstance(raw.get("sets"), dict) or not raw["sets"]:
        raise fail("'bands' needs 'sets: {name: [[low, high, label], ...]}'", node, score_id)
    sets: dict[str, tuple[Band, ...]] = {}
    for name, entries in raw["sets"].items():
        try:
            bands = tuple(Band(float(lo), float(hi), str(label)) for lo, hi, label in entries)
        except (TypeError, ValueError):
            raise fail(f"band set '{name}': each band is [low, high, label]", node, score_id) from None
        if any(b.low > b.high for b in bands):
            raise fail(f"band set '{name}': a band's low end is above its high end", node, score_id)
        sets[str(name)] = bands
    default = str(raw.get("default", next(iter(sets))))
    if default not in sets:
        raise fail(f"'bands.default' names '{default}', which is not one of the sets", node, score_id)
    return sets, default
