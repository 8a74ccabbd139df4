"""The person report: one or two A4 pages for a worker to go through with a client, in plain words and
large print. Only the pseudonymous code identifies the person (a "Name" line is left to write by hand).
A value still waiting for review is never shown as final: its marker is hollow and says "pending".

Where the worker filled in their version of a form (``goal-review-worker``, ``alliance-check-worker``) and
it pairs with the client's (see ``formkit.pairs``), the two views are shown side by side in a small table
under the client's: progress ratings per review of each goal, and the alliance gap (client minus worker).
A worker's form is never shown on its own."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from ..layout.text import BOLD, REGULAR, unprintable
from ..pairs import PAIRS, WORKER_FORMS, Link, link
from ..scoring import INVALID
from .charts import Band, Point, Series, line_chart
from .common import GRID, TEXT_GREY, Styles, build_pdf, day_words, escape, fmt, page_width_pt, styles, table
from .data import FormData, Occasion, PersonData, better

MAX_OCCASIONS = 8  # on one chart; earlier ones are counted in a note
# Of a form without its own section, the most scores one table shows beside the dates, fewer where a label's
# longest word would not fit its column (in large print, 'Friends' was cut 'Friend/s' at 5): the rest go in the
# next table (only the first 5 were shown, the rest dropped without a word)
SCORES_PER_TABLE = 5
CELL_PADDING_PT = 6  # _table's left and right padding
SHORT_NAMES = {"ac_goal": "Goals", "ac_task": "Tasks", "ac_bond": "Bond", "wai_goal": "Goals", "wai_task": "Tasks",
               "wai_bond": "Bond"}
ALLIANCE = {"alliance-check": ("ac_total", ("ac_goal", "ac_task", "ac_bond")),
            "wai-sr": ("wai_total", ("wai_goal", "wai_task", "wai_bond"))}
GOAL_TEXTS = (("why", "Why it matters"), ("steps", "Steps"))  # 'helper' is left out: it may hold a name
DATE_MARKS = {"scan": "*", "unread": "\u2020", "pending": "?"}  # after a date that is not the one written on the form
ORDER = ("goal-card", "k10", "alliance-check", "wai-sr", "gas-followup")
# Headings for the forms with their own section, used when a form's template is not installed (no title known)
TITLES = {"goal-card": "Your goals", "k10": "How you have been feeling", "alliance-check": "How our work together "
          "is going", "wai-sr": "How our work together is going (WAI-SR)",
          "gas-followup": "How far your goals were reached"}


def person_pdf(person: PersonData, large_print: bool = False, band_choice: dict[str, str] | None = None,
               made_on: date | None = None) -> bytes:
    s = styles(18 if large_print else 14)
    made_on = made_on or date.today()
    story: list[Any] = _header(person, s, made_on)
    notes: set[str] = set()
    forms = sorted(person.occasions, key=lambda f: (ORDER.index(f) if f in ORDER else len(ORDER), f))
    for form in forms:
        if form in WORKER_FORMS:
            continue  # shown beside the client's form it pairs with, never on its own
        occasions = person.occasions[form]
        data = person.forms[form]
        notes |= {o.dated_by for o in occasions}
        if form == "goal-card" and "progress_latest" in data.rules:
            story += _goal_cards(occasions, data, s, _worker_views(person, form))
        elif form == "k10":
            story += _k10(occasions, data, s, (band_choice or {}).get("k10_total"))
        elif form in ALLIANCE:
            story += _alliance(occasions, data, s, *ALLIANCE[form])
            story += _alliance_pairs(occasions, _worker_views(person, form), data, s, *ALLIANCE[form])
        elif form == "gas-followup":
            story += _gas(occasions, data, s)
        elif data.rules or form in TITLES:  # a progress form of a version with no template: its days, no scores
            story += _other(occasions, data, s)
    story += _notes(notes, s)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        size = max(9.0, s.size * 0.7)
        canvas.setFillColor(TEXT_GREY)
        right = f"Page {doc.page} \u00b7 made on {day_words(made_on)} with formkit"
        room = doc.pagesize[0] - doc.leftMargin - doc.rightMargin - stringWidth(right, REGULAR, size) - 12
        # a long code (32 characters) in large print ran under the page number: smaller, or on a line of its own
        code_size = size
        while code_size > 7 and stringWidth(f"Code {person.code}", REGULAR, code_size) > room:
            code_size -= 0.5
        canvas.setFont(REGULAR, code_size)
        above = stringWidth(f"Code {person.code}", REGULAR, code_size) > room
        canvas.drawString(doc.leftMargin, 10 * mm + (size * 1.3 if above else 0), f"Code {person.code}")
        canvas.setFont(REGULAR, size)
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 10 * mm, right)
        canvas.restoreState()

    return build_pdf(story, f"Progress summary \u2013 {person.code}", footer, margins_mm=14 if large_print else 16)


def _header(person: PersonData, s: Styles, made_on: date) -> list[Any]:
    latest = person.latest_day()
    width = page_width_pt(14 if s.size > 14 else 16)
    code = Paragraph(f"Code: <b>{escape(person.code)}</b>", s.body)
    name = Paragraph("Name: ______________________", s.body)
    top = table([[code, name]], [width * 0.42, width * 0.58],
                [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    returned = f" from the forms returned up to {day_words(latest)}" if latest else ""
    return [
        Paragraph("Progress summary", s.title), top, Spacer(1, s.size * 0.3),
        Paragraph(f"Made on {day_words(made_on)}{returned}.", s.small),
        Paragraph("This summary shows what you marked on your forms, for you and your worker to talk about "
                  "together." + (" Anything marked <b>pending</b> is still being checked and may change; a "
                                 "<b>hollow</b> point shows where it would be as first read." if _has_pending(person)
                                 else ""), s.body),
    ]


def _worker_views(person: PersonData, form: str) -> dict[str, Occasion]:
    """The worker's form paired with each of the person's ``form`` forms, by the client form's serial."""
    spec = PAIRS.get(form)
    if spec is None or spec.worker not in person.occasions:
        return {}
    links: list[Link[Occasion]] = link(person.occasions[form], person.occasions[spec.worker],
                                       lambda o: (o.serial, o.person, o.written_date))
    return {lk.client.serial: lk.worker for lk in links if lk.client is not None and lk.worker is not None}


def _has_pending(person: PersonData) -> bool:
    """Whether anything this report shows is still waiting for review."""
    shown_worker = {id(w) for form in PAIRS for w in _worker_views(person, form).values()}
    for form, occasions in person.occasions.items():
        for o in occasions:
            if form in WORKER_FORMS and id(o) not in shown_worker:
                continue
            if any(score.pending for score in o.scores.values()):
                return True
            if form == "goal-card" and o.waiting & {"goal", *(f for f, _ in GOAL_TEXTS),
                                                     *_progress_items(person.forms[form])}:
                return True
            if form in WORKER_FORMS and o.waiting & {"goal", *WORKER_FORMS[form].ratings}:
                return True
    return False


def _date_label(o: Occasion) -> str:
    if o.day is None:
        return "no date"
    words = day_words(o.day).split(" ")
    mark = DATE_MARKS.get(o.dated_by, "")
    return f"{words[0]} {words[1]}{mark}\n{words[2]}"


def _date_cell(o: Occasion) -> str:
    mark = DATE_MARKS.get(o.dated_by, "")
    return day_words(o.day) + mark if o.day else "no date"


def _recent(occasions: list[Occasion], s: Styles) -> tuple[list[Occasion], list[Any]]:
    if len(occasions) <= MAX_OCCASIONS:
        return occasions, []
    hidden = len(occasions) - MAX_OCCASIONS
    return occasions[-MAX_OCCASIONS:], [Paragraph(f"The {hidden} earliest form(s) are not shown.", s.small)]


def _point(i: int, o: Occasion, score_id: str) -> Point:
    score = o.scores.get(score_id)
    if score is None:
        return Point(i)
    return Point(i, score.value, score.provisional if score.pending else None, score.pending)


def _cell(o: Occasion, score_id: str) -> str:
    """A score as the table shows it: the number (without trailing zeros), 'pending' or 'not scored'."""
    score = o.scores.get(score_id)
    if score is None:
        return ""
    if score.pending:
        return "pending"
    if score.status == INVALID or score.value is None:
        return "not scored"
    return fmt(score.value)


def _table(rows: list[list[str]], s: Styles, widths: list[float]) -> Table:
    size = s.size * 0.9
    style = ParagraphStyle("cell", parent=s.body, fontSize=size, leading=size * 1.25, spaceAfter=0)
    cells = [[Paragraph(f"<b>{escape(c)}</b>" if r == 0 or c == "pending" else escape(c), style) for c in row]
             for r, row in enumerate(rows)]
    return table(cells, widths, [("LINEBELOW", (0, 0), (-1, 0), 0.8, TEXT_GREY),
                                 ("LINEBELOW", (0, 1), (-1, -1), 0.3, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)],
                 repeatRows=1, hAlign="LEFT")


def _side_by_side(left: Any, right: Any, width: float, share: float) -> Table:
    # splitInRow: a goal's words as written (or typed in review) may be longer than a page; the row goes on over
    # the next page instead of stopping the report (reportlab's LayoutError)
    return table([[left, right]], [width * share, width * (1 - share)],
                 [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                  ("RIGHTPADDING", (0, 0), (0, -1), 8), ("RIGHTPADDING", (1, 0), (1, -1), 0)], splitInRow=1)


def _section(heading: str, intro: str, s: Styles, *body: Any) -> list[Any]:
    """A heading, its words and its chart kept on one page; notes may follow on the next."""
    return [KeepTogether([Paragraph(heading, s.heading), Paragraph(intro, s.body), *body])]


# The scorer's reasons (``formkit.scoring.compute``) in plain words for the person the form is about: no field
# ids, no jargon. Matched on how each reason starts (or reads whole); any other reason gets the last line.
PLAIN_REASONS = (
    (re.compile(r"not read\b"), "a page of this form was not scanned"),
    (re.compile(r"\d+ of \d+ items missing"), "too many questions were left blank"),
    (re.compile(r"no items answered$"), "no questions were answered"),
    (re.compile(r"waiting for review\b"), "some answers are still being checked"),
    (re.compile(r"no goal rated$"), "no goal was rated"),
    (re.compile(r"rated without a weight\b"), "a goal was rated without saying how much it matters"),
    (re.compile(r"a weight is zero or negative$"), "a goal\u2019s importance was marked as 0 or less"),
    (re.compile(r".* is not a single number\b"), "an answer could not be read as a single number"),
    (re.compile(r"one rating only\b"), "there is only one rating so far: a change needs two"),
    (re.compile(r"no rating yet$"), "there is no rating yet"),
)
OTHER_REASON = "the answers did not give a score"


def plain_reason(reason: str) -> str:
    """Why a form was not scored, in short plain words without field ids."""
    text = reason.strip()
    return next((words for pattern, words in PLAIN_REASONS if pattern.match(text)), OTHER_REASON)


def _not_scored(occasions: list[Occasion], score_id: str, s: Styles) -> list[Any]:
    """A plain line for each form that could not be scored, with the reason in plain words."""
    out = []
    for o in occasions:
        score = o.scores.get(score_id)
        if score is not None and score.status == INVALID:
            out.append(Paragraph(f"{_date_cell(o)}: not scored \u2013 {escape(plain_reason(score.reason))}.",
                                 s.small))
    return out


def _width(s: Styles) -> float:
    return page_width_pt(14 if s.size > 14 else 16)


def _chart_height(s: Styles) -> float:
    return 170.0 if s.size > 14 else 165.0


def _goal_cards(occasions: list[Occasion], data: FormData, s: Styles,
                workers: dict[str, Occasion] | None = None) -> list[Any]:
    out: list[list[Any]] = []
    width = _width(s)
    items = _progress_items(data)
    for number, o in enumerate(occasions, start=1):
        text = []
        set_on = f" \u2013 set on {_date_cell(o)}" if o.day else ""
        text.append(Paragraph(f"<b>Goal {number}</b>{set_on}", s.body))
        text.append(Paragraph(_goal_text(o, "goal", "(no goal written on the card)"), s.body))
        for field_id, words in GOAL_TEXTS:
            value = _goal_text(o, field_id, "")
            if value:
                text.append(Paragraph(f"{words}: {value}", s.body))
        series = Series("Progress", [])
        for i, item in enumerate(items):
            if item in o.waiting:
                guess = o.guesses.get(item, "")
                series.points.append(Point(i, None, float(guess) if _is_number(guess) else None, True))
            elif _is_number(o.values.get(item, "")):
                series.points.append(Point(i, float(o.values[item])))
        latest = o.scores.get("progress_latest")
        if latest is not None and latest.status == INVALID:  # an empty chart, else: not rated, or a page not scanned?
            text.append(Paragraph(f"No progress shown: {escape(plain_reason(latest.reason))}.", s.small))
        chart = line_chart(width * 0.5, _chart_height(s) * 0.9, [f"#{i + 1}" for i in range(len(items))], [series],
                           (0, 10), title="Progress (0\u201310)", better="higher", font_size=s.chart_font,
                           y_ticks=[0, 2, 4, 6, 8, 10])
        row: list[Any] = [_side_by_side(text, chart, width, 0.5)]
        worker = (workers or {}).get(o.serial)
        if worker is not None:
            row += _goal_pair(o, worker, items, s)
        out.append([*row, Spacer(1, s.size * 0.4)])
    heading = [Paragraph("Your goals", s.heading),
               Paragraph("Progress ratings from your goal card: 0 means not started, 10 means done.", s.body)]
    return [KeepTogether(heading + out[0]), *(KeepTogether(row) for row in out[1:])]


def _rating(o: Occasion, item: str) -> str:
    """A rating as the tables show it: the number, 'pending' or empty."""
    return "pending" if item in o.waiting else o.values.get(item, "")


def _goal_pair(client: Occasion, worker: Occasion, items: list[str], s: Styles) -> list[Any]:
    """The client's and the worker's progress ratings of one goal, review by review."""
    width = _width(s)
    rows = [["Progress", *[f"#{i + 1}" for i in range(len(items))]],
            ["You", *[_rating(client, i) for i in items]],
            ["Your worker", *[_rating(worker, i) for i in items]]]
    out: list[Any] = [Paragraph("How your worker sees it: the same goal's progress as your worker rated it at each "
                                "review (within 1 point of yours counts as agreeing).", s.small),
                      _table(rows, s, [width * 0.26] + [width * 0.15] * len(items))]
    words = _goal_text(worker, "goal", "")
    if words:
        out.insert(0, Paragraph(f"Your worker's words for this goal: {words}", s.body))
    return out


def _progress_items(data: FormData) -> list[str]:
    """The goal card's progress ratings, in order (the items its latest-progress score reads)."""
    return list(data.rules["progress_latest"].items) if "progress_latest" in data.rules else []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() != ""


def _goal_text(o: Occasion, field_id: str, empty: str) -> str:
    if field_id in o.waiting:
        guess = o.guesses.get(field_id, "").strip()
        shown = f"{_quoted(guess)} " if guess else ""
        return f'<font color="#444444">{shown}(pending: still being checked)</font>'
    value = o.values.get(field_id, "").strip()
    return _quoted(value) if value else empty


def _quoted(words: str) -> str:
    """A person's own words in quotes, and where the report's font cannot print some of them (Chinese, typed in
    review, came out as empty boxes; Arabic unjoined, back to front) a note that says so."""
    quoted = f"\u201c{escape(words)}\u201d"
    if unprintable("".join(ch for ch in words if unicodedata.category(ch) != "Cc")):  # control codes are no words
        quoted += (' <font color="#444444">(some of these words cannot be printed in this summary: read them on the '
                   "form itself)</font>")
    return quoted


def _k10(occasions: list[Occasion], data: FormData, s: Styles, band_set: str | None) -> list[Any]:
    rule = data.rules.get("k10_total")
    if rule is None:
        return _other(occasions, data, s)
    shown, more = _recent(occasions, s)
    chosen = band_set or rule.default_bands
    bands = [Band(b.low, b.high, b.label) for b in rule.band_sets.get(chosen, ())]
    width = _width(s)
    series = Series("K10", [_point(i, o, "k10_total") for i, o in enumerate(shown)])
    chart = line_chart(width, _chart_height(s), [_date_label(o) for o in shown], [series], (10, 50),
                       title="Distress score (10\u201350)", bands=bands, better="lower", font_size=s.chart_font,
                       y_ticks=[10, 20, 30, 40, 50])
    rows = [["Date", "Score", "Level"]]
    for o in occasions:
        score = o.scores.get("k10_total")
        rows.append([_date_cell(o), _cell(o, "k10_total"), score.band if score is not None and score.usable else ""])
    return [*_section("How you have been feeling",
                      "From the K10 questions about the past 4 weeks. Scores go from 10 to 50: a <b>lower</b> score "
                      "means less distress. The shading shows the levels.", s, chart, *more, Spacer(1, s.size * 0.3),
                      _table(rows, s, [width * 0.34, width * 0.2, width * 0.3])),
            *_not_scored(occasions, "k10_total", s)]


def _alliance(occasions: list[Occasion], data: FormData, s: Styles, total: str, parts: tuple[str, ...]) -> list[Any]:
    if total not in data.rules:
        return _other(occasions, data, s)
    shown, more = _recent(occasions, s)
    width = _width(s)
    labels = [_date_label(o) for o in shown]
    low, high = data.ranges.get(total, (12, 60))
    total_chart = line_chart(width * 0.5, _chart_height(s), labels,
                             [Series("Total", [_point(i, o, total) for i, o in enumerate(shown)])], (low, high),
                             title=f"Total ({fmt(low)}\u2013{fmt(high)})", better=better(total),
                             font_size=s.chart_font)
    present = [p for p in parts if p in data.rules]
    p_low, p_high = data.ranges.get(present[0], (4, 20)) if present else (4, 20)
    part_series = [Series(SHORT_NAMES.get(p, p), [_point(i, o, p) for i, o in enumerate(shown)]) for p in present]
    parts_chart = line_chart(width * 0.5, _chart_height(s), labels, part_series, (p_low, p_high),
                             title=f"Parts ({fmt(p_low)}\u2013{fmt(p_high)})", better=better(total),
                             font_size=s.chart_font, value_labels=False)
    rows = [["Date", "Total", *[SHORT_NAMES.get(p, p) for p in present]]]
    rows += [[_date_cell(o), _cell(o, total), *[_cell(o, p) for p in present]] for o in occasions]
    columns = [width * 0.3] + [width * 0.14] * (1 + len(present))
    heading = "How our work together is going" + ("" if data.form == "alliance-check" else " (WAI-SR)")
    return [*_section(heading, "How you rated working together: agreeing on goals, on tasks, and the bond between "
                      "you. <b>Higher</b> scores mean a stronger working relationship.", s,
                      _side_by_side(total_chart, parts_chart, width, 0.5), *more, Spacer(1, s.size * 0.3),
                      _table(rows, s, columns)),
            *_not_scored(occasions, total, s)]


def _gap_cell(client: Occasion, worker: Occasion, score_id: str) -> str:
    """Client minus worker for one score: the number, 'pending' or 'not scored'."""
    a, b = client.scores.get(score_id), worker.scores.get(score_id)
    if a is None or b is None:
        return ""
    if a.pending or b.pending:
        return "pending"
    if a.value is None or b.value is None:
        return "not scored"
    return fmt(round(a.value - b.value, 2))


def _alliance_pairs(occasions: list[Occasion], workers: dict[str, Occasion], data: FormData, s: Styles,
                    total: str, parts: tuple[str, ...]) -> list[Any]:
    """Each occasion the worker rated the alliance too: both totals and the gaps (client minus worker)."""
    paired = [(o, workers[o.serial]) for o in occasions if o.serial in workers]
    if not paired or total not in data.rules:
        return []
    width = _width(s)
    present = [p for p in parts if p in data.rules]
    rows = [["Date", "You", "Your worker", "Gap", *[f"{SHORT_NAMES.get(p, p)} gap" for p in present]]]
    rows += [[_date_cell(o), _cell(o, total), _cell(w, total), _gap_cell(o, w, total),
              *[_gap_cell(o, w, p) for p in present]] for o, w in paired]
    return [KeepTogether([Paragraph("How your worker sees it", s.subheading),
                          Paragraph("Your worker answered the same questions about working with you. The gap is your "
                                    "total (or part) minus your worker's: above 0, you rated it higher; below 0, your "
                                    "worker did.", s.body),
                          _table(rows, s, [width * 0.25] + [width * 0.125] * (3 + len(present)))])]


def _gas(occasions: list[Occasion], data: FormData, s: Styles) -> list[Any]:
    if "gas_t" not in data.rules:
        return _other(occasions, data, s)
    shown, more = _recent(occasions, s)
    values = [o.scores["gas_t"].value or o.scores["gas_t"].provisional for o in shown if "gas_t" in o.scores]
    values = [v for v in values if v is not None]
    low, high = min([30.0, *values]), max([70.0, *values])
    width = _width(s)
    chart = line_chart(width, _chart_height(s), [_date_label(o) for o in shown],
                       [Series("GAS", [_point(i, o, "gas_t") for i, o in enumerate(shown)])], (low, high),
                       title="Goal attainment (T-score)", reference=(50, "as expected"), better="higher",
                       font_size=s.chart_font)
    rows = [["Date", "T-score"]] + [[_date_cell(o), _cell(o, "gas_t")] for o in occasions]
    return [*_section("How far your goals were reached",
                      "From the goal follow-up forms (Goal Attainment Scaling). 50 means your goals were reached as "
                      "expected; <b>above 50</b>, better than expected.", s, chart, *more, Spacer(1, s.size * 0.3),
                      _table(rows, s, [width * 0.34, width * 0.2])),
            *_not_scored(occasions, "gas_t", s)]


def _other(occasions: list[Occasion], data: FormData, s: Styles) -> list[Any]:
    """A form without its own section: tables of its scores (``SCORES_PER_TABLE`` a table), or, when there are no
    scores to show (its template is not installed, or has no scoring), the days it was returned with a plain
    note."""
    rules = list(data.rules.values())
    width = _width(s)
    heading = Paragraph(escape(data.title if data.title != data.form else TITLES.get(data.form, data.form)),
                        s.heading)
    if not rules:
        rows = [["Date"]] + [[_date_cell(o)] for o in occasions]
        return [KeepTogether([heading, Paragraph("You returned this form on the days below. It has no scores to "
                                                 "show here.", s.body), _table(rows, s, [width * 0.34])])]
    labels = [r.label.split(" (")[0] for r in rules]
    longest_pt = max(stringWidth(word, BOLD, s.size * 0.9) for label in labels for word in label.split() or [""])
    per_table = max(1, min(SCORES_PER_TABLE, len(rules), int(width * 0.72 // (longest_pt + CELL_PADDING_PT))))
    tables: list[Any] = [heading]
    for first in range(0, len(rules), per_table):
        some = range(first, min(first + per_table, len(rules)))
        rows = [["Date", *[labels[i] for i in some]]]
        rows += [[_date_cell(o), *[_cell(o, rules[i].id) for i in some]] for o in occasions]
        tables += [Spacer(1, s.size * 0.4)] if first else []
        # every table's columns as wide as the first's, so that they line up
        tables.append(_table(rows, s, [width * 0.28] + [width * 0.72 / per_table] * len(some)))
    return tables


def _notes(dated_by: set[str], s: Styles) -> list[Any]:
    out = []
    if "scan" in dated_by:
        out.append(Paragraph("* No date was written on this form: the date it was scanned is shown.", s.small))
    if "unread" in dated_by:
        out.append(Paragraph("\u2020 The page of this form that holds its date has not been scanned: the date the "
                             "rest of it was scanned is shown.", s.small))
    if "pending" in dated_by:
        out.append(Paragraph("? The date written on this form is still being checked (where none can be read "
                             "yet, the day it was scanned is shown).", s.small))
    return [Spacer(1, s.size * 0.5), *out] if out else []

