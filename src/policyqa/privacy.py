"""Personal data in what citizens type: found and masked before anything is stored.

A citizen asking 12333 often writes who they are ("我叫张三，身份证号…，手机…"). The
answer needs none of it, so the record keeps only a masked form: each number or name
is replaced by a label in 〔〕 (〔身份证号〕, 〔手机号〕…); nothing of the original is kept
(no "last four digits": those are enough to link a person across records).

Rules (each a small function, all run by :func:`mask_pii`):

- **身份证号**: 17 digits + a digit or X. Labelled so when the ISO 7064 checksum holds or
  the birth date inside is a real date (a mistyped ID is still an ID).
- **银行卡号**: 13–19 digits passing the Luhn check, or 16–19 digits with a card prefix.
- **手机号**: 11 digits 1[3-9]…; **电话**: an area code 0xx(x) with a 7–8 digit number.
- **Any other run of 11 or more digits** is masked as 〔号码〕 whatever it is: no policy
  question needs one, and a rule that misses a format must not leak it.
- Digit runs may be written with spaces or hyphens (6222 0212 3456…) or in full width.
- **邮箱**: name@domain.tld.
- **姓名**: the 2–4 Chinese characters after an introducer (我叫, 我的名字叫/是, 姓名是/为/：,
  本人叫/姓名), ending at punctuation, a digit, or a word that starts the next phrase
  (身份证, 手机, 今年…); after 我是 only a run that starts with a common surname
  (resources/surnames.txt) and clearly ends there (我是李明， but not 我是应届生).
  Names that are not introduced are not guessed at: a bare "张三丰" is
  indistinguishable from a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from importlib import resources

ID_CARD = "〔身份证号〕"
BANK_CARD = "〔银行卡号〕"
MOBILE = "〔手机号〕"
PHONE = "〔电话〕"
NUMBER = "〔号码〕"
EMAIL = "〔邮箱〕"
NAME = "〔姓名〕"
LABELS = (ID_CARD, BANK_CARD, MOBILE, PHONE, NUMBER, EMAIL, NAME)

# Full-width digits and letters folded one to one, so spans found here index the original.
_FOLD = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)}
                      | {"Ｘ": "X", "ｘ": "x", "＠": "@", "－": "-", "．": ".", "　": " "})
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){6,}(?:[ -]?[Xx])?(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_HAN = "\u4e00-\u9fff"
_INTRO = r"(?:我叫|我的名字(?:叫|是)|姓名(?:是|为|叫)?[:：]?|本人(?:叫|姓名[:：是为]?))"
_NEXT_WORD = ("身份", "手机", "电话", "银行", "今年", "现在", "目前", "在", "是", "的", "想",
              "要", "已", "于", "从", "和", "与", "去", "男", "女", "岁")
_NAME = re.compile(rf"{_INTRO}\s*([{_HAN}·]{{2,4}})")
_I_AM = re.compile(rf"我是\s*([{_HAN}]{{2,4}})")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CARD_PREFIXES = ("62", "4", "5", "3")


def id_checksum_ok(number: str) -> bool:
    """The check character of an 18-digit 居民身份证号 (GB 11643, ISO 7064 MOD 11-2)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _birth_date_ok(number: str) -> bool:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def luhn_ok(number: str) -> bool:
    """The Luhn check digit used by bank cards (ISO/IEC 7812)."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def classify_number(digits: str) -> str | None:
    """The label for a run of digits (separators removed), or None to keep it."""
    n = len(digits)
    if n == 18 and (id_checksum_ok(digits) or
                    (digits[:17].isdigit() and digits[0] in "12345678" and _birth_date_ok(digits))):
        return ID_CARD
    if not digits.isdigit():
        return NUMBER if n >= 11 else None
    if n == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return MOBILE
    if re.fullmatch(r"0\d{9,11}", digits):
        return PHONE
    if 13 <= n <= 19 and (luhn_ok(digits) or (n >= 16 and digits.startswith(_CARD_PREFIXES))):
        return BANK_CARD
    return NUMBER if n >= 11 else None


def _numbers(folded: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _DIGIT_RUN.finditer(folded):
        label = classify_number(re.sub(r"[ -]", "", m.group(0)))
        if label:
            spans.append((m.start(), m.end(), label))
    return spans


def _emails(folded: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(folded)]


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Common surnames (resources/surnames.txt), read once on first use."""
    text = resources.files("policyqa").joinpath("resources/surnames.txt").read_text("utf-8")
    return frozenset(w for ln in text.splitlines() if not ln.startswith("#")
                     for w in ln.split())


def _names(folded: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _NAME.finditer(folded):
        start, end = m.span(1)
        for i in range(start + 2, end):
            if folded.startswith(_NEXT_WORD, i):
                end = i
                break
        spans.append((start, end, NAME))
    for m in _I_AM.finditer(folded):  # 我是李明，: a surname and a clear end, or nothing
        start, run = m.start(1), m.group(1)
        for n in (2, 3, 4):
            rest = folded[start + n:]
            if (run[:1] in surnames() or run[:2] in surnames()) and len(run) >= n and (
                    not rest or not _is_han(rest[0]) or rest.startswith(_NEXT_WORD)):
                spans.append((start, start + n, NAME))
                break
    return spans


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


RULES: tuple[Callable[[str], list[tuple[int, int, str]]], ...] = (_emails, _numbers, _names)


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, label) spans of personal data in ``text``, in order."""
    folded = text.translate(_FOLD)
    taken: list[tuple[int, int, str]] = []
    for rule in RULES:  # earlier rules win an overlap (an email's digits are the email)
        for s, e, label in rule(folded):
            if all(e <= ts or s >= te for ts, te, _ in taken):
                taken.append((s, e, label))
    return sorted(taken)


def mask_pii(text: str) -> str:
    """``text`` with every span of :func:`find_pii` replaced by its label (idempotent)."""
    out, pos = [], 0
    for s, e, label in find_pii(text):
        out += [text[pos:s], label]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def pii_kinds(text: str) -> list[str]:
    """The labels of the personal data found (for an error message), without the data."""
    return sorted({label for _, _, label in find_pii(text)}, key=LABELS.index)
