"""Saved web page (`.mht`/`.mhtml`, MIME multipart/related) reader: unpack the HTML part, then the HTML reader.

A browser or Word "single file web page" is a MIME message whose root part is
the HTML, quoted-printable or base64 encoded, in its own charset. The standard
library's `email` parser undoes the transfer encoding; the part's declared
charset (else the page's own `<meta charset>`) decodes it, and the HTML reader
does the rest, so tables and text come out exactly as for an `.html` page.
"""
from __future__ import annotations

import codecs
import dataclasses
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

from ..errors import CorruptFileError, ResourceLimitError
from ..model import Document
from . import html
from .options import ReadOptions


@dataclass(frozen=True, slots=True)
class MhtSettings:
    """Bounds of the MHT reader."""

    max_parts: int = 5000  # a saved page with its images and styles; more is hostile
    max_multipart_headers: int = 64  # saved pages nest one or two multiparts; the parser recurses per level


SETTINGS = MhtSettings()
_MULTIPART = re.compile(rb"content-type:\s*multipart/", re.IGNORECASE)


def _html_part(msg: Message, settings: MhtSettings) -> Message | None:
    """The root HTML part: the multipart/related `start` part when named, else the first text/html."""
    start = (msg.get_param("start") or "") if msg.is_multipart() else ""
    start = str(start).strip("<>")
    first: Message | None = None
    for n, part in enumerate(msg.walk()):
        if n > settings.max_parts:
            raise ResourceLimitError(f"The saved web page has more than {settings.max_parts} parts.")
        if part.is_multipart() or part.get_content_type() != "text/html":
            continue
        if start and str(part.get("Content-ID", "")).strip("<>") == start:
            return part
        first = first or part
    return first


def read(data: bytes, options: ReadOptions, settings: MhtSettings = SETTINGS) -> Document:
    """Read the HTML page inside a MIME-encoded saved web page."""
    if len(data) > options.max_text_chars * 4:
        raise ResourceLimitError("The saved web page is larger than the text limit.")
    nested = len(_MULTIPART.findall(data))
    if nested > settings.max_multipart_headers:
        raise ResourceLimitError(
            f"The saved web page declares {nested} multipart containers (limit {settings.max_multipart_headers})."
        )
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        part = _html_part(msg, settings)
        if part is None:
            raise CorruptFileError("The MIME file holds no HTML part.")
        payload = part.get_payload(decode=True)
    except (CorruptFileError, ResourceLimitError):
        raise
    except RecursionError as e:  # a nesting the header count did not see (folded headers)
        raise ResourceLimitError("The saved web page nests its parts too deeply.") from e
    except (ValueError, TypeError, LookupError, IndexError, AttributeError) as e:
        raise CorruptFileError("The MIME structure of the saved web page is damaged.") from e
    if not isinstance(payload, bytes) or not payload.strip():
        raise CorruptFileError("The HTML part of the saved web page is empty.")
    charset = part.get_content_charset()
    if charset in ("gb2312", "gbk", "cp936", "x-gbk", "euc-cn"):
        charset = "gb18030"  # portals label GBK text gb2312; gb18030 is the superset that reads both
    if charset:
        try:
            codecs.lookup(charset)
            if getattr(codecs.lookup(charset), "_is_text_encoding", True):
                # the part's charset wins over the page's meta; a BOM tells the HTML reader so
                payload = b"\xef\xbb\xbf" + payload.decode(charset, errors="replace").encode("utf-8")
        except LookupError:
            pass
    doc = html.read(payload, options)
    return dataclasses.replace(doc, format="mht")
