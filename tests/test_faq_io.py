"""问答库 export / import: exact round trips in JSON, CSV and XLSX, and per-row validation.

No model and no database: the corpus here is one invented fixture file parsed by the real
parser plus one invented document built directly (its text is made up for these tests,
with quote marks, commas and a line break inside a sentence).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from conftest import INVENTED_DIR
from policyqa.faq.io import (
    FORMATS,
    KEYS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MEDIA_TYPES,
    SHEET,
    ImportRow,
    RowError,
    export_entries,
    parse_import,
    validate_rows,
)
from policyqa.faq.model import FaqCitation, InvalidEntry, question_key
from policyqa.ingest.corpus import SourceFile, load_policy
from policyqa.ingest.model import Article, Policy, Sentence


def _article(ordinal: int, heading: str, *sentences: str) -> Article:
    return Article(ordinal, str(ordinal) if ordinal else "", heading,
                   tuple(Sentence(i + 1, s) for i, s in enumerate(sentences)))


# Invented text (not a real policy): fake agency, fake 文号, year 2099.
MADE_UP = Policy(
    doc_id="made-up-2099-9", title="某市虚构测试补贴办法", doc_no="测人社规〔2099〕9号",
    issuers=("某市测试局",), date="2099-03-04", preamble="",
    articles=(
        _article(0, "", "为规范虚构的测试补贴，制定本办法。"),
        _article(1, "测试补贴", "测试补贴",
                 '参加测试的人员，按"每人每次500元"标准给予补贴，最多3次。',
                 "申请材料包括：\n（一）身份证明；\n（二）证书复印件。"),
        _article(2, "公式", "=1+1 不是公式，而是条文中的文字。"),
    ),
)
CHAPTERS = load_policy(SourceFile("chapters", INVENTED_DIR / "chapters.txt", ""))
POLICIES = {p.doc_id: p for p in (MADE_UP, CHAPTERS)}

QUOTE_COMMAS = '参加测试的人员，按"每人每次500元"标准给予补贴，最多3次。'
QUOTE_NEWLINE = "申请材料包括：\n（一）身份证明；\n（二）证书复印件。"


def _cite(doc: Policy, article: int, quote: str) -> dict[str, Any]:
    return {"doc_id": doc.doc_id, "doc_no": doc.doc_no, "article": article, "quote": quote}


def _entry(i: int, question: str, **kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": f"id{i:030d}", "question": question, "paraphrases": [], "answer_text": "",
        "citations": [], "status": "draft", "version": 1, "stale": False, "stale_reason": "",
        "origin": "manual", "created_by": "officer-a", "updated_by": "officer-a",
        "created_at": "2099-03-04T08:00:00+00:00", "updated_at": "2099-03-05T09:30:00+00:00",
    }
    e.update(kw)
    return {k: e[k] for k in KEYS}


ENTRIES = [
    _entry(1, "=1+1 有补贴吗",
           paraphrases=["测试补贴发多少钱？", "+86 手机号能申请吗", "@所有人 补贴"],
           answer_text='按"每人每次500元"标准给予补贴，\n最多3次。', status="published",
           version=3, citations=[_cite(MADE_UP, 1, QUOTE_COMMAS),
                                 _cite(MADE_UP, 1, QUOTE_NEWLINE)], origin="clause"),
    _entry(2, "-申请测试补贴要交什么材料", paraphrases=["要交哪些材料"],
           answer_text="'=SUM(A1) 只是文字", status="in_review", stale=True,
           stale_reason="引文不是原文", origin="logs",
           citations=[_cite(CHAPTERS, 5, "申请测试补贴应当提交身份证明和证书复印件。")]),
    _entry(3, "'引号开头的问题", answer_text="", status="retired", origin="import",
           citations=[_cite(MADE_UP, 2, "=1+1 不是公式，而是条文中的文字。")]),
    _entry(4, "测试机构要什么条件", paraphrases=["测试機構的條件"], status="draft",
           answer_text="@ 有固定场所和专职人员。", origin="topic", updated_by="'officer-b",
           citations=[_cite(CHAPTERS, 3, "（一）有固定的测试场所；")]),
]


# ---- round trips -----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_exact(fmt: str) -> None:
    data = export_entries(ENTRIES, fmt)
    rows = parse_import(data, fmt)
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert [{k: r[k] for k in KEYS} for r in rows] == ENTRIES

    good, errors = validate_rows(rows, POLICIES, set())
    assert errors == []
    assert good == [
        ImportRow(i, e["question"], e["paraphrases"], e["answer_text"],
                  [FaqCitation(**c) for c in e["citations"]], e["status"], e["origin"])
        for i, e in enumerate(ENTRIES, 1)
    ]


def test_json_file_shape_and_bare_list() -> None:
    doc = json.loads(export_entries(ENTRIES, "json"))
    assert doc["format"] == "policyqa-faq" and doc["version"] == 1 and doc["exported_at"]
    assert list(doc["entries"][0]) == list(KEYS)
    rows = parse_import(json.dumps(doc["entries"], ensure_ascii=False).encode(), "json")
    assert [{k: r[k] for k in KEYS} for r in rows] == ENTRIES


def test_csv_has_bom_guards_formulas_and_reads_without_bom() -> None:
    data = export_entries(ENTRIES, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.startswith(",".join(KEYS) + "\r\n")
    assert "'=1+1 有补贴吗" in text and "'-申请" in text and "''引号开头" in text
    assert ",'@ 有固定场所" in text  # the answer cell starts with @
    assert MEDIA_TYPES["csv"] == "text/csv; charset=utf-8"
    rows = parse_import(data[3:], "csv")
    assert [{k: r[k] for k in KEYS} for r in rows] == ENTRIES


def test_csv_written_by_hand_in_gbk() -> None:
    """Excel's plain "CSV" on Chinese Windows is GBK without BOM; minimal columns suffice."""
    data = ("question,paraphrases,answer_text\r\n"
            "测试补贴怎么申请,\"怎么申请\n如何申请\",提交材料\r\n")
    rows = parse_import(data.encode("gbk"), "csv")
    assert rows == [{"question": "测试补贴怎么申请", "paraphrases": ["怎么申请", "如何申请"],
                     "answer_text": "提交材料", "row": 1}]
    good, errors = validate_rows(rows, POLICIES, set())
    assert errors == [] and good[0].status == "draft" and good[0].origin == "import"


def test_xlsx_sheet_layout() -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(export_entries(ENTRIES, "xlsx")))
    assert wb.sheetnames == [SHEET]
    ws = wb[SHEET]
    assert [c.value for c in ws[1]] == list(KEYS) and all(c.font.b for c in ws[1])
    assert ws["B2"].value == "'=1+1 有补贴吗" and ws["B2"].data_type == "s"
    assert ws["G2"].value == 3  # version stays a number
    assert ws["H3"].value == "true"
    assert ws.column_dimensions["D"].width >= 40


def test_xlsx_blank_rows_keep_numbers_and_native_cells() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"  # a sheet renamed by an officer: the first sheet is read
    ws.append(["Question", "citations", "status", "version", "stale"])
    ws.append([12333, json.dumps([_cite(MADE_UP, 0, "为规范虚构的测试补贴")]), "draft", 2.0, True])
    ws.append([None, None, None, None, None])
    ws.append(["第三行的问题", None, " Published ", None, None])
    buf = io.BytesIO()
    wb.save(buf)
    rows = parse_import(buf.getvalue(), "xlsx")
    assert [r["row"] for r in rows] == [1, 3]
    assert rows[0]["version"] == 2 and rows[0]["stale"] is True
    good, errors = validate_rows(rows, POLICIES, set())
    assert [g.question for g in good] == ["12333"]
    # (the answer served is built from the quotes, so an empty answer_text is allowed)
    assert errors == [RowError(3, "citations", "已发布的问答必须至少引用一条政策原文")]


# ---- per-row errors --------------------------------------------------------------------

def _bad_rows() -> list[dict[str, Any]]:
    ok = _cite(MADE_UP, 1, QUOTE_COMMAS)
    return [
        {"question": "测试补贴发多少钱", "paraphrases": ["补贴标准"], "citations": [ok]},  # 1 ok
        {"question": "文件不存在", "citations": [{"doc_id": "nope", "article": 1, "quote": "x"}]},
        {"question": "条款不存在", "citations": [_cite(MADE_UP, 99, "x")]},
        {"question": "引文不是原文", "citations": [_cite(MADE_UP, 1, "每人每次800元")]},
        {"question": "測試補貼發多少錢"},  # 5: same key as row 1 (traditional characters)
        {"question": "已经有的问题？"},  # 6: in existing_questions
        {"question": "   ", "answer_text": "没有问题"},  # 7
        {"question": "发布了却没有引用", "answer_text": "答案", "status": "published"},  # 8
        {"question": "状态和来源不对", "status": "done", "origin": "robot"},  # 9
        {"question": "类型都不对", "citations": "not json", "paraphrases": 5,
         "answer_text": ["x"], "status": 7},  # 10
        {"question": "引用不是对象", "citations": [["x"], {"doc_id": MADE_UP.doc_id,
                                                    "article": "三", "quote": "x"},
                                             {"doc_id": MADE_UP.doc_id, "article": 1.5,
                                              "quote": "x"}]},  # 11
        {"question": ["引用不是列表"], "citations": {"doc_id": MADE_UP.doc_id}},  # 12
        {"question": "问" * 201, "paraphrases": [f"问法{i}" for i in range(11)]},  # 13
        {"question": "", "status": "bogus", "citations": [_cite(MADE_UP, 1, "x")],
         "paraphrases": ["补贴标准"]},  # 14: several at once, incl. a duplicate paraphrase
        {"question": "退回的重复问题可以", "paraphrases": ["测试补贴发多少钱"],
         "status": "rejected"},  # 15: inactive rows may repeat a question
        {"question": "通过文号引用", "status": "published", "answer_text": "可以",
         "citations": [{"doc_no": CHAPTERS.doc_no, "article": "4",
                        "quote": " 参加测试并取得证书的人员，可以申请测试补贴。 "}]},  # 16 ok
    ]


def test_all_row_errors_reported_together() -> None:
    data = json.dumps(_bad_rows(), ensure_ascii=False).encode()
    rows = parse_import(data, "json")
    good, errors = validate_rows(rows, POLICIES, {question_key("已经有的问题")})
    assert [g.row for g in good] == [1, 15, 16]
    assert good[2].citations == [FaqCitation(CHAPTERS.doc_id, CHAPTERS.doc_no, 4,
                                             "参加测试并取得证书的人员，可以申请测试补贴。")]
    got = sorted((e.row, e.field) for e in errors)
    assert got == sorted([
        (2, "citations"), (3, "citations"), (4, "citations"), (5, "question"),
        (6, "question"), (7, "question"), (8, "citations"), (9, "status"), (9, "origin"),
        (10, "citations"), (10, "paraphrases"), (10, "answer_text"), (10, "status"),
        (11, "citations"), (11, "citations"), (11, "citations"),
        (12, "question"), (12, "citations"),
        (13, "question"), (13, "paraphrases"),
        (14, "question"), (14, "status"), (14, "citations"), (14, "paraphrases"),
    ])
    msg = {(e.row, e.field): e.message for e in errors}
    assert "没有这份文件：nope" in msg[2, "citations"]
    assert "没有第99条" in msg[3, "citations"]
    assert "不是" in msg[4, "citations"] and "原文" in msg[4, "citations"]
    assert "第 1 行" in msg[5, "question"]
    assert "问答库中已有" in msg[6, "question"]
    assert msg[7, "question"] == "问题不能为空"
    assert "'done'" in msg[9, "status"] and "'robot'" in msg[9, "origin"]
    assert "JSON" in msg[10, "citations"]
    assert "第 1 行" in msg[14, "paraphrases"]
    assert all(isinstance(e.message, str) and e.message for e in errors)


def test_csv_row_errors_use_data_row_numbers() -> None:
    rows = parse_import(export_entries([*ENTRIES[:2], _entry(9, "=1+1 有补贴吗")], "csv"), "csv")
    rows[1]["citations"][0]["quote"] = "改过的引文"
    good, errors = validate_rows(rows, POLICIES, set())
    assert [g.row for g in good] == [1]
    assert [(e.row, e.field) for e in errors] == [(2, "citations"), (3, "question")]


# ---- unreadable files ------------------------------------------------------------------

def _zip_of_junk() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "不是表格")
    return buf.getvalue()


@pytest.mark.parametrize(("data", "fmt", "says"), [
    (b"\x00\xff\xfe garbage \x81", "json", "JSON"),
    (b"\x00\xff\xfe garbage \x81", "csv", "无法读取"),
    (b"\x01 random text, not a table", "csv", "question"),
    (b"\x00\xff\xfe garbage \x81", "xlsx", "XLSX"),
    (b"", "csv", "空"),
    (b'{"entries": []}', "json", "policyqa-faq"),
    (b'{"format": "policyqa-faq", "version": 2, "entries": []}', "json", "版本"),
    (b'{"format": "policyqa-faq", "version": 1}', "json", "entries"),
    (b'["a question"]', "json", "第1条"),
    (b"question,answer_text\r\n", "json", "JSON"),
    (b"id,question\r\nx,y\r\n", "xlsx", "XLSX"),
    (b"[]", "xml", "不支持"),
    (b" " * (MAX_IMPORT_BYTES + 1), "json", "太大"),
])
def test_unreadable_files_raise(data: bytes, fmt: str, says: str) -> None:
    with pytest.raises(InvalidEntry, match=says):
        parse_import(data, fmt)


def test_wrong_container_raises() -> None:
    xlsx = export_entries(ENTRIES, "xlsx")
    for fmt in ("csv", "json"):
        with pytest.raises(InvalidEntry, match="XLSX"):
            parse_import(xlsx, fmt)
    with pytest.raises(InvalidEntry, match="XLSX"):
        parse_import(_zip_of_junk(), "xlsx")
    with pytest.raises(InvalidEntry, match="question"):
        parse_import(export_entries(ENTRIES, "json"), "csv")
    with pytest.raises(InvalidEntry, match="不支持"):
        export_entries(ENTRIES, "pdf")


def test_too_many_rows_raise() -> None:
    many = [{"question": f"问题{i}"} for i in range(MAX_IMPORT_ROWS + 1)]
    with pytest.raises(InvalidEntry, match=str(MAX_IMPORT_ROWS)):
        parse_import(json.dumps(many).encode(), "json")
    csv_data = "question\r\n" + "".join(f"问题{i}\r\n" for i in range(MAX_IMPORT_ROWS + 1))
    with pytest.raises(InvalidEntry, match=str(MAX_IMPORT_ROWS)):
        parse_import(csv_data.encode(), "csv")
    ok = "question\r\n" + "".join(f"问题{i}\r\n" for i in range(MAX_IMPORT_ROWS)) + "\r\n" * 9
    assert len(parse_import(ok.encode(), "csv")) == MAX_IMPORT_ROWS
