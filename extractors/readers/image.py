"""Image reader: a photo or scan of a report page (JPEG, PNG, TIFF, BMP, WEBP) read by OCR.

Each image (each frame of a multi-page TIFF) is one page. The camera's EXIF
orientation is applied first (a phone photo is stored sideways), colour is
dropped, and a photo larger than `OcrSettings.max_pixels` is scaled down: the
recogniser gains nothing from more pixels and the cost grows with them. Pages
then go through the same OCR page reader as scanned PDF pages (`ocr`), so tables
come out as for any other format. Coordinates in `Source.bbox` are points at the
image's declared resolution (or `OcrSettings.image_dpi` when it declares none).
"""
from __future__ import annotations

import io
import warnings

from ..errors import CorruptFileError, ResourceLimitError, TooManyPagesError
from ..model import Document
from . import ocr
from .options import ReadOptions
from .pdf_geometry import PdfSettings
from .pdf_text import assemble

DEFAULT_PDF_SETTINGS = PdfSettings()
# magic numbers of the image formats read here (sniff uses the same table)
MAGIC: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")
_BMP_INFO_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def is_image(data: bytes) -> bool:
    """Whether `data` starts like an image this reader reads.

    BMP's two-letter magic is checked with its header (reserved zeros, a known
    info-header size), so a text starting with "BM" stays text.
    """
    if data.startswith(MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return True
    return (
        data[:2] == b"BM"
        and len(data) >= 18
        and data[6:10] == b"\0\0\0\0"
        and int.from_bytes(data[14:18], "little") in _BMP_INFO_SIZES
    )


def read(data: bytes, options: ReadOptions) -> Document:
    """OCR every page of the image into paragraphs and tables."""
    ocr.require()
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    settings = ocr.settings_for(options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w0, h0 = img.size
            if img.format == "JPEG" and w0 * h0 > settings.max_pixels:  # decode a phone photo at reduced size
                f = (settings.max_pixels / (w0 * h0)) ** 0.5
                img.draft("L", (int(w0 * f) + 1, int(h0 * f) + 1))
            n_frames = getattr(img, "n_frames", 1)
            if n_frames > min(options.max_pages, options.max_ocr_pages):
                raise TooManyPagesError(
                    f"The image has {n_frames} pages; the OCR limit is {options.max_ocr_pages}.",
                    pages=n_frames,
                    max_pages=options.max_ocr_pages,
                )
            pages = []
            for k in range(n_frames):
                img.seek(k)
                frame = ImageOps.exif_transpose(img) if k == 0 else img
                dpi = _dpi(frame, settings.image_dpi)
                gray = frame.convert("L")
                w, h = gray.size
                if w * h > settings.max_pixels:
                    f = (settings.max_pixels / (w * h)) ** 0.5
                    gray = gray.resize((max(int(w * f), 1), max(int(h * f), 1)), Image.Resampling.LANCZOS)
                    dpi *= f
                pages.append(ocr.read_page_image(np.asarray(gray), k + 1, dpi, DEFAULT_PDF_SETTINGS, settings))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise ResourceLimitError("The image has more pixels than the safety limit.") from e
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as e:
        raise CorruptFileError("The image could not be decoded.") from e
    return Document(blocks=tuple(assemble(pages, DEFAULT_PDF_SETTINGS)), format="image", pages=len(pages))


def _dpi(img: object, default: float) -> float:
    """The resolution the image declares (JPEG JFIF/EXIF, PNG pHYs, TIFF), within sane bounds."""
    dpi = getattr(img, "info", {}).get("dpi")
    try:
        x = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        x = 0.0
    return x if 50.0 <= x <= 1200.0 else default
