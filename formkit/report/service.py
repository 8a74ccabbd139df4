"""The service report: forms returned, completion and review, the distribution of every score, change per
person, and the research question (change in wellbeing against goal achievement and the alliance).

Every count, score and change in it is one ``formkit export`` writes from the same store and codes files
(see ``data``); shares, means, standard deviations and correlations are computed from those numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from ..layout.text import BOLD, REGULAR
from .charts import histogram, scatter
from .common import GRID, TEXT_GREY, Styles, build_pdf, day_words, escape, fmt, page_width_pt, share, styles, table
from .data import MIN_N_FOR_CI, Association, ChangeSummary, ServiceData

X_RANGES = {"progress_latest": (0.0, 10.0), "ac_total": (12.0, 60.0), "wai_total": (12.0, 60.0)}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def service_pdf(data: ServiceData, made_on: date | None = None, source: str = "") -> bytes:
    s = styles(10)
    made_on = made_on or date.today()
    story: list[Any] = [Paragraph("Service report", s.title), *_intro(data, s, made_on, source)]
    story += _returned(data, s)
    story += _completion(data, s)
    story += _distributions(data, s)
    story += _changes(data, s)
    story += _research(data, s)
    story += _method(data, s)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(TEXT_GREY)
        canvas.drawString(doc.leftMargin, 10 * mm, f"formkit service report \u00b7 {_period(data)}")
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 10 * mm,
                               f"Page {doc.page} \u00b7 made on {day_words(made_on)}")
        canvas.restoreState()

    return build_pdf(story, "Service report", footer)


def _period(data: ServiceData) -> str:
    if data.start is None and data.end is None:
        return "all forms in the store"
    start = day_words(data.start) if data.start else "the first form"
    end = day_words(data.end) if data.end else "the latest form"
    return f"forms dated {start} to {end}"


def _intro(data: ServiceData, s: Styles, made_on: date, source: str) -> list[Any]:
    returned = sum(f.returned for f in data.summaries)
    where = f" from {escape(source)}" if source else ""
    return [
        Paragraph(f"Made on {day_words(made_on)}{where}: {escape(_period(data))}. {returned} form(s) returned by "
                  f"{data.persons} person code(s).", s.body),
        Paragraph("Every count, score and change in this report is one that <b>formkit export</b> writes from the same "
                  "store and codes files (<i>form</i>.csv and <i>form</i>_change.csv); shares, means, standard "
                  "deviations and correlations are computed from those numbers. A score still waiting for review is "
                  "never used: it is counted as pending.", s.small),
    ]


def _cell_style(s: Styles, size: float | None = None, bold: bool = False) -> ParagraphStyle:
    size = size or s.size * 0.85
    return ParagraphStyle("cell", parent=s.body, fontSize=size, leading=size * 1.2, spaceAfter=0,
                          fontName=BOLD if bold else REGULAR, embeddedHyphenation=1)  # a form id may wrap at '-'


def _grid(rows: list[list[str]], s: Styles, widths: list[float], total_row: bool = False) -> Table:
    head, body = _cell_style(s, bold=True), _cell_style(s)
    cells = [[Paragraph(escape(c), head if r == 0 or (total_row and r == len(rows) - 1) else body) for c in row]
             for r, row in enumerate(rows)]
    commands = [("LINEBELOW", (0, 0), (-1, 0), 0.8, TEXT_GREY), ("LINEBELOW", (0, 1), (-1, -1), 0.3, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if total_row:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, TEXT_GREY))
    return table(cells, widths, commands, repeatRows=1, hAlign="LEFT")


def _month(key: str) -> str:
    if not key:
        return "no date on the form"
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _returned(data: ServiceData, s: Styles) -> list[Any]:
    forms = [f.form for f in data.summaries]
    width = page_width_pt()
    first = width * 0.24
    totals = {f: sum(c.get(f, 0) for c in data.months.values()) for f in forms}
    # every count on one line: in columns too narrow (ten forms, 15000 returned) '15000' wrapped as '1500' over '0'
    widest = stringWidth(str(sum(totals.values())), BOLD, s.size * 0.85) + 6 + 2  # the cell's padding, and a margin
    per_table = max(1, min(len(forms), int((width - first) // widest) - 1))
    out: list[Any] = [Paragraph("Forms returned, per month and per form", s.heading),
                      Paragraph("By the date written on the form (its occasion date). A form with no date, or whose "
                                "date is still waiting for review, is counted under \u201cno date on the form\u201d."
                                + (" The forms are in several tables; <b>All</b> counts every form." if
                                   len(forms) > per_table else ""), s.small)]
    for start in range(0, len(forms), per_table):
        shown = forms[start:start + per_table]
        rows = [["Month", *shown, "All"]]
        for month, counts in data.months.items():
            rows.append([_month(month), *[str(counts.get(f, 0)) for f in shown], str(sum(counts.values()))])
        rows.append(["All", *[str(totals[f]) for f in shown], str(sum(totals.values()))])
        rest = (width - first) / (len(shown) + 1)
        if start:
            out.append(Spacer(1, s.size * 0.6))
        out.append(_grid(rows, s, [first] + [rest] * (len(shown) + 1), total_row=True))
    return out


def _completion(data: ServiceData, s: Styles) -> list[Any]:
    width = page_width_pt()
    rows = [["Form", "Returned", "With a code", "Items answered", "Values waiting for review", "Values reviewed",
             "Share reviewed", "Forms with nothing waiting"]]
    for f in data.summaries:
        rows.append([f.form, str(f.returned), str(f.with_code),
                     f"{share(f.items_answered, f.items_asked)} ({f.items_answered} of {f.items_asked})",
                     str(f.waiting), str(f.reviewed), share(f.reviewed, f.reviewed + f.waiting),
                     f"{f.ready} ({share(f.ready, f.returned)})"])
    widths = [width * w for w in (0.15, 0.115, 0.1, 0.175, 0.12, 0.11, 0.1, 0.13)]
    return [Paragraph("Completion and review", s.heading),
            _grid(rows, s, widths),
            Paragraph("<b>Items answered</b>: of the questions a form's scores are computed from, the share with an "
                      "answer in <i>form</i>.csv (a value waiting for review counts as unanswered until it is checked; "
                      "on goal cards and GAS follow-ups, unused rows count as unanswered). <b>Share reviewed</b>: of "
                      "the values the scanner flagged for a person to check, the share already checked "
                      "(<i>reviewed</i> / (<i>reviewed</i> + <i>needs_review</i>) in <i>form</i>.csv).", s.small)]


def _distributions(data: ServiceData, s: Styles) -> list[Any]:
    width = page_width_pt()
    cell_w = width / 3
    charts, empty = [], []
    for d in data.distributions:
        if not d.values:
            empty.append(f"{d.form} {d.score}" + (f" ({d.pending} pending)" if d.pending else ""))
            continue
        drawing = histogram(cell_w - 8, 105, d.values, d.low, d.high, title=_short(d.label), font_size=7.5)
        mean = f" \u00b7 mean {fmt(d.mean, 1)}" if d.mean is not None else ""
        caption = Paragraph(f"{escape(d.form)} <b>{escape(d.score)}</b>: n = {len(d.values)}{mean} \u00b7 pending "
                            f"{d.pending} \u00b7 not scorable {d.invalid}", _cell_style(s, 7.5))
        charts.append([drawing, caption])
    out: list[Any] = [Paragraph("Scores: how they are spread", s.heading),
                      Paragraph("Each chart counts the forms by score (complete and prorated scores from "
                                "<i>form</i>.csv). n: forms with a usable score; pending: waiting for review; not "
                                "scorable: too many questions unanswered, or no goal rated.", s.small)]
    for i in range(0, len(charts), 3):
        row = charts[i:i + 3]
        row += [""] * (3 - len(row))
        out.append(table([row], [cell_w] * 3, [("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    if empty:
        out.append(Paragraph(f"No usable values yet: {escape(', '.join(empty))}.", s.small))
    return out


def _short(label: str) -> str:
    return label if len(label) <= 40 else label[:38].rstrip() + "\u2026"


def _change_cells(c: ChangeSummary) -> list[str]:
    """A row of the change table: the form it is from first, as one score id may be in several forms (the
    client's alliance check and the worker's)."""
    decimals = 1
    sd = f" (SD {fmt(c.sd, decimals)})" if c.sd is not None else ""
    improved, worsened = c.improved(), c.worsened()
    return [c.form, c.score, str(c.n), f"{fmt(c.mean, decimals)}{sd}" if c.mean is not None else "\u2013",
            f"{improved} ({share(improved, c.n)})" if improved is not None else "no rule",
            f"{worsened} ({share(worsened, c.n)})" if worsened is not None else "no rule",
            str(c.pending), str(c.too_few), {"lower": "lower", "higher": "higher"}.get(c.better, "\u2013")]


def _changes(data: ServiceData, s: Styles) -> list[Any]:
    if not data.changes:
        return []
    width = page_width_pt()
    rows = [["Form", "Score", "People with a change", "Mean change", "Improved reliably", "Worse reliably",
             "Waiting for review", "Fewer than two usable", "Better is"]]
    rows += [_change_cells(c) for c in data.changes]
    rules = [Paragraph(note, s.small) for note in _change_notes(data.changes)]
    rules += [Paragraph(f"<b>{escape(c.form)} {escape(c.score)}</b>: {c.not_comparable} person(s) not counted above: "
                        "their first and latest occasions are of template versions that score it otherwise.", s.small)
              for c in data.changes if c.not_comparable]
    widths = [width * w for w in (0.17, 0.145, 0.085, 0.15, 0.105, 0.095, 0.09, 0.085, 0.075)]
    return [KeepTogether([
        Paragraph("Change from the first to the latest occasion, per person", s.heading),
        Paragraph("From <i>form</i>_change.csv: each person's first and latest usable score (ordered by the date "
                  "written on the form, else by scan order). For the K10 a <b>negative</b> change means less "
                  "distress (better); for the alliance, goal progress and GAS a positive change is better.", s.small),
        _grid(rows, s, widths), Spacer(1, 3), *rules])]


def _change_notes(changes: list[ChangeSummary]) -> list[str]:
    """The reliable-change rule of each score, once: a score id in several forms with the same rule gets one
    note; with different rules, each note names its form."""
    rules: dict[str, set[str]] = {}
    for c in changes:
        rules.setdefault(c.score, set()).add(c.rule)
    notes: list[str] = []
    for c in changes:
        label = c.score if len(rules[c.score]) == 1 else f"{c.form} {c.score}"
        note = f"<b>{escape(label)}</b>: {escape(c.rule)}."
        if note not in notes:
            notes.append(note)
    return notes


def _research(data: ServiceData, s: Styles) -> list[Any]:
    heading = Paragraph("Research question: does change in wellbeing go with goal achievement and with the working "
                        "alliance?", s.heading)
    if not data.associations:
        return [heading, Paragraph("Not answerable yet: it needs K10 forms with a change per person, and goal cards, "
                                   "GAS follow-ups or alliance forms from the same people.", s.body)]
    intro = ("Each point is one person: their K10 change from the first to the latest occasion (negative = less "
             "distress) against their latest goal progress, GAS T-score or alliance total. Pearson's r with its 95 % "
             f"confidence interval (Fisher z); with fewer than {MIN_N_FOR_CI} people no interval is given. <b>These "
             "are associations, not causes</b>: they do not show that goals or the alliance changed anyone's "
             "wellbeing.")
    out: list[Any] = [heading, Paragraph(intro, s.small)]
    width = page_width_pt()
    cells = [_association(a, s, width / 2 - 8) for a in data.associations]
    for i in range(0, len(cells), 2):
        row = cells[i:i + 2]
        row += [""] * (2 - len(row))
        out.append(table([row], [width / 2] * 2, [("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                  ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                  ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [KeepTogether(out[:3]), *out[3:]]


def correlation_words(a: Association) -> str:
    c = a.correlation
    if c.r is None:
        return c.note
    text = f"n = {c.n} people; r = {fmt(c.r, 2)}"
    if c.low is not None and c.high is not None:
        return f"{text}, 95 % CI {fmt(c.low, 2)} to {fmt(c.high, 2)} (Fisher z)"
    if c.n < MIN_N_FOR_CI:
        return (f"{text}. n < {MIN_N_FOR_CI}: too few people for a confidence interval, so none is given; r "
                "describes these people only")
    return f"{text}. {c.note}"


def _association(a: Association, s: Styles, width: float) -> list[Any]:
    x_range = X_RANGES.get(a.x_score)
    drawing = scatter(width, 170, [(x, y) for _, x, y in a.pairs], x_title=a.x_label, y_title=a.y_label,
                      x_range=x_range, font_size=7.5)
    parts = [drawing, Paragraph(f"<b>Association, not cause.</b> {escape(correlation_words(a))}.",
                                _cell_style(s, 8.5))]
    if a.left_out:
        parts.append(Paragraph(f"Not in the plot: {escape(a.left_out)}.", _cell_style(s, 7.5)))
    return parts


def _method(data: ServiceData, s: Styles) -> list[Any]:
    notes = ["<b>Occasions.</b> A person's forms are linked by their pseudonymous code (from the codes files, or "
             "written on the form); names are never read. Their order is the date written on the form, else the "
             "order of <i>form</i>.csv, as in the export's change file."]
    if data.start is not None or data.end is not None:
        notes.append("<b>Period.</b> A form is in the period when its occasion date is: the date written on it, or "
                     "(when none is written, or it is still being checked) the machine's reading of it, else the day "
                     "it was scanned. Changes and scores are those an export of just these forms would write.")
    return [Paragraph("How the numbers were made", s.heading), *[Paragraph(n, s.small) for n in notes if n]]
