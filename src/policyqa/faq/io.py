"""The whole 问答库 out and back in, as JSON, CSV and XLSX.

Officers edit the FAQ base in Excel as often as in the admin pages, so an export must come
back in unchanged. ``parse_import`` only turns a file into raw rows (refusing files it cannot
read at all); ``validate_rows`` checks every row against the corpus and reports *all*
problems with row numbers, so the caller can refuse the whole file: nothing is half-imported.

CSV/XLSX cells (one row per entry, header row = ``KEYS``): ``paraphrases`` one per line;
``citations`` a JSON array of {"doc_id", "doc_no", "article", "quote"}, lossless (quotes may
hold commas, quote marks, line breaks) yet editable; ``stale`` true/false; ``version`` a
number in XLSX. A text cell starting with = + - @ (or ') gets one leading apostrophe so Excel
never runs it as a formula; import strips exactly that apostrophe, so round trips are exact.
CSV is UTF-8 with BOM (else Excel garbles Chinese); import takes it with or without BOM, or
GB18030 as Excel's plain "CSV" writes on Chinese Windows. XLSX (XML) cannot hold other
control characters than tab and line breaks, so those are dropped, and CR LF reads back as LF.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from policyqa.faq.model import (
    InvalidEntry,
)
from policyqa.faq.validate import ImportRow, RowError, validate_rows

__all__ = ["FORMATS", "KEYS", "MAX_IMPORT_BYTES", "MEDIA_TYPES", "ImportRow", "RowError",
           "export_entries", "parse_import", "validate_rows"]

FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json", "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAX_IMPORT_BYTES = 5_000_000
MAX_IMPORT_ROWS = 5000
MAX_XLSX_UNPACKED = 100_000_000  # checked before openpyxl inflates anything (zip bombs)
KEYS = ("id", "question", "paraphrases", "answer_text", "citations", "status", "version",
        "stale", "stale_reason", "origin", "created_by", "updated_by", "created_at",
        "updated_at")
FILE_FORMAT, FILE_VERSION, SHEET = "policyqa-faq", 1, "问答库"
_TOO_MANY = f"一次最多导入 {MAX_IMPORT_ROWS} 条，请分批导入"
_GUARDED = ("=", "+", "-", "@", "'")
_WIDTHS = dict(zip(KEYS, (34, 36, 36, 60, 60, 11, 8, 8, 24, 9, 12, 12, 26, 26), strict=True))
_WRAPPED = ("question", "paraphrases", "answer_text", "citations", "stale_reason")


# ---- export ----------------------------------------------------------------------------

def export_entries(entries: Sequence[Mapping[str, Any]], fmt: str) -> bytes:
    """The entries (repository dicts) as a file; only ``KEYS`` are written, in that order."""
    _check_format(fmt)
    rows = [{k: _export_value(k, e.get(k)) for k in KEYS} for e in entries]
    if fmt == "json":
        return json.dumps({"format": FILE_FORMAT, "version": FILE_VERSION,
                           "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "entries": rows}, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(KEYS)
        w.writerows([_guard(str(v)) for v in _cells(r)] for r in rows)
        return buf.getvalue().encode("utf-8-sig")
    return _export_xlsx(rows)


def _export_value(key: str, v: Any) -> Any:
    if key == "paraphrases":
        return [str(p) for p in v or []]
    if key == "citations":
        return [{"doc_id": c.get("doc_id", ""), "doc_no": c.get("doc_no", ""),
                 "article": c.get("article"), "quote": c.get("quote", "")} for c in v or []]
    if key == "version":
        return int(v or 0)
    if key == "stale":
        return bool(v)
    return "" if v is None else v.isoformat() if isinstance(v, date) else str(v)


def _cells(r: Mapping[str, Any]) -> list[Any]:
    """One exported entry as spreadsheet cells (formats in the module docstring)."""
    return ["\n".join(v) if k == "paraphrases" else
            (json.dumps(v, ensure_ascii=False) if v else "") if k == "citations" else
            ("true" if v else "false") if k == "stale" else v for k, v in r.items()]


def _guard(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v.startswith(_GUARDED) else v


def _export_xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append(list(KEYS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_guard(ILLEGAL_CHARACTERS_RE.sub("", v)) if isinstance(v, str) else v
                   for v in _cells(r)])
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, k in enumerate(KEYS, 1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS[k]
        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i) if k in _WRAPPED else ():
            cell.alignment = wrap
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- import: reading -------------------------------------------------------------------

def parse_import(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """Raw rows of a file, each with ``row`` (1-based data row; for JSON the list position).

    Spreadsheet cells are decoded back to the JSON shapes where they fit (a citations cell
    that is not valid JSON stays a string for ``validate_rows`` to report). InvalidEntry
    only for a file that cannot be read as a 问答库 file at all.
    """
    _check_format(fmt)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidEntry(f"文件太大（{len(data) / 1e6:.1f} MB），上限为 "
                           f"{MAX_IMPORT_BYTES / 1e6:.0f} MB")
    if not data.strip():
        raise InvalidEntry("文件是空的")
    if fmt == "xlsx":
        return _read_xlsx(data)
    if data.startswith(b"PK\x03\x04"):
        raise InvalidEntry(f"这是 XLSX（压缩）文件，不是 {fmt.upper()}；请按 XLSX 格式导入")
    return _read_json(data) if fmt == "json" else _table(_read_csv(data))


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidEntry(f"不支持的格式：{fmt}（可选 {'、'.join(FORMATS)}）")


def _read_json(data: bytes) -> list[dict[str, Any]]:
    try:
        entries = doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidEntry("无法读取：文件不是有效的 JSON（UTF-8）") from None
    if isinstance(doc, dict):
        if doc.get("format") != FILE_FORMAT:
            raise InvalidEntry(f"这不是问答库导出文件（format 应为 {FILE_FORMAT}）")
        if doc.get("version") != FILE_VERSION:
            raise InvalidEntry(f"不支持的问答库文件版本：{doc.get('version')!r}")
        entries = doc.get("entries")
    if not isinstance(entries, list):
        raise InvalidEntry("JSON 文件中没有问答列表（entries）")
    if len(entries) > MAX_IMPORT_ROWS:
        raise InvalidEntry(_TOO_MANY)
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict):
            raise InvalidEntry(f"第{i}条记录不是 JSON 对象")
    return [{**e, "row": i} for i, e in enumerate(entries, 1)]


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidEntry("无法读取 CSV：文件编码不是 UTF-8") from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise InvalidEntry(f"无法读取 CSV：{e}") from None


def _read_xlsx(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_XLSX_UNPACKED:
                raise InvalidEntry("XLSX 文件解压后过大，无法导入")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
            return _table(ws.iter_rows(values_only=True))
        finally:
            wb.close()
    except InvalidEntry:
        raise
    except Exception:  # zipfile and openpyxl raise many kinds for damaged or foreign files
        raise InvalidEntry("无法读取：文件不是有效的 XLSX") from None


def _table(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Header + data rows -> raw rows; blank rows are skipped but keep their numbers."""
    it = iter(rows)
    header = [str(h).strip().lower() if h is not None else "" for h in next(it, ())]
    if "question" not in header:
        raise InvalidEntry("这不是问答库文件：表头没有 question 列（请以导出的文件为模板）")
    cols = [(i, k) for i, k in enumerate(header) if k in KEYS]
    out: list[dict[str, Any]] = []
    for n, cells in enumerate(it, 1):
        if n > 4 * MAX_IMPORT_ROWS:  # bounds the work on sheets padded with empty rows
            raise InvalidEntry(_TOO_MANY)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if len(out) >= MAX_IMPORT_ROWS:
            raise InvalidEntry(_TOO_MANY)
        out.append({**{k: _decode(k, cells[i] if i < len(cells) else None) for i, k in cols},
                    "row": n})
    return out


def _decode(key: str, v: Any) -> Any:
    """One spreadsheet cell back to its JSON shape (left as is when it does not fit)."""
    if isinstance(v, str) and v.startswith("'") and v[1:].startswith(_GUARDED):
        v = v[1:]  # exactly the apostrophe the export added
    elif isinstance(v, date):
        v = v.isoformat()
    if key == "paraphrases":
        if isinstance(v, str):
            return [p for p in v.replace("\r\n", "\n").split("\n") if p]
        return [] if v is None else [v]
    if key == "citations" and isinstance(v, str) and v.strip():
        try:
            return json.loads(v)
        except (ValueError, RecursionError):
            return v
    if key == "stale":
        return v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1", "是")
    if key == "version":
        try:
            return int(v) if v is not None and str(v).strip() else 0
        except (TypeError, ValueError):
            return v
    return ([] if key == "citations" else "") if v is None or v == "" else v
