"""Scans made from the corpus: text-layer PDF pages rendered to images, then degraded like paper.

Why generated: the shared folder has scans of two reports only; rendering every
other corpus PDF (and variant) to images gives scans of reports the OCR was not
developed on, with gold. The degradations are the ones portals show: a page
turned a little on the scanner, speckle noise, heavy JPEG, and the photo of a
page (perspective, uneven light, a phone's JPEG). Needs the [ocr] extra.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image


@dataclass(frozen=True, slots=True)
class Degradation:
    """How a rendered page is spoiled; the defaults leave it clean."""

    name: str = "clean"
    angle: float = 0.0  # degrees the page is turned
    noise: float = 0.0  # standard deviation of grey-level noise
    speckle: float = 0.0  # share of pixels flipped to black or white
    jpeg_quality: int = 85
    photo: bool = False  # perspective + uneven light, as a phone photo of a printed page


CLEAN = Degradation()
BAD = Degradation("bad", angle=0.9, noise=12.0, speckle=0.002, jpeg_quality=45)
BAD_LEFT = Degradation("bad-left", angle=-1.2, noise=8.0, speckle=0.001, jpeg_quality=50)
PHOTO = Degradation("photo", angle=1.5, noise=6.0, jpeg_quality=70, photo=True)


def render(pdf_bytes: bytes, pages: list[int] | None = None, dpi: int = 200) -> list[np.ndarray]:
    """Grey images of the given 0-based pages (all by default)."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        idx = range(len(doc)) if pages is None else pages
        return [doc[i].render(scale=dpi / 72, grayscale=True).to_numpy().copy() for i in idx]
    finally:
        doc.close()


def degrade(gray: np.ndarray, how: Degradation, seed: int = 0) -> np.ndarray:
    """`gray` spoiled as `how` says (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    img = gray.astype(np.float32)
    h, w = img.shape
    if how.photo:
        d = 0.03 * min(h, w)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[d, d * 0.5], [w - d * 0.3, 0], [w, h - d * 0.2], [d * 0.4, h - d]])
        img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=200)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        light = 0.75 + 0.25 * (xx / w) * (1 - 0.5 * yy / h)  # a lamp to one side
        img = img * light + 15
    if how.angle:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), how.angle, 1.0)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if how.noise:
        img = img + rng.normal(0.0, how.noise, img.shape)
    if how.speckle:
        flips = rng.random(img.shape)
        img[flips < how.speckle / 2] = 0
        img[flips > 1 - how.speckle / 2] = 255
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, how.jpeg_quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def to_pdf(images: list[np.ndarray], dpi: int = 200, jpeg_quality: int = 85) -> bytes:
    """An image-only PDF, one JPEG page per image (as a scanner writes it)."""
    pages = [Image.fromarray(im) for im in images]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=float(dpi), quality=jpeg_quality)
    return out.getvalue()


def to_jpeg(image: np.ndarray, quality: int = 70, dpi: int | None = None) -> bytes:
    """One image as JPEG bytes (a photo as a phone saves it: no resolution declared by default)."""
    out = io.BytesIO()
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(image).save(out, format="JPEG", quality=quality, **kw)
    return out.getvalue()


def table_pages(pdf_bytes: bytes) -> list[int]:
    """0-based pages of a text-layer PDF on which the reader finds a table."""
    from extractors.readers import ReadOptions, pdf

    doc = pdf.read(pdf_bytes, ReadOptions())
    return sorted({c.source.page - 1 for t in doc.tables for r in t.rows for c in r if c.source.page})
