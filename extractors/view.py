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
    # per table block (document order), per row: its non-blank cells' words joined by one space
    # (what `Table.text()` joins into a row's line; the section splitter reads rows from it)
    table_cells: tuple[tuple[tuple[str, ...], ...], ...]


def _text_lines(doc: Document) -> tuple[str, ...]:
    out: list[str] = []
    for b in doc.blocks:
        texts = [b.text] if isinstance(b, Paragraph) else [c.text for row in b.rows for c in row]
        out.extend(t.strip() for x in texts for t in x.split("\n") if t.strip())
    return tuple(out)


def _add_text_lines(out: list[str], text: str) -> None:
    """`text`'s non-blank lines, stripped, onto `out` (`_text_lines` for one paragraph or cell)."""
    if "\n" not in text:
        t = text.strip()
        if t:
            out.append(t)
        return
    for x in text.split("\n"):
        t = x.strip()
        if t:
            out.append(t)


def prepare(doc: Document) -> DocumentView:
    """The view of `doc` (linear in its size).

    The text is converted (Simplified, NFKC) once, as a whole, and cut back into its lines: no
    conversion rule reaches across a line break (no Traditional→Simplified key or value holds
    one, and a line break is a starter that nothing composes with), so each line of the whole's
    conversion is the conversion of that line. The paragraphs' keys are those lines squashed,
    not a second conversion of the same text.
    """
    lines: list[str] = []
    starts: list[int] = []  # per paragraph, the index of its first segment of the text cut at its line breaks
    segment = 0  # segments of the lines so far (a table row is one; a paragraph one more per break it holds)
    table_cells: list[tuple[tuple[str, ...], ...]] = []
    text_lines: list[str] = []  # `_text_lines(doc)`, in the same pass
    for b in doc.blocks:  # `Document.iter_lines()`, noting where each paragraph starts
        if isinstance(b, Paragraph):
            t = b.text
            starts.append(segment)
            lines.append(t)
            _add_text_lines(text_lines, t)
            segment += t.count("\n") + 1
        else:
            rows = []
            for r in b.rows:
                cells = []
                for c in r:
                    words = c.text.split()
                    if not words:  # a blank cell has no words and no non-blank line
                        continue
                    if len(words) == 1:  # one word: it is the cell stripped, and its one non-blank line
                        cells.append(words[0])
                        text_lines.append(words[0])
                        continue
                    t = c.text
                    cells.append(" ".join(words))
                    if "\n" in t:
                        _add_text_lines(text_lines, t)
                    else:
                        text_lines.append(t.strip())
                rows.append(tuple(cells))
            table_cells.append(tuple(rows))
            row_lines = [" ".join(r) for r in rows if r] or [""]  # `Table.text().split("\n")`: no breaks
            lines.extend(row_lines)
            segment += len(row_lines)
    text = "\n".join(lines)
    folded = nfkc(to_simplified(text))
    paragraphs = doc.paragraphs
    if folded.count("\n") != text.count("\n"):  # pragma: no cover - a conversion that moved a line break
        return _prepare_by_paragraph(doc, tuple(lines), text)
    segments = folded.split("\n")
    pkeys: list[str] = []
    plines: list[tuple[str, ...]] = []
    for p, at in zip(paragraphs, starts):
        if "\n" not in p.text:
            k = squash(segments[at])
            pkeys.append(k)
            plines.append((k,) if p.text.strip() else ())
        else:
            printed = p.text.split("\n")
            keys = [squash(x) for x in segments[at: at + len(printed)]]
            pkeys.append("".join(keys))
            plines.append(tuple(k for k, t in zip(keys, printed) if t.strip()))
    return DocumentView(
        lines=tuple(lines),
        text=text,
        key_text=squash(folded),
        paragraphs=paragraphs,
        paragraph_keys=tuple(pkeys),
        paragraph_line_keys=tuple(plines),
        text_lines=tuple(text_lines),
        table_cells=tuple(table_cells),
    )


def _prepare_by_paragraph(doc: Document, lines: tuple[str, ...], text: str) -> DocumentView:  # pragma: no cover
    """The view with every paragraph converted on its own (the definition `prepare` shortcuts)."""
    pkeys: list[str] = []
    plines: list[tuple[str, ...]] = []
    for p in doc.paragraphs:
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
        paragraphs=doc.paragraphs,
        paragraph_keys=tuple(pkeys),
        paragraph_line_keys=tuple(plines),
        text_lines=_text_lines(doc),
        table_cells=_table_cells(doc),
    )


def _table_cells(doc: Document) -> tuple[tuple[tuple[str, ...], ...], ...]:
    return tuple(
        tuple(tuple(" ".join(c.text.split()) for c in r if c.text.strip()) for r in b.rows)
        for b in doc.blocks if not isinstance(b, Paragraph)
    )
