"""What each exported column means: label, type, allowed values, the scoring rule in words, and the
template (and version) it comes from. One row per column of every CSV, SPSS and Stata file ``formkit export``
writes (Excel's codebook sheet has the CSV files' rows, naming the sheets)."""

from __future__ import annotations

from .scoring.compute import format_number
from .scoring.rules import ScoreRule
from .template.schema import (
    ChoiceItem,
    DateItem,
    DigitsItem,
    LineItem,
    MatrixItem,
    Option,
    Template,
    TextItem,
)

CODEBOOK_COLUMNS = ["file", "variable", "label", "type", "allowed_values", "rule", "template", "versions"]

STATUS_WORDS = ("complete | prorated (items missing, within the rule) | invalid: why | "
                "pending-review: an input awaits review (no value until then)")

# What the columns that are not fields or scores mean: the wide file's, the long file's, the change file's.
ROW_COLUMNS = {
    "serial": ("Serial of the printed form (random, carries no personal data), as printed on it", "text",
               "4 characters, '-', 4 characters, e.g. K7M3-QX9C"),
    "form": ("Form id (template)", "text", ""),
    "version": ("Template version the form was printed from", "integer", ""),
    "person_code": ("Pseudonymous person code, from the roster or written on the form", "text", ""),
    "pages": ("Form pages read for this serial", "text", "page numbers joined by ';'"),
    "needs_review": ("Number of values still waiting for a person's review; this file leaves each of them empty "
                     "(the machine's guess is in the long file) and computes no score from them", "integer",
                     "0 or more"),
    "reviewed": ("Number of values a person reviewed (their decision is exported)", "integer", "0 or more"),
    "source_files": ("Image files the values were read from", "text", "paths joined by ';'"),
}

LONG_FILE = {
    "form_page": ("Page of the form the value is on", "integer", ""),
    "field": ("Field id (a column of the wide file)", "text", ""),
    "value": ("The value as read or as a person decided; while needs_review is 1, the machine's guess, which "
              "the wide file leaves empty", "text", ""),
    "confidence": ("How sure the reader is of the value", "number", "0 to 1, three decimals"),
    "needs_review": ("1 while the value waits for a person's review (the wide file leaves it empty until then)",
                     "integer", "0 or 1"),
    "reason": ("Why the value needed review", "text", ""),
    "review": ("A person's decision on the value, if any", "text", "accepted | corrected | blank | illegible"),
    "reviewed_by": ("Who made that decision (as they named themselves)", "text", ""),
    "reviewed_at": ("When that decision was made (UTC)", "text", "ISO 8601, e.g. 2026-12-06T03:40:12+00:00"),
    "machine_value": ("What the machine read, where a person's decision stands in its place (empty when no "
                      "decision was made)", "text", ""),
    "source_file": ("Image file the value was read from", "text", ""),
    "source_page": ("Page of that file", "integer", "1 or more"),
    "source_region": ("Which form page of that image (several cards scanned together: 1, 2, ... in reading "
                      "order; the page's outline in the image is in the store)", "integer", "1 or more"),
    "page_id": ("Page id in the store (for tracing a value to its image)", "integer", ""),
}

CHANGE_FILE = {
    "person_code": ("Pseudonymous person code", "text", ""),
    "score": ("Score id (a column of the wide file)", "text", ""),
    "occasions": ("Forms of this person scanned", "integer", "1 or more"),
    "first_serial": ("Serial of the first usable occasion, as printed", "text", ""),
    "first_date": ("Its date (from the form)", "date", "YYYY-MM-DD or empty"),
    "first_value": ("The score on the first usable occasion", "number", ""),
    "latest_serial": ("Serial of the latest usable occasion, as printed", "text", ""),
    "latest_date": ("Its date (from the form)", "date", "YYYY-MM-DD or empty"),
    "latest_value": ("The score on the latest usable occasion", "number", ""),
    "change": ("latest_value minus first_value", "number", ""),
    "status": ("complete, invalid (why) or pending-review; notes on ordering", "text", ""),
}


def _options(options: tuple[Option, ...], multiple: bool) -> str:
    listed = "; ".join(f"{o.value}={o.label}" for o in options)
    return listed + (" (several joined by ';')" if multiple else "")


EMPTY_FIELD = "empty when left blank or still waiting for review (see needs_review)"


def field_entries(template: Template) -> dict[str, tuple[str, str, str]]:
    """Label, type and allowed values of each field of ``template``, by field id (as the wide file holds it:
    empty while waiting for review)."""
    out: dict[str, tuple[str, str, str]] = {}
    for item in template.items:
        if isinstance(item, MatrixItem):
            for row in item.rows:
                out[row.id] = (row.text, "choice", _options(item.options, item.multiple))
        elif isinstance(item, ChoiceItem):
            out[item.id] = (item.text, "choice", _options(item.options, item.multiple))
        elif isinstance(item, DigitsItem):
            out[item.id] = (item.text, "digits", f"up to {item.count} digit(s), leading zeros kept{_bounds(item)}")
        elif isinstance(item, DateItem):
            out[item.id] = (item.text or item.id, "date", "YYYY-MM-DD")
        elif isinstance(item, TextItem):
            out[item.id] = (item.text, "text", "handwriting read by OCR, as reviewed")
        elif isinstance(item, LineItem):
            span = f"{format_number(item.minimum, 1)} to {format_number(item.maximum, 1)}"
            out[item.id] = (item.text, "number", f"{span}, one decimal, from the mark's position on the line")
    return {field_id: (label, kind, f"{allowed}; {EMPTY_FIELD}") for field_id, (label, kind, allowed) in out.items()}


def _bounds(item: DigitsItem) -> str:
    """A digits field's range in words: either end may be missing (not "1 to None")."""
    low, high = item.minimum, item.maximum
    if low is not None and high is not None:
        return f", {low} to {high}"
    if low is not None:
        return f", at least {low}"
    return f", at most {high}" if high is not None else ""


def rule_in_words(rule: ScoreRule) -> str:
    items = ", ".join(rule.items)
    if rule.method == "gas":
        goals = ", ".join(f"{g.score}×{g.weight or '1'}" for g in rule.goals)
        words = (f"Goal Attainment Scaling T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²), ρ = {rule.rho}, over {goals}; "
                 "goals without a rating are left out (a goal with a weight but no rating: invalid); no weights "
                 "written means equal weights")
    elif rule.method == "latest":
        words = f"the last answered of {items}"
    elif rule.method == "change":
        words = f"last answered minus first answered of {items}"
    else:
        verb = "sum" if rule.method == "sum" else "mean"
        words = f"{verb} of {items}"
        if rule.reverse:
            words += f"; reverse-scored: {', '.join(rule.reverse)}"
        if rule.prorate_max_missing:
            words += (f"; with up to {rule.prorate_max_missing} missing, prorated"
                      f"{' (mean of answered × number of items)' if verb == 'sum' else ''}; more missing: invalid")
        else:
            words += "; any missing item makes it invalid"
    if rule.rescale:
        (a, b), (c, d) = rule.rescale
        words += f"; rescaled from {format_number(a, None)}–{format_number(b, None)} to " \
                 f"{format_number(c, None)}–{format_number(d, None)}"
    if rule.decimals is not None:
        words += f"; rounded half up to {rule.decimals} decimal(s)"
    return words


def score_entries(rule: ScoreRule, band_set: str) -> list[tuple[str, str, str, str, str]]:
    """(variable, label, type, allowed values, rule) for a score's columns."""
    rows = [(rule.id, rule.label, "number", "", rule_in_words(rule)),
            (f"{rule.id}_status", f"Status of {rule.id}", "text", STATUS_WORDS, "")]
    if rule.band_sets:
        bands = "; ".join(f"{format_number(b.low, None)}–{format_number(b.high, None)}={b.label}"
                          for b in rule.band_sets[band_set])
        rows.append((f"{rule.id}_band", f"Band of {rule.id} ({band_set})", "text", bands,
                     f"band set '{band_set}' of {', '.join(rule.band_sets)}"))
    return rows
