"""The prepared view of a document: its text and matching keys, made once and read by every later stage.

Before this module each stage (template, gate, narrative, metadata) rebuilt the
document's text and ran the same normalisation (Traditional → Simplified, NFKC,
whitespace squashed) over the same lines for itself. `prepare` does it once per
document, right after the reader; the stages take the view and fall back to
preparing one when called on a bare document (tests, callers of one stage).

The view holds derived data only, never a decision: every field is a pure
function of the document, so a stage reading it computes exactly what it did
when it normalised on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Document, Paragraph
from .normalize import nfkc, squash, to_simplified


def key(text: str) -> str:
    """The matching key of running text: Simplified, NFKC-folded, every whitespace removed."""
    return squash(nfkc(to_simplified(text)))


@dataclass(frozen=True, slots=True)
class DocumentView:
    """What the stages after the reader read of a document, normalised once."""

    lines: tuple[str, ...]  # `Document.iter_lines()`: paragraphs as they are, a table one line per row
    text: str  # `Document.text()`: the lines joined by "\n"
    key_text: str  # key(text): the whole document as matching sees it
    paragraphs: tuple[Paragraph, ...]  # `Document.paragraphs`
    paragraph_keys: tuple[str, ...]  # key(p.text) for each paragraph
    paragraph_line_keys: tuple[tuple[str, ...], ...]  # per paragraph, key of each of its non-blank lines
    text_lines: tuple[str, ...]  # every non-blank line stripped, tables cell by cell (metadata's reading order)


def _text_lines(doc: Document) -> tuple[str, ...]:
    out: list[str] = []
    for b in doc.blocks:
        texts = [b.text] if isinstance(b, Paragraph) else [c.text for row in b.rows for c in row]
        out.extend(t.strip() for x in texts for t in x.split("\n") if t.strip())
    return tuple(out)


def prepare(doc: Document) -> DocumentView:
    """The view of `doc` (linear in its size)."""
    lines = tuple(doc.iter_lines())
    text = "\n".join(lines)
    paragraphs = doc.paragraphs
    pkeys: list[str] = []
    plines: list[tuple[str, ...]] = []
    for p in paragraphs:
        k = key(p.text)
        pkeys.append(k)
        if "\n" in p.text:
            plines.append(tuple(key(t) for t in p.text.split("\n") if t.strip()))
        else:
            plines.append((k,) if p.text.strip() else ())
    return DocumentView(
        lines=lines,
        text=text,
        key_text=key(text),
        paragraphs=paragraphs,
        paragraph_keys=tuple(pkeys),
        paragraph_line_keys=tuple(plines),
        text_lines=_text_lines(doc),
    )
