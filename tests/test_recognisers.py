"""The recognisers' fast paths give what the slow ones gave: the digit networks in OpenCV's dnn against the
NumPy forward pass, Tesseract kept loaded in this process (tesserocr) against the tesseract program run
per image (pytesseract), and neither starts threads of its own."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.serial import ALPHABET
from scanner import _onnx, digits, ocr
from scanner._exec import libtesseract, tesseract

ROOT = Path(__file__).parent.parent
DIGITS = ROOT / "samples" / "handwriting" / "mnist-heldout.npz"
SERIAL_CHARS = ALPHABET + "-"  # as scanner.identify reads printed serials

needs_library = pytest.mark.skipif(not libtesseract.available() or libtesseract.tessdata_for("eng") is None,
                                   reason="tesserocr or English tessdata not installed")
needs_program = pytest.mark.skipif(tesseract.version() is None, reason="the tesseract program is not installed")


# --- digits ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def heldout() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DIGITS) as data:
        pick = np.random.default_rng(5).choice(len(data["y"]), 300, replace=False)
        return data["x"][pick].astype(np.float32) / 255, data["y"][pick]


def test_dnn_ensemble_gives_the_numpy_networks_probabilities(heldout):
    """300 held-out digits (more than one dnn chunk), an empty box and a full one, run through dnn in one
    call: the same probabilities within 1e-4 and the same digit as the NumPy pass, checked on the first
    nine, every third after them (both chunks) and the last two (the NumPy pass takes 18 ms a digit)."""
    x, _ = heldout
    x = np.concatenate([x, np.zeros((1, 28, 28), np.float32), np.ones((1, 28, 28), np.float32)])
    assert len(x) > digits.DNN_CHUNK
    assert digits._dnn_ensemble() is not None, "OpenCV's dnn is not used"
    fast = digits.classify(x)
    checked = np.r_[0:9, 9:len(x) - 2:3, len(x) - 2, len(x) - 1]
    reference = digits._classify_numpy(x[checked])
    assert fast.shape == (len(x), 10) and fast.dtype == np.float32
    assert np.abs(fast[checked] - reference).max() < 1e-4
    assert (fast[checked].argmax(axis=1) == reference.argmax(axis=1)).all()
    assert np.allclose(fast.sum(axis=1), 1, atol=1e-5)
    for n in (1, 9):  # batch sizes change between pages
        assert np.abs(digits.classify(x[:n]) - reference[:n]).max() < 1e-4
    assert digits.classify(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


def test_dnn_network_is_made_again_when_the_model_is_reloaded():
    """scripts/train_digits.py reloads the model file in the process (clearing the caches) to judge it."""
    first = digits._dnn_ensemble()
    assert digits._dnn_ensemble() is first
    digits._weights.cache_clear()
    digits._members.cache_clear()
    again = digits._dnn_ensemble()
    assert again is not None and again is not first and digits._dnn_ensemble() is again


def test_onnx_written_here_is_valid_onnx_and_computes_the_networks(heldout):
    """The in-memory ONNX (``scanner._onnx``) as the onnx package reads and runs it."""
    onnx = pytest.importorskip("onnx")
    reference_evaluator = pytest.importorskip("onnx.reference")
    graph = _onnx.Graph("digits")
    images = graph.input("images", ["N", 1, 28, 28])
    outputs = [graph.output(digits._network_graph(graph, images, f"m{i}.", p)[0], ["N", 10])
               for i, p in enumerate(digits._members())]
    model = onnx.load_from_string(graph.model())
    onnx.checker.check_model(model, full_check=True)
    x, _ = heldout
    runs = reference_evaluator.ReferenceEvaluator(model).run(outputs, {"images": x[:8, None]})
    assert np.abs(sum(runs) / len(runs) - digits._classify_numpy(x[:8])).max() < 1e-4


# --- Tesseract ---------------------------------------------------------------------------------------------

def _printed(lines: list[str], scale: float = 1.0, font: int = cv2.FONT_HERSHEY_SIMPLEX, line_px: int = 60,
             shrink: float = 1.0) -> np.ndarray:
    width = max(cv2.getTextSize(t, font, scale, 2)[0][0] for t in lines) + 60
    image = np.full((line_px * len(lines) + 40, width), 255, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(image, text, (30, 20 + line_px * (i + 1) - line_px // 4), font, scale, 20, 2, cv2.LINE_AA)
    return image if shrink == 1.0 else cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)


def _corpus() -> list[tuple[np.ndarray, dict]]:
    """Printed text as the scanner passes it: text areas (a block), single lines, and serial codes with
    the serial alphabet as whitelist, at the sizes identify.py reads them."""
    block, line = {"single_line": False}, {"single_line": True}
    serial = {"single_line": True, "whitelist": SERIAL_CHARS}
    return [
        (_printed(["walk to the shop"], 0.9), block),
        (_printed(["learn to cook", "call my sister every day"], 1.0), block),
        (_printed(["swim 20 lengths on Monday", "read 3 books"], 1.2, cv2.FONT_HERSHEY_DUPLEX), block),
        (_printed(["go to bed before eleven"], 0.8, cv2.FONT_HERSHEY_COMPLEX), block),
        (_printed(["take the bus to town"], 1.0), line),
        (_printed(["Tuesday and Thursday"], 1.1, cv2.FONT_HERSHEY_DUPLEX), line),
        (_printed(["DHJ9-CX4C"], 1.3), serial),
        (_printed(["69DP-CJUQ"], 1.3, shrink=0.6), serial),
        (_printed(["TEYH-XYU6"], 1.3, cv2.FONT_HERSHEY_DUPLEX), serial),
        (_printed(["P4HQ-KQCX"], 1.3, cv2.FONT_HERSHEY_DUPLEX, shrink=0.6), serial),
    ]


def _library(image: np.ndarray, single_line: bool = False, whitelist: str | None = None) -> ocr.OcrText:
    tsv = libtesseract.image_to_tsv(image, "eng", 7 if single_line else 6, whitelist)
    assert tsv is not None
    return ocr._words(tsv)


def _program(image: np.ndarray, single_line: bool = False, whitelist: str | None = None) -> ocr.OcrText:
    return ocr._words(tesseract.image_to_tsv(image, "eng", 7 if single_line else 6, whitelist))


@needs_library
def test_tesseract_in_process_reads_words_with_confidences():
    found = ocr.read_text(_printed(["walk to the shop"]))
    assert found.text == "walk to the shop"
    assert [w for w, _ in found.words] == ["walk", "to", "the", "shop"]
    assert all(0.8 < c <= 1 for _, c in found.words)
    two = ocr.read_text(_printed(["learn to cook", "every day"]))
    assert two.text == "learn to cook\nevery day"
    code = ocr.read_text(_printed(["DHJ9-CX4C"], 1.3), single_line=True, whitelist=SERIAL_CHARS)
    assert code.text == "DHJ9-CX4C"
    assert ocr.read_text(np.full((80, 300), 255, np.uint8)) == ocr.OcrText("", ())


@needs_library
@needs_program
def test_tesseract_in_process_reads_as_the_program_does():
    """The same words and confidences as the tesseract program (pytesseract) for the same libtesseract
    version (checked with tesserocr built against Debian's libtesseract 5.3.0). Across minor versions (the
    tesserocr wheel bundles libtesseract 5.5) the LSTM's scores move: the text must still agree, and, in
    text areas and lines (whose confidences decide what is reported as unsure), the confidence of each
    word that either is fairly sure of (0.5 and up) within 0.1. A printed serial's confidence is never
    read (identify.py checks its text against the serial's check character) and may move more: 0.59
    against 0.75 for "DHJ9-CX4C" as OpenCV 5.1 draws it (2026-12-02)."""
    library, program = libtesseract.library_version(), tesseract.version()
    if library.split(".")[0] != program.split(".")[0]:
        pytest.skip(f"libtesseract {library} and tesseract {program} are different major versions")
    for image, settings in _corpus():
        ours, theirs = _library(image, **settings), _program(image, **settings)
        if library == program:
            assert ours == theirs, settings
            continue
        assert ours.text == theirs.text, settings
        if settings.get("whitelist"):
            continue  # a serial code: its text is all that is used
        for (word, a), (_, b) in zip(ours.words, theirs.words, strict=True):
            assert max(a, b) < 0.5 or abs(a - b) <= 0.1, (word, a, b)


@needs_program
def test_words_are_read_from_the_tsv_as_pytesseract_reads_them():
    """``ocr._words`` gives what read_text made of pytesseract's dictionary before: confidences in whole
    percent, empty words dropped, lines by block, paragraph and line."""
    from pytesseract.pytesseract import file_to_dict

    for image, settings in _corpus()[:6]:
        tsv = tesseract.image_to_tsv(image, "eng", 7 if settings["single_line"] else 6, None)
        data = file_to_dict(tsv, "\t", -1)
        words, lines = [], {}
        for text, conf, *line in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                     data["line_num"], strict=True):
            if text.strip():
                words.append((text.strip(), max(0.0, float(conf)) / 100))
                lines.setdefault(tuple(line), []).append(text.strip())
        assert ocr._words(tsv) == ocr.OcrText("\n".join(" ".join(w) for w in lines.values()), tuple(words))


@needs_library
def test_engine_is_made_once_per_settings_and_results_do_not_depend_on_what_came_before():
    a, b = _printed(["walk to the shop"]), _printed(["call my sister"], 1.2)
    first = ocr.read_text(a)
    engine = libtesseract._engine(("eng", 6, None))
    ocr.read_text(b)
    ocr.read_text(b, single_line=True)
    ocr.read_text(b, single_line=True, whitelist=SERIAL_CHARS)
    assert ocr.read_text(a) == first
    assert libtesseract._engine(("eng", 6, None)) is engine
    assert libtesseract._engine(("eng", 7, None)) is not engine


def _read_in_child(image: np.ndarray, parents: list[int]) -> tuple[str, bool, int]:
    text = ocr.read_text(image).text
    own = [id(e.api) for e in libtesseract._engines.values()]
    return text, not set(own) & set(parents), len(own)


@needs_library
@pytest.mark.skipif(sys.platform == "win32", reason="no fork")
def test_a_forked_worker_makes_its_own_engine():
    image = _printed(["walk to the shop"])
    assert ocr.read_text(image).text == "walk to the shop"  # the parent has an engine
    parents = [id(e.api) for e in libtesseract._engines.values() if e]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        text, own, engines = pool.apply(_read_in_child, (image, parents))
    assert text == "walk to the shop" and own and engines == 1


@needs_library
def test_tessdata_is_found_from_tessdata_prefix(tmp_path, monkeypatch):
    found = libtesseract.tessdata_for("eng")
    assert (found / "eng.traineddata").is_file()
    (tmp_path / "eng.traineddata").symlink_to(found / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert libtesseract.tessdata_for("eng") == tmp_path
    assert libtesseract.tessdata_for("eng+xyz") is None


@needs_program
def test_the_program_reads_when_the_library_cannot(monkeypatch):
    monkeypatch.setattr(libtesseract, "_tesserocr", lambda: None)
    monkeypatch.setattr(libtesseract, "_engines", libtesseract.OrderedDict())
    found = ocr.read_text(_printed(["walk to the shop"]))
    assert found.text == "walk to the shop" and all(0 <= c <= 1 for _, c in found.words)
    assert not any(libtesseract._engines.values())


@needs_program
def test_a_language_without_data_is_unavailable():
    with pytest.raises(ocr.OcrUnavailable, match="xyz"):
        ocr.read_text(_printed(["walk to the shop"]), language="xyz")


# --- threads -----------------------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads through /proc")
def test_recognisers_start_no_threads_with_one_compute_thread_per_process():
    """As a batch worker runs them: cv2.setNumThreads(1), BLAS limited by the environment. Neither the
    digit networks nor Tesseract (in the process, or the program) leaves a thread behind."""
    script = textwrap.dedent("""
        import cv2, numpy as np
        cv2.setNumThreads(1)
        from scanner import digits, ocr
        def threads():
            return int(open("/proc/self/status").read().split("Threads:")[1].split()[0])
        before = threads()
        digits.classify(np.random.default_rng(0).random((64, 28, 28), dtype=np.float32))
        image = np.full((100, 500), 255, np.uint8)
        cv2.putText(image, "walk to the shop", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        try:
            ocr.read_text(image)
        except ocr.OcrUnavailable:
            pass
        print(before, threads())
    """)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("OMP_THREAD_LIMIT", None)  # scanner._exec.libtesseract sets it before loading the library
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, check=True)
    before, after = map(int, done.stdout.split())
    assert before == after == 1, done.stdout
