"""The shared corpus as tests enumerate it: files that have gold, read into documents."""
from __future__ import annotations

from extractors.model import Document
from extractors.readers import read
from tests.conftest import CORPUS

GOLD = CORPUS / "gold"


def gold_files(folders: tuple[str, ...] = ("txt", "docx", "pdf", "html", "variants")) -> list[str]:
    """Corpus-relative paths of every file whose document has a gold label."""
    out = []
    for folder in folders:
        for p in sorted((CORPUS / folder).iterdir()):
            if (GOLD / f"{p.name.split('.')[0]}.json").exists():
                out.append(f"{folder}/{p.name}")
    return out


def read_doc(rel: str) -> Document:
    path = CORPUS / rel
    return read(path.read_bytes(), path.name)
