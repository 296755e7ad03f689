"""RTF reader: paragraphs and `\\trowd … \\cell … \\row` tables, merged cells resolved.

Why a small tokenizer of our own rather than a text-stripping library: the
strippers flatten tables into runs of words, losing which value sits in which
cell. RTF stores a table row the way Word's binary format does (cell right
edges `\\cellx`, vertical merges `\\clvmgf`/`\\clvmrg`), so rows go through the
same grid builder as the `.doc` reader.

Text: `\\uN` Unicode escapes (skipping their `\\ucN` fallback characters) and
`\\'hh` bytes in the code page of the current font (`\\fcharset134` is GBK) or
of the document (`\\ansicpg936`). Destinations a report does not print (font and
colour tables, pictures, headers, footers, `{\\*…}`) are skipped. Group depth is
bounded, so deep nesting is refused rather than followed.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ..errors import CorruptFileError, ResourceLimitError
from ..model import Document, Paragraph, Source, Table
from .doc import EdgeRow, build_table
from .options import ReadOptions


@dataclass(frozen=True, slots=True)
class RtfSettings:
    """Bounds and knobs of the RTF reader."""

    max_group_depth: int = 500  # real documents nest a few dozen groups; more is hostile
    column_edge_tolerance: float = 30.0  # twips: cell edges closer than this are one grid line
    max_cells_per_row: int = 512
    unwrap_single_cell_tables: bool = True


SETTINGS = RtfSettings()

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with optional numeric parameter
    rb"|\\'([0-9a-fA-F]{2})"  # hex byte
    rb"|\\([^a-zA-Z'])"  # control symbol
    rb"|([{}])"
    rb"|([^\\{}\r\n]+)"  # plain text
    rb"|[\r\n]+",
    re.DOTALL,
)
# destinations whose content is not printed body text
_SKIP_DEST = frozenset(
    b"fonttbl colortbl stylesheet info pict object header headerl headerr headerf footer footerl footerr "
    b"footerf footnote annotation xmlnstbl listtable listoverridetable rsidtbl generator themedata "
    b"colorschememapping latentstyles datastore filetbl revtbl userprops nonesttables shppict "
    b"fldinst bkmkstart bkmkend private mmathPr pgdsctbl".split()
)
_SYMBOLS = {
    b"emdash": "—", b"endash": "–", b"bullet": "•", b"lquote": "‘", b"rquote": "’",
    b"ldblquote": "“", b"rdblquote": "”", b"emspace": " ", b"enspace": " ", b"qmspace": " ",
    b"tab": " ", b"line": "\n", b"nestcell": "\n",
}
_CONTROL_SYMBOLS = {b"~": " ", b"_": "-", b"-": "", b"\\": "\\", b"{": "{", b"}": "}", b"\t": " "}
# \fcharset → code page
_CHARSETS = {0: "cp1252", 1: "cp1252", 77: "mac_roman", 128: "cp932", 129: "cp949", 134: "gbk",
             136: "big5", 161: "cp1253", 162: "cp1254", 177: "cp1255", 178: "cp1256", 186: "cp1257",
             204: "cp1251", 222: "cp874", 238: "cp1250"}


def _codec(name: str) -> str:
    try:
        codecs.lookup(name)
        return name
    except LookupError:
        return "cp1252"


@dataclass(slots=True)
class _State:
    skip: bool = False
    uc: int = 1
    font: int | None = None
    dest: bytes = b""


class _Reader:
    def __init__(self, settings: RtfSettings) -> None:
        self.settings = settings
        self.blocks: list[Paragraph | Table] = []
        self.text: list[str] = []
        self.bytes_buf = bytearray()
        self.doc_codepage = "cp1252"
        self.fonts: dict[int, str] = {}
        self.default_font: int | None = None
        self.title: list[str] = []
        # table state
        self.intbl = False
        self.rows: list[EdgeRow] = []
        self.cells: list[str] = []
        self.cell_lines: list[str] = []
        self.edges: list[float] = []
        self.vmerge: list[int] = []
        self.hmerge: list[bool] = []
        self.pending_v = 0
        self.pending_h = False
        self.font_in_table: int | None = None

    # text accumulation -------------------------------------------------------
    def codepage(self, st: _State) -> str:
        font = st.font if st.font is not None else self.default_font
        return self.fonts.get(font, self.doc_codepage) if font is not None else self.doc_codepage

    def flush_bytes(self, st: _State) -> None:
        if self.bytes_buf:
            self.emit(bytes(self.bytes_buf).decode(self.codepage(st), errors="replace"), st)
            self.bytes_buf.clear()

    def emit(self, s: str, st: _State) -> None:
        if st.dest == b"title":
            self.title.append(s)
        elif st.dest == b"fonttbl":
            pass
        elif not st.skip:
            self.text.append(s)

    def take_paragraph(self) -> str:
        s = "".join(self.text)
        self.text = []
        return s

    # structure ---------------------------------------------------------------
    def end_paragraph(self) -> None:
        para = self.take_paragraph()
        if self.intbl:
            self.cell_lines.append(para)
            return
        self.close_table()
        for line in para.split("\n"):
            line = line.strip()
            if line:
                self.blocks.append(Paragraph(line, Source(line=len(self.blocks))))

    def end_cell(self) -> None:
        self.cell_lines.append(self.take_paragraph())
        self.cells.append("\n".join(self.cell_lines).strip("\n"))
        self.cell_lines = []
        if len(self.cells) > self.settings.max_cells_per_row:
            raise ResourceLimitError("An RTF table row has more cells than the limit.")

    def end_row(self) -> None:
        if self.cell_lines or "".join(self.text).strip():
            self.end_cell()
        cells, edges, vm = self.cells, list(self.edges), list(self.vmerge)
        if any(self.hmerge):  # old-style horizontal merge: a \clmrg cell widens the one before it
            keep_c, keep_e, keep_v = [], [edges[0] if edges else 0.0], []
            for i, text in enumerate(cells):
                h = self.hmerge[i] if i < len(self.hmerge) else False
                right = edges[i + 1] if i + 1 < len(edges) else None
                if h and keep_c:
                    if text.strip():
                        keep_c[-1] += "\n" + text
                    if right is not None:
                        keep_e[-1] = right
                    continue
                keep_c.append(text)
                keep_v.append(vm[i] if i < len(vm) else 0)
                if right is not None:
                    keep_e.append(right)
            cells, edges, vm = keep_c, keep_e, keep_v
        self.rows.append(EdgeRow(cells, tuple(edges), tuple(vm)))
        self.cells, self.cell_lines = [], []

    def close_table(self) -> None:
        if self.cells or self.cell_lines:
            self.end_row()
        if not self.rows:
            return
        t = build_table(self.rows, sum(isinstance(b, Table) for b in self.blocks), self.settings.column_edge_tolerance)
        self.rows = []
        if self.settings.unwrap_single_cell_tables and t.n_rows == 1 and t.n_cols == 1:
            for line in t.rows[0][0].text.split("\n"):
                if line.strip():
                    self.blocks.append(Paragraph(line.strip(), Source(line=len(self.blocks))))
            return
        self.blocks.append(t)

    def control(self, word: bytes, param: int | None, st: _State) -> int:
        """Handle one control word; returns how many following characters to skip (\\u fallback)."""
        if word == b"u" and param is not None:
            self.flush_bytes(st)
            self.emit(chr(param + 65536 if param < 0 else param) if -32768 <= param <= 65535 else "", st)
            return st.uc
        self.flush_bytes(st)
        if word == b"title" and st.dest == b"info":
            st.dest = b"title"
            return 0
        if word in _SKIP_DEST:
            st.dest = word
            st.skip = True
            return 0
        if word in _SYMBOLS:
            self.emit(_SYMBOLS[word], st)
        elif word == b"uc" and param is not None:
            st.uc = max(0, min(param, 10))
        elif word == b"ansicpg" and param:
            self.doc_codepage = _codec(f"cp{param}")
        elif word == b"deff" and param is not None:
            self.default_font = param
        elif word == b"f" and param is not None:
            st.font = param
            if st.dest == b"fonttbl":
                self.fonts.setdefault(param, self.doc_codepage)
        elif word == b"fcharset" and param is not None and st.dest == b"fonttbl" and st.font is not None:
            if param in _CHARSETS:
                self.fonts[st.font] = _CHARSETS[param]
        elif word == b"cpg" and param and st.dest == b"fonttbl" and st.font is not None:
            self.fonts[st.font] = _codec(f"cp{param}")
        elif word in (b"par", b"sect", b"page") and not st.skip:
            self.end_paragraph()
        elif word == b"pard":
            self.intbl = False
        elif word == b"intbl":
            self.intbl = True
        elif word == b"cell" and not st.skip:
            self.end_cell()
        elif word == b"row" and not st.skip:
            self.end_row()
            self.intbl = False
        elif word == b"trowd":
            self.edges, self.vmerge, self.hmerge = [], [], []
            self.pending_v, self.pending_h = 0, False
        elif word == b"clvmgf":
            self.pending_v = 3
        elif word == b"clvmrg":
            self.pending_v = 1
        elif word == b"clmrg":
            self.pending_h = True
        elif word == b"cellx" and param is not None:
            if not self.edges:
                self.edges.append(0.0)
            self.edges.append(float(param))
            self.vmerge.append(self.pending_v)
            self.hmerge.append(self.pending_h)
            self.pending_v, self.pending_h = 0, False
        elif word == b"trleft" and param is not None and not self.edges:
            self.edges.append(float(param))
        return 0

    def run(self, data: bytes) -> None:
        stack: list[_State] = []
        st = _State()
        skip_chars = 0
        for m in _TOKEN.finditer(data):
            word, hexa, sym, brace, text = m.group(1), m.group(3), m.group(4), m.group(5), m.group(6)
            if skip_chars and brace is None:  # the \\uN fallback: hex, symbols, words and text chars count one
                if text is not None:
                    n = min(skip_chars, len(text))
                    text, skip_chars = text[n:], skip_chars - n
                    if not text:
                        continue
                elif word is not None or hexa is not None or sym is not None:
                    skip_chars -= 1
                    continue
                else:
                    continue
            if word is not None:
                param = int(m.group(2)) if m.group(2) else None
                skip_chars = self.control(word, param, st)
            elif hexa is not None:
                if not st.skip or st.dest == b"title":
                    self.bytes_buf.append(int(hexa, 16))
            elif sym is not None:
                if sym == b"*":
                    self.flush_bytes(st)
                    st.skip = True
                    st.dest = st.dest or b"*"
                elif sym in _CONTROL_SYMBOLS:
                    self.flush_bytes(st)
                    self.emit(_CONTROL_SYMBOLS[sym], st)
                elif sym in (b"\n", b"\r"):
                    self.flush_bytes(st)
                    if not st.skip:
                        self.end_paragraph()
            elif brace == b"{":
                self.flush_bytes(st)
                stack.append(st)
                if len(stack) > self.settings.max_group_depth:
                    raise ResourceLimitError(
                        f"The RTF nests groups deeper than {self.settings.max_group_depth}."
                    )
                st = _State(st.skip, st.uc, st.font, st.dest)
            elif brace == b"}":
                self.flush_bytes(st)
                skip_chars = 0
                if stack:
                    st = stack.pop()
            elif text is not None:
                if st.skip and st.dest not in (b"title", b"fonttbl"):
                    continue
                if st.dest == b"fonttbl":
                    continue
                if text.isascii():
                    self.flush_bytes(st)
                    self.emit(text.decode("ascii"), st)
                else:
                    self.bytes_buf.extend(text)
        self.flush_bytes(st)
        if "".join(self.text).strip():
            self.end_paragraph()
        self.intbl = False
        self.close_table()


def read(data: bytes, options: ReadOptions, settings: RtfSettings = SETTINGS) -> Document:
    """Read an RTF document into paragraphs and merged-cell-resolved tables."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        raise CorruptFileError("The file does not start like an RTF document.")
    if len(data) > options.max_text_chars * 4:
        raise ResourceLimitError("The RTF is larger than the text limit.")
    reader = _Reader(settings)
    try:
        reader.run(data)
    except (ResourceLimitError, CorruptFileError):
        raise
    except (ValueError, IndexError, OverflowError, LookupError) as e:
        raise CorruptFileError("The RTF document is damaged.") from e
    title = " ".join("".join(reader.title).split()) or None
    return Document(blocks=tuple(reader.blocks), format="rtf", title=title)
