"""Masking of personal data (pure rules). The numbers below are invented; the valid
ones were made to pass their check digit, the others deliberately do not."""

from __future__ import annotations

import pytest

from policyqa.privacy import (
    BANK_CARD,
    EMAIL,
    ID_CARD,
    MOBILE,
    NAME,
    NUMBER,
    PHONE,
    classify_number,
    id_checksum_ok,
    luhn_ok,
    mask_pii,
    pii_kinds,
)

RED_TEAM = ("我叫张三丰，身份证号500101199003071234，手机13812345678，"
            "银行卡6222021234567890123，我们公司招了应届生，有补贴吗？")


def test_check_digits() -> None:
    assert id_checksum_ok("11010519491231002X")  # the GB 11643 textbook example
    assert not id_checksum_ok("500101199003071234")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


@pytest.mark.parametrize("digits, label", [
    ("11010519491231002X", ID_CARD),  # checksum holds
    ("500101199003071234", ID_CARD),  # checksum fails, but a real birth date: still an ID
    ("4111111111111111", BANK_CARD),  # Luhn
    ("6222021234567890123", BANK_CARD),  # UnionPay prefix, Luhn fails: still a card
    ("13812345678", MOBILE),
    ("02368881234", PHONE),
    ("12345678901234", NUMBER),  # nothing known, but long: masked anyway
    ("1234567", None),  # short numbers (amounts, years) are kept
    ("2025", None),
])
def test_classify_number(digits: str, label: str | None) -> None:
    assert classify_number(digits) == label


@pytest.mark.parametrize("text, masked", [
    (RED_TEAM, "我叫〔姓名〕，身份证号〔身份证号〕，手机〔手机号〕，银行卡〔银行卡号〕，"
               "我们公司招了应届生，有补贴吗？"),
    ("本人叫李四身份证11010519491231002X想问", "本人叫〔姓名〕身份证〔身份证号〕想问"),
    ("我的名字是王小明今年30岁", "我的名字是〔姓名〕今年30岁"),
    ("姓名：赵六 邮箱 zhao.liu@example.com.cn", "姓名：〔姓名〕 邮箱 〔邮箱〕"),
    ("电话023-68881234，卡号 4111 1111 1111 1111", "电话〔电话〕，卡号 〔银行卡号〕"),
    ("手机１３８１２３４５６７８", "手机〔手机号〕"),  # full-width digits
    ("手机138-1234-5678", "手机〔手机号〕"),
    ("我叫王大锤在重庆上班", "我叫〔姓名〕在重庆上班"),
    ("我是张三丰，想问补贴", "我是〔姓名〕，想问补贴"),  # 我是 + a common surname
    ("我是欧阳娜娜想问", "我是〔姓名〕想问"),
])
def test_mask(text: str, masked: str) -> None:
    assert mask_pii(text) == masked
    assert mask_pii(masked) == masked  # idempotent: a stored text can be masked again


@pytest.mark.parametrize("text", [
    "一次性扩岗补助发多少钱？",
    "2025年补贴10000元，2021-2025年有效",
    "我是应届生，能领补贴吗？",  # 我是 introduces a status, not a name
    "我是高校毕业生，我是农民工，我是党员，我是公务员，我是退役军人",
    "本人在重庆工作，可以申请吗？",
    "拨打12333咨询",
    "渝人社规〔2025〕23号第十条",
    "最长不超过二十四个月，按百分之六十计算",
])
def test_policy_questions_are_kept(text: str) -> None:
    assert mask_pii(text) == text
    assert pii_kinds(text) == []


def test_kinds_name_what_was_found_without_the_data() -> None:
    kinds = pii_kinds(RED_TEAM + " a@b.cn")
    assert kinds == [ID_CARD, BANK_CARD, MOBILE, EMAIL, NAME]
    assert not any(ch.isdigit() for k in kinds for ch in k)
