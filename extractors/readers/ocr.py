"""OCR of one page image: deskew, ruling lines, per-character boxes, then the PDF reader's layout.

Why this shape: a scanned statistics table is the same lattice as a drawn one, so
the page is turned into what the PDF reader already understands — characters with
boxes (`pdf_geometry.Char`, here `OcrChar` with the recogniser's score) and ruling
lines (`pdf_tables.Rule`) in PDF points — and the same table reconstruction
(`find_tables`, `group_lines`) does the rest. Cells, spans, blank cells and
provenance therefore behave exactly as for a text-layer PDF.

The recogniser is rapidocr 3.x on onnxruntime (PP-OCR models ship inside the
wheel: no download at run time), with the text-orientation classifier off (it
flips 6↔9 on table digits). It lives behind the `[ocr]` install extra: without
it `available()` is False and callers raise the precise `OcrUnavailableError`.

Deskew: the page's angle is the one whose horizontal projection profile is
sharpest (text lines and rules become thin dark bands), searched on a small copy
of the page, so a 0.5–1.2° turned scan lines up before anything is grouped.
Ruling lines: long thin horizontal/vertical runs of dark pixels (morphological
opening); a vertical run counts only where it meets at least two horizontal
rules (a table cut by the page end has no bottom rule), so the strokes of a
character never become a border.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import OcrUnavailableError
from .options import ReadOptions
from .pdf_geometry import Char, PdfSettings, group_lines
from .pdf_tables import RawCell, RawTable, Rule, find_tables, find_unruled_tables
from .pdf_text import PageContent

if TYPE_CHECKING:  # numpy comes with the [ocr] extra
    import numpy as np

EXTRA = "ocr"
INSTALL_HINT = "pip install 'govreport-extract[ocr]'"


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """Tuning knobs of OCR (pixel sizes are in inches so they hold at any resolution)."""

    dpi: int = 150  # render resolution of image-only PDF pages (150 keeps 200's accuracy, see README)
    threads: int = 1  # onnxruntime threads per recognition; the worker pool already uses every core
    max_pixels: int = 12_000_000  # larger images (photos) are scaled down to this many pixels first
    image_dpi: float = 150.0  # resolution assumed for an image file that declares none
    max_skew_degrees: float = 3.0  # deskew searches this far either way
    skew_step_degrees: float = 0.1
    deskew_min_degrees: float = 0.15  # a smaller angle is left alone (rotation blurs the page)
    min_rule_inches: float = 0.25  # shortest horizontal ruling line
    min_vrule_inches: float = 0.15  # shortest vertical ruling piece (one table row is taller)
    rule_reach_inches: float = 0.04  # a vertical piece meets a horizontal rule this close to it
    max_rule_inches: float = 0.03  # thicker dark runs are blots or filled boxes, not rules
    min_score: float = 0.5  # recognised text boxes below this score are noise
    sliver_inches: float = 0.12  # an empty grid row/column this thin is a border seen twice (a photo's slant)


DEFAULT_SETTINGS = OcrSettings()


class OcrChar(Char):
    """A recognised character: a `Char` plus the recogniser's score for it (0–1)."""

    __slots__ = ("score",)

    def __init__(self, text: str, x0: float, top: float, x1: float, bottom: float, score: float) -> None:
        super().__init__(text, x0, top, x1, bottom)
        self.score = score


def available() -> bool:
    """Whether the `[ocr]` extra is installed (rapidocr, onnxruntime, OpenCV, numpy)."""
    try:
        _modules()
    except OcrUnavailableError:
        return False
    return True


def require() -> None:
    """Raise `OcrUnavailableError` (naming the extra) unless OCR is installed."""
    _modules()


def settings_for(options: ReadOptions, base: OcrSettings = DEFAULT_SETTINGS) -> OcrSettings:
    """The OCR settings with the caller's limits applied (threads come from the read options)."""
    return replace(base, threads=max(1, options.ocr_threads))


def _import() -> tuple[Any, Any, Any]:
    import cv2
    import numpy
    from rapidocr import RapidOCR

    return cv2, numpy, RapidOCR


def _modules() -> tuple[Any, Any, Any]:
    try:
        return _import()
    except ImportError as e:  # the extra is not installed (or broken): say which extra reads scans
        raise OcrUnavailableError(
            f"The file needs OCR (scanned pages or an image), which is not installed: {INSTALL_HINT}.",
            extra=EXTRA,
        ) from e


@dataclass(slots=True)
class OcrUsage:
    """What OCR cost this process so far (the service reads it around each job for its metrics)."""

    pages: int = 0
    seconds: float = 0.0  # wall time inside `read_page_image`, summed over pages (parallel pages add up)
    cpu_seconds: float = 0.0  # CPU time of this process inside it (all threads)


USAGE = OcrUsage()

_IDLE: dict[int, list[Any]] = {}  # thread count -> recognisers not in use
_ENGINE_LOCK = threading.Lock()


@contextmanager
def _engine(settings: OcrSettings) -> Iterator[Any]:
    """A recogniser for one page: reused across pages and calls (loading the models costs ~0.5 s).

    One instance serves one page at a time, so pages OCR'd in parallel threads
    each get their own; the pool only grows to the number of parallel pages.
    """
    with _ENGINE_LOCK:
        idle = _IDLE.setdefault(settings.threads, [])
        eng = idle.pop() if idle else None
    if eng is None:
        _, _, RapidOCR = _modules()
        eng = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": settings.threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    try:
        yield eng
    finally:
        with _ENGINE_LOCK:
            _IDLE[settings.threads].append(eng)


# --------------------------------------------------------------------------- image geometry


def deskew(gray: np.ndarray, settings: OcrSettings = DEFAULT_SETTINGS) -> tuple[np.ndarray, float]:
    """The page turned upright and the angle (degrees) it was turned by."""
    cv2, np, _ = _modules()
    h, w = gray.shape
    scale = min(1.0, 800.0 / max(h, w))
    small = cv2.resize(gray, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    if not ink.any():
        return gray, 0.0
    sh, sw = ink.shape
    centre = (sw / 2, sh / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rot = cv2.warpAffine(ink, m, (sw, sh), flags=cv2.INTER_NEAREST, borderValue=0)
        profile = rot.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(profile)).sum())

    step = settings.skew_step_degrees
    coarse = np.arange(-settings.max_skew_degrees, settings.max_skew_degrees + 1e-9, step * 5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - step * 5, best + step * 5 + 1e-9, step)
    best = float(max(fine, key=sharpness))
    if abs(best) < settings.deskew_min_degrees:
        return gray, 0.0
    m = cv2.getRotationMatrix2D((w / 2, h / 2), best, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), best


def find_rules(gray: np.ndarray, dpi: float, settings: OcrSettings = DEFAULT_SETTINGS) -> tuple[list[Rule], list[Rule]]:
    """Horizontal (y, x0, x1) and vertical (x, top, bottom) ruling lines, in PDF points."""
    cv2, np, _ = _modules()
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    hlen = max(int(settings.min_rule_inches * dpi), 8)
    vlen = max(int(settings.min_vrule_inches * dpi), 6)
    # a rule may be broken by a pixel or two of noise: close tiny gaps along it first
    horiz_mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hlen, 1)))
    horiz_mask = cv2.morphologyEx(horiz_mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    vert_mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vlen)))
    vert_mask = cv2.morphologyEx(vert_mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 9)))
    pt = 72.0 / dpi
    thick = settings.max_rule_inches * dpi
    horiz: list[Rule] = []
    for x, y, w, h, area in _boxes(cv2, horiz_mask):
        if area / w <= thick:  # mean thickness: a glyph stroke touching the rule widens its box, not the rule
            horiz.append(((y + h / 2) * pt, x * pt, (x + w) * pt))
    reach = settings.rule_reach_inches * 72.0
    vert: list[Rule] = []
    for x, y, w, h, area in _boxes(cv2, vert_mask):
        if area / h > thick:
            continue
        cx, top, bottom = (x + w / 2) * pt, y * pt, (y + h) * pt
        crossed = sum(
            1 for hy, hx0, hx1 in horiz if hx0 - reach <= cx <= hx1 + reach and top - reach <= hy <= bottom + reach
        )
        if crossed >= 2:  # a cell border runs from one horizontal rule to (or past) another; a glyph stroke does not
            vert.append((cx, top, bottom))
    return horiz, vert


def _boxes(cv2: Any, mask: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """x, y, width, height and pixel count of every connected run in a rule mask."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [tuple(int(v) for v in stats[i, :5]) for i in range(1, n)]  # type: ignore[misc]


def drop_slivers(t: RawTable, max_size: float) -> None:
    """Remove empty grid columns and rows thinner than `max_size` points, in place.

    In a photo the page is not flat: one border drawn slanted shows as two grid
    lines a few points apart, and the thin strip between them would become an
    empty last column (the value column, to every later stage) or an empty row.
    """
    for axis in ("col", "row"):
        k = 0
        while k < (t.n_cols if axis == "col" else t.n_rows):
            alone = [c for c in t.cells if _span(c, axis) == (k, k + 1)]
            sizes = [(c.x1 - c.x0) if axis == "col" else (c.bottom - c.top) for c in alone]
            if alone and all(not c.text.strip() for c in alone) and max(sizes) < max_size:
                _remove(t, axis, k)
            else:
                k += 1


def _span(c: RawCell, axis: str) -> tuple[int, int]:
    return (c.c0, c.c1) if axis == "col" else (c.r0, c.r1)


def _remove(t: RawTable, axis: str, k: int) -> None:
    kept = []
    for c in t.cells:
        lo, hi = _span(c, axis)
        if (lo, hi) == (k, k + 1):
            continue  # the empty sliver cell itself
        lo, hi = (lo - (lo > k), hi - (hi > k))
        if axis == "col":
            c.c0, c.c1 = lo, max(hi, lo + 1)
        else:
            c.r0, c.r1 = lo, max(hi, lo + 1)
        kept.append(c)
    t.cells = kept
    if axis == "col":
        t.n_cols -= 1
    else:
        t.n_rows -= 1


# --------------------------------------------------------------------------- recognition


def recognise(gray: np.ndarray, dpi: float, settings: OcrSettings = DEFAULT_SETTINGS) -> list[OcrChar]:
    """Every recognised character with its own box (PDF points) and score."""
    with _engine(settings) as engine:
        result = engine(gray, use_cls=False, return_word_box=True, return_single_char_box=True)
    if result.txts is None or not result.txts:
        return []
    pt = 72.0 / dpi
    out: list[OcrChar] = []
    words = result.word_results or [()] * len(result.txts)
    for box, text, score, word in zip(result.boxes, result.txts, result.scores, words):
        if score < settings.min_score:
            continue
        pieces = [(t, s, q) for t, s, q in word if t and t.strip()] if word else []
        if not pieces:  # no per-character split: share the line box out evenly
            pieces = _even_split(text, float(score), box)
        for t, s, q in pieces:
            xs = [p[0] for p in q]
            ys = [p[1] for p in q]
            x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
            t = t.strip()
            if len(t) > 1:  # a Latin word or number as one piece: one box per character
                w = (x1 - x0) / len(t)
                for k, ch in enumerate(t):
                    out.append(OcrChar(ch, (x0 + k * w) * pt, top * pt, (x0 + (k + 1) * w) * pt, bottom * pt, float(s)))
            else:
                out.append(OcrChar(t, x0 * pt, top * pt, x1 * pt, bottom * pt, float(s)))
    return out


def _even_split(text: str, score: float, box: Any) -> list[tuple[str, float, list[list[float]]]]:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return []
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
    w = (x1 - x0) / len(chars)
    return [(c, score, [[x0 + k * w, top], [x0 + (k + 1) * w, bottom]]) for k, c in enumerate(chars)]


def read_page_image(
    gray: np.ndarray,
    page_no: int,
    dpi: float,
    pdf_settings: PdfSettings,
    settings: OcrSettings = DEFAULT_SETTINGS,
) -> PageContent:
    """One page image (8-bit grey) laid out into lines and ruled tables, as a text-layer page would be."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        return _read_page_image(gray, page_no, dpi, pdf_settings, settings)
    finally:
        with _ENGINE_LOCK:
            USAGE.pages += 1
            USAGE.seconds += time.perf_counter() - t0
            USAGE.cpu_seconds += time.process_time() - c0


def _read_page_image(
    gray: np.ndarray, page_no: int, dpi: float, pdf_settings: PdfSettings, settings: OcrSettings
) -> PageContent:
    upright, _ = deskew(gray, settings)
    horiz, vert = find_rules(upright, dpi, settings)
    chars: list[Char] = list(recognise(upright, dpi, settings))
    tables, rest = find_tables(chars, horiz, vert, page_no, pdf_settings)
    sliver = settings.sliver_inches * 72.0
    for t in tables:
        drop_slivers(t, sliver)
    lines = group_lines(rest, pdf_settings)
    if pdf_settings.unruled_tables:
        unruled, lines = find_unruled_tables(lines, page_no, pdf_settings)
        tables.extend(unruled)
    height = gray.shape[0] * 72.0 / dpi
    return PageContent(number=page_no, height=height, lines=lines, tables=tables)
