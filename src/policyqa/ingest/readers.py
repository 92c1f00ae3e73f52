"""Document formats → text, one paragraph per line, for the parser.

Plain text and markdown are decoded strictly (a wrong encoding must stop the build,
not garble quotes). ``.docx`` is read with python-docx (paragraphs, then table rows)
and ``.html`` — a page saved from the bureau's site — with inscriptis, which keeps
the page's paragraphs and line breaks as lines. Neither is parsed by hand here:
both formats have corners (fields, runs, entities, nested tables) that the
libraries already get right.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from policyqa.errors import CorpusError

TEXT_SUFFIXES = (".txt", ".md")
DOC_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".html", ".htm")
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.I)


def decode(data: bytes, name: str, encoding: str = "utf-8") -> str:
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise CorpusError(f"{name}: cannot decode as {encoding} ({e}); "
                          "save it as UTF-8 or set \"encoding\" in its .meta.json",
                          file=name) from e


def docx_text(data: bytes, name: str) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise CorpusError(f"{name}: not a readable .docx file ({type(e).__name__})",
                          file=name) from e
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells
            lines.append("  ".join(c for c in cells if c))
    return "\n".join(lines)


def html_text(data: bytes, name: str, encoding: str | None = None) -> str:
    """The page's text; its encoding from the sidecar, else its own <meta charset>, else UTF-8."""
    from inscriptis import get_text

    if encoding is None:
        m = _CHARSET.search(data[:4096])
        encoding = m.group(1).decode("ascii") if m else "utf-8"
    return get_text(decode(data, name, encoding))


def document_text(path: Path, encoding: str | None = None, data: bytes | None = None) -> str:
    """The text of a corpus document in any of :data:`DOC_SUFFIXES`."""
    data = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return docx_text(data, path.name)
    if suffix in (".html", ".htm"):
        return html_text(data, path.name, encoding)
    if suffix in TEXT_SUFFIXES:
        return decode(data, path.name, encoding or "utf-8")
    raise CorpusError(f"{path.name}: unsupported format (use {', '.join(DOC_SUFFIXES)})",
                      file=path.name)
