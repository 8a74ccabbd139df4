"""Marks beside the boxes: respondents who circle a box, tick beside it or between two, tick far past it,
or circle or underline the words under it, or write a word across a row or a "?" in a box; who write a
date or a number beside its boxes, in words, or with a digit more beside them; read through the pipeline.

    python benchmarks/unusual_marks.py [--pages N] [--only STYLE]

For each way of marking and each condition, pages of k10, alliance-check, gas-followup and goal-card are
filled by one respondent (one pen: black, blue or pencil) who answers every single-choice row that way
(`tests.synthetic.draw_mark_beside`):

- *circle*: a loop 1-2.5 mm clear of the box all round, nothing in the box;
- *beside*: a tick 1-2 mm left of the box (not on the goal card, whose boxes are 1.2 mm apart: a tick
  beside one is in the next, and read as that box's);
- *between*: a tick on the paper halfway between the box and the next (on the goal card, astride both);
- *long*: a tick in the box twice its size, its tail far outside;
- *rows*: a tick or a cross half a row low, centred 35-65 % of the way from the box towards the box in the same
  column of the next row below (the row above for the last), astride the gap between the rows
  (`tests.synthetic.draw_mark_between_rows`; not on gas-followup, whose rows lie 60 mm apart). Every row is
  answered so: each is counted once, touched by its own mark and (but the first) by the mark of the row above it
  or below it, and must be flagged whatever it reads;
- *ringed* and *underlined* (gas-followup and goal-card, whose options' words or numbers are printed under
  their boxes): a loop round an option's words, or a line under their first line, the box left empty
  (`tests.synthetic.draw_label_mark`);
- *word* and *question*: a word written across the row instead of an answer ("N/A", "n/a", "don't know", "not
  sure" in a script font, begun up to 1 mm before the box or in it: `tests.synthetic.write_text`), or a "?"
  2.8-3.6 mm tall written in the box (`tests.synthetic.draw_question_mark`);
- *moved*: a tick or cross in one box, then an arrow from it to another box of the row, the mind changed
  (`tests.synthetic.draw_arrow_move`): straight and level with the row, or arched over or under the boxes
  between; its head a V, 0-1.5 mm before the other box or touching it. Meant: the other box.

All but *long* are no answer a reader can take: a field must be flagged (*flagged*), and one read blank
or as an option without a flag is a *silent error*. A long tick is its box's answer: *right* is read so
and not flagged, *needless* is flagged. The rest of each page is left blank and not counted.

Digit and date fields (weights on gas-followup, dates on all four), each written by one respondent in held-
back MNIST digits (samples/handwriting), one way:

- *after*: the date or number written on the paper 1-3 mm after the last box, the boxes left empty;
- *words*: written in words from the first box on ("7 Feb 2026", "six"), a script font's letters;
- *second*: written in the boxes, and one digit more written just after the last box (a second thought,
  or a number longer than its boxes);
- *in boxes*: written in the boxes only, a tenth of the digits across a border (as the other benchmarks).

The first three must be flagged; any value read unflagged is a silent error. Of *in boxes*, *right* is read
right and unflagged, and *beside* counts the fields flagged for writing beside their boxes (needless).

Visual-analogue lines (vas-4line), each line answered one way:

- *short*: a tick from 3.5-5 mm above the line stopping 0.3-0.6 mm short of it;
- *arrow*: a small V above the line, its point 0.8 mm over it;
- *number*: a digit written 2 mm under the line instead of a mark;
- *across*: a stroke across the line (*right*: read within 0.15 of the value meant, unflagged).

The first three must be flagged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import platform
import random
import sys
from collections import Counter
from pathlib import Path

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scan_accuracy import blank_pages  # noqa: E402

from formkit.layout.model import Box, BoxesField, ChoiceField, LineField  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from scanner.labels import option_labels  # noqa: E402
from scanner.pipeline import read_page  # noqa: E402
from tests.synthetic import (  # noqa: E402
    _Pen,
    degrade_photo,
    degrade_scan,
    draw_arrow_move,
    draw_digit,
    draw_label_mark,
    draw_line_mark,
    draw_mark_beside,
    draw_mark_between_rows,
    draw_question_mark,
    load_digits,
    write_digits,
    write_text,
)

FORMS = ["k10", "alliance-check", "gas-followup", "goal-card"]
MARKS = ["circle", "beside", "between", "long", "rows"]
LABELS = ["ringed", "underlined"]  # on the words printed under the boxes
NOTES = ["word", "question"]  # on the row, for no answer
MOVED = ["moved"]  # an arrow from a marked box to another
WRITING = ["after", "words", "second", "in boxes"]
LINES = ["short", "arrow", "number", "across"]
STYLES = MARKS + LABELS + NOTES + MOVED + WRITING + LINES
DIGITS = Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CONDITIONS = {"flatbed 300 dpi": "scan300", "copier 200 dpi, 1-bit": "scan200bw", "phone photo 3 MP": "photo3",
              "phone photo 12 MP": "photo12"}


def make_page(style: str, condition: str, seed: int):
    """A degraded page (grey); per field answered, what was meant: the option marked beside, or the date (ISO)
    or number written; and per field, how it was answered for ``--breakdown`` (the form, and for *moved* how
    many boxes the arrow goes, + rightwards)."""
    rng = random.Random(seed)
    left_out = {"beside": "goal-card", "rows": "gas-followup"}.get(style)
    forms = [f for f in FORMS if f != left_out]
    if style in LABELS:
        forms = ["gas-followup", "goal-card"]
    form = "vas-4line" if style in LINES else forms[seed % len(forms)]
    dpi = 200 if condition in ("scan200bw", "photo3") else 300
    layout, pages = blank_pages(form, dpi)
    kind = BoxesField if style in WRITING else LineField if style in LINES else ChoiceField
    answered = [i for i, p in enumerate(layout.pages) if any(isinstance(f, kind) for f in p.fields)]
    index = rng.choice(answered)
    image, pen = pages[index].copy(), rng.choice(["black", "blue", "pencil"])
    truth, how = {}, {}
    for f in layout.pages[index].fields:
        if isinstance(f, ChoiceField) and not f.multiple and kind is ChoiceField:
            k = rng.randrange(len(f.options) - (style == "between"))
            neighbour = f.options[k + 1].box if style == "between" else None
            if style in LABELS:
                lines = option_labels(layout.pages[index], f).get(f.options[k].value)
                if not lines:
                    continue  # no words under this box
                draw_label_mark(image, dpi, lines, style, rng, pen)
            elif style in NOTES:
                note_on_row(image, dpi, f.options[k].box, style, rng, pen)
            elif style in MOVED:
                k, first = rng.sample(range(len(f.options)), 2)
                draw_arrow_move(image, dpi, f.options[first].box, f.options[k].box, rng, pen)
                how[f.id] = f"{form}, {k - first:+d} boxes"
            elif style == "rows":
                draw_mark_between_rows(image, dpi, f.options[k].box, other_row_box(layout.pages[index], f, k), rng, pen)
            else:
                draw_mark_beside(image, dpi, f.options[k].box, style, rng, pen, neighbour=neighbour)
            truth[f.id] = str(f.options[k].value)
            how.setdefault(f.id, form)
        elif isinstance(f, BoxesField) and kind is BoxesField:
            truth[f.id] = write_unusually(image, dpi, f, style, rng, "black" if pen == "pencil" else pen)
        elif isinstance(f, LineField) and kind is LineField:
            truth[f.id] = mark_line(image, dpi, f, style, rng, "black" if pen == "pencil" else pen)
    if condition == "scan300":
        image = degrade_scan(image, dpi, rng, out_dpi=300, upside_down=rng.random() < 1 / 3)
    elif condition == "scan200bw":
        image = degrade_scan(image, dpi, rng, out_dpi=200, one_bit=True, upside_down=rng.random() < 1 / 3)
    else:
        image = degrade_photo(image, rng, frame_px=(4000, 3000) if condition == "photo12" else (2000, 1500))
    return (image if image.ndim == 2 else image.min(axis=2)), truth, how


def note_on_row(image, dpi: float, box: Box, style: str, rng: random.Random, pen: str) -> None:
    """Write on a row, for no answer, in ``style`` (*word* or *question*, see the module's text), at ``box``."""
    if style == "question":
        width_mm = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
        draw_question_mark(image, dpi, box, pen, rng.uniform(2.8, 3.6), rng.uniform(0.5, 0.9), width_mm,
                           rng.uniform(-0.5, 0.5))
    else:
        word = rng.choice(["N/A", "n/a", "don't know", "not sure"])
        write_text(image, dpi, Box(box.x_mm - 3.0, box.y_mm - 1.0, 40.0, box.h_mm + 2.0), word, rng, pen)


def other_row_box(page, f: ChoiceField, k: int) -> Box:
    """The box in the same column as ``f``'s option ``k`` of the nearest single-choice row below it on ``page``,
    or above it when none lies below."""
    box = f.options[k].box
    column = [o.box for g in page.fields if isinstance(g, ChoiceField) and not g.multiple and g is not f
              for o in g.options if abs(o.box.x_mm - box.x_mm) < box.w_mm / 2]
    below = [b for b in column if b.y_mm > box.y_mm]
    return min(below, key=lambda b: b.y_mm) if below else max(column, key=lambda b: b.y_mm)


def write_unusually(image, dpi: float, f: BoxesField, style: str, rng: random.Random, pen: str) -> str:
    """Write a date or number into or beside ``f``'s boxes in ``style`` (see the module's text); what was
    meant."""
    samples = _digits()
    if f.kind == "date":
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        text, meant, words = day.strftime("%d%m%Y"), day.isoformat(), f"{day.day} {day:%b %Y}"
    else:
        text = meant = str(rng.randint(f.minimum or 0, f.maximum or 9)).zfill(len(f.boxes))
        words = " ".join(NUMBER_WORDS[int(c)] for c in text)
    last = f.boxes[-1]
    after = last.x_mm + last.w_mm + rng.uniform(1.0, 3.0)
    if style in ("in boxes", "second"):
        write_digits(image, dpi, f.boxes, text, samples, rng, pen)
    if style == "after":
        for k, char in enumerate(text):
            draw_digit(image, dpi, Box(after + 0.8 * k * last.w_mm, last.y_mm, 0.8 * last.w_mm, last.h_mm),
                       rng.choice(samples[int(char)]), rng, pen)
    elif style == "second":
        draw_digit(image, dpi, Box(after, last.y_mm, 0.8 * last.w_mm, last.h_mm),
                   rng.choice(samples[rng.randrange(10)]), rng, pen)
    elif style == "words":
        first = f.boxes[0]
        write_text(image, dpi, Box(first.x_mm - 1, first.y_mm - 1, 45, first.h_mm + 2), words, rng, pen)
    return meant


def mark_line(image, dpi: float, f: LineField, style: str, rng: random.Random, pen: str) -> str:
    """Answer the visual-analogue line ``f`` in ``style`` (see the module's text); the value meant."""
    length = f.x2_mm - f.x1_mm
    position = rng.uniform(5.0, length - 5.0)
    x, y = f.x1_mm + position, f.y1_mm
    stroke = _Pen(image, dpi, pen, rng.uniform(0.35, 0.55)).stroke
    if style == "short":
        stroke([(x - 0.3, y - rng.uniform(3.5, 5.0)), (x, y - rng.uniform(0.3, 0.6))])
    elif style == "arrow":
        stroke([(x - 1.5, y - 3.5), (x, y - 0.8), (x + 1.5, y - 3.5)])
    elif style == "number":
        draw_digit(image, dpi, Box(x - 2.5, y + 2.0, 5.0, 6.0), rng.choice(_digits()[rng.randrange(10)]), rng, pen)
    else:
        draw_line_mark(image, dpi, f, position, rng, pen)
    return f"{f.minimum + (f.maximum - f.minimum) * position / length:.1f}"


_SAMPLES: dict = {}


def _digits() -> dict:
    if not _SAMPLES:
        _SAMPLES.update(load_digits(DIGITS))
    return _SAMPLES


def evaluate(job: tuple[str, str, int]) -> dict:
    style, condition, seed = job
    grey, truth, how = make_page(style, condition, seed)
    result = read_page(grey, PageResult("bench", 1, "", ""))
    out = {"read": result.status == "read", "fields": 0, "flagged": 0, "right": 0, "beside": 0, "silent": [],
           "how": []}
    for value in result.values if out["read"] else []:
        if value.field not in truth:
            continue
        out["fields"] += 1
        out["beside"] += "beside" in value.raw
        if value.needs_review:
            out["flagged"] += 1
        elif style in ("long", "in boxes") and value.value == truth[value.field]:
            out["right"] += 1
        elif style == "across" and value.value and abs(float(value.value) - float(truth[value.field])) <= 0.15:
            out["right"] += 1  # within the 1 mm of scan_accuracy's line values
        elif style != "in boxes":  # written in the boxes and read wrong unflagged: the recogniser's error
            out["silent"].append(f"seed {seed} {value.field}: read {value.value!r}, meant {truth[value.field]}")
            out["how"].append(how.get(value.field, "?"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=40, help="pages per way of marking and condition")
    parser.add_argument("--only", choices=STYLES, action="append", help="this way of marking only (repeatable)")
    parser.add_argument("--breakdown", action="store_true",
                        help="the silent fields counted by form (and by the arrow's boxes, for moved), and all listed")
    args = parser.parse_args()
    print(f"machine: {multiprocessing.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print(f"{'marked':8} {'condition':24} {'pages':>5} {'read':>5} {'fields':>6} {'flagged':>8} {'right':>7} "
          f"{'silent':>6} {'beside':>6}")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for style in args.only or STYLES:
            for label, condition in CONDITIONS.items():
                rows = pool.map(evaluate, [(style, condition, seed) for seed in range(args.pages)], chunksize=2)
                fields = max(1, sum(r["fields"] for r in rows))
                silent = [s for r in rows for s in r["silent"]]
                print(f"{style:8} {label:24} {args.pages:5d} {sum(r['read'] for r in rows):5d} {fields:6d} "
                      f"{100 * sum(r['flagged'] for r in rows) / fields:7.1f}% "
                      f"{100 * sum(r['right'] for r in rows) / fields:6.1f}% {len(silent):6d} "
                      f"{sum(r['beside'] for r in rows):6d}", flush=True)
                for line in silent if args.breakdown else silent[:5]:
                    print(f"    silent: {line}")
                if args.breakdown:
                    for how, count in Counter(h for r in rows for h in r["how"]).most_common():
                        print(f"    {count:4d} silent: {how}")


if __name__ == "__main__":
    main()
