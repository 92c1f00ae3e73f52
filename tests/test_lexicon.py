"""The thesaurus on invented rows: how citizen wording finds the policy wording."""

from __future__ import annotations

import pytest

from policyqa.lexicon import Thesaurus, asking_sentences
from policyqa.text import normalize

ROWS = [("测试补贴", ["测补", "train", "test subsidy"]), ("测试培训", ["training course"]),
        ("测试工资", ["pay"])]


@pytest.mark.parametrize(("text", "expected"), [
    ("我能领测补吗", ["测试补贴"]),  # a Chinese form anywhere
    ("who will train me", ["测试补贴"]),
    ("i was trained last year", ["测试补贴"]),  # an ending
    ("they are training staff", ["测试补贴"]),
    ("can they restrain me", []),  # not inside another word
    ("a trainee", []),
    ("the test subsidy pays", ["测试补贴", "测试工资"]),
    ("is the test subsidy paid", ["测试补贴"]),  # an irregular form is a form of its own
    ("a training course", ["测试培训"]),  # the longer form takes the words
    ("the payment", []),
])
def test_forms_found(text: str, expected: list[str]) -> None:
    assert Thesaurus(ROWS).expansions(normalize(text)) == expected


def test_the_shipped_thesaurus_reads_english_as_whole_words() -> None:
    """No English form of the shipped file is read inside a longer English word."""
    th = Thesaurus()
    assert th.expansions(normalize("Whenever")) == []
    assert th.expand("my employer kept my id card") != "my employer kept my id card"


def test_an_official_term_written_is_not_read_as_a_form_of_another() -> None:
    """Invented: 测试保证金 is an official term; 保证金 alone is a citizen form of 测试担保."""
    th = Thesaurus([("测试担保", ["保证金"]), ("测试保证金", ["押金条"])])
    assert th.expansions(normalize("交了保证金")) == ["测试担保"]
    assert th.expansions(normalize("测试保证金存多少")) == []


@pytest.mark.parametrize(("question", "asks"), [
    ("失业金能领几个月", "失业金能领几个月"),
    ("连着几个月没交社保。现在被辞了，还能领失业金吗？", "现在被辞了,还能领失业金吗?"),
    ("怎样才能被认定？申报条件是什么", "怎样才能被认定?申报条件是什么"),
])
def test_asking_sentences(question: str, asks: str) -> None:
    assert asking_sentences(normalize(question)) == asks
