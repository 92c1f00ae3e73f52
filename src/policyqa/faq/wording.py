"""Wording rules of the FAQ drafter: sentence frames, everyday words, rewordings.

Split from :mod:`policyqa.faq.draft` so the rules (data and small pure functions) can be
read apart from the pipeline that verifies every wording they produce.
"""

from __future__ import annotations

import re
from functools import lru_cache

from policyqa.gate import GENERIC_BIGRAMS
from policyqa.lexicon import Thesaurus
from policyqa.text import cjk_bigrams, load_terms, normalize

PIECE = r"[^,，;；。:：]"  # a character inside one clause piece (pieces end at commas)
SEP = re.compile(r"[,，;；:：]")
START = r"(?:^|(?<=[,，;；:：]))"
# Who acts in a statute: a subject ending so is an actor, not a figure
# (用人单位按照… is not 经济补偿按…).
ACTOR = re.compile("(?:单位|部门|机构|机关|政府|企业|公司|劳动者|职工|人员|个人)$")
# Slots no citizen would type: pointers to a list or another clause, a bare time limit.
BAD_SLOT = re.compile(r"下列|以下|其他|本条|本法|规定|不得|应当|^\d|^[自在于按依]")
FRAMES: tuple[tuple[str, int, re.Pattern[str], tuple[str, ...]], ...] = (  # kind, rank, form
    ("grant", 0, re.compile(rf"(?:对(?P<x>{PIECE}+?)的(?P<y>{PIECE}{{0,10}}?)[,，]?)?"
                            rf"{PIECE}*?(?:给予|予以)"
                            rf"(?P<z>{PIECE}{{0,16}}?(?:补贴|补助|奖励|津贴|奖补|资助))"),
     ("{s}有什么{k}？", "{s}能领{z}吗？", "请问{s}能不能享受{z}？", "{s}有没有{z}？",
      "{z}怎么申请？")),
    ("can", 1, re.compile(rf"{START}(?P<y>{PIECE}*?)(?<![认许不宁])可(?:以)?(?![能持靠见])"
                          rf"(?P<x>{PIECE}{{2,}})"),
     ("{y}可以{x}吗？", "{y}能不能{x}？", "请问{y}能{x}吗？", "{y}可不可以{x}？")),
    ("norm", 1, re.compile(rf"{START}(?P<y>{PIECE}*?)(?:不低于|不少于|不高于|不超过|至少|"
                           r"\d+(?:\.\d+)?[%％]以上|应当?占)"),
     ("{y}有什么要求？", "{y}有什么标准？", "对{y}有没有规定？", "请问{y}是怎么规定的？")),
    # The shapes of statutes (劳动合同法, 条例): how a figure is computed, the cases a rule
    # lists, what an application needs, a time limit, a duty, a prohibition, a right.
    ("calc", 0, re.compile(rf"^(?P<y>{PIECE}{{2,10}}?)(?:按照|按|依照)(?P<x>{PIECE}{{2,}})"
                           r"(?=.*(?:标准|计算|确定))"),
     ("{y}怎么算？", "{y}按什么标准？", "{y}的标准是什么？", "请问{y}是怎么计算的？",
      "{y}怎么计算？")),
    ("cases", 1, re.compile(rf"有(?:下列|以下)情形之一的[,，](?:(?P<y>{PIECE}*?)"
                            rf"(?:应当|可以|应))?(?P<x>{PIECE}{{2,}})[:：]"),
     ("什么情况下{y}{x}？", "哪些情形{y}{x}？", "{y}{x}的情形有哪些？", "在什么情况下{y}会{x}？")),
    ("needs", 1, re.compile(rf"{START}(?P<y>{PIECE}{{2,20}}?)(?:应当|应)?"
                            rf"(?:具备|包括|提交|提供|载明)(?:以下|下列)(?P<x>{PIECE}{{2,6}})[:：]"),
     ("{y}需要哪些{x}？", "{y}要准备什么{x}？", "{y}包括哪些{x}？", "请问{y}有哪些{x}？")),
    ("conditions", 1, re.compile(rf"(?P<y>{PIECE}*?)符合(?:下列|以下)条件的[,，]"
                                 rf"(?P<x>{PIECE}{{2,}})[:：]"),
     ("{y}{x}需要什么条件？", "什么条件下{y}可以{x}？", "{y}{x}要满足哪些条件？",
      "请问{y}{x}有什么条件？")),
    ("pay", 0, re.compile(rf"{START}(?P<y>{PIECE}{{4,}}?)的[,，](?:{PIECE}*?)(?:应当|可以)?"
                          rf"(?:{PIECE}{{0,8}}?)支付(?P<x>{PIECE}{{2,12}})[。；;]"),
     ("{y}，能要{x}吗？", "{y}，要赔{x}吗？", "{y}怎么办？", "{y}有什么赔偿？")),
    ("deadline", 1, re.compile(rf"自{PIECE}+?起{PIECE}{{1,10}}?内[,，]?(?P<x>{PIECE}{{4,}})"),
     ("{x}的时限是多久？", "多长时间内要{x}？", "{x}有没有期限？", "{x}最晚什么时候？")),
    ("forbid", 2, re.compile(rf"{START}(?P<y>{PIECE}*?)不得(?P<x>{PIECE}{{2,}})"),
     ("{y}能{x}吗？", "{y}可以{x}吗？", "{y}{x}合法吗？", "{y}{x}是不是违法？")),
    ("entitled", 2, re.compile(rf"{START}(?P<y>{PIECE}*?)有权(?P<x>{PIECE}{{2,}})"),
     ("{y}能{x}吗？", "{y}有权{x}吗？", "{y}可不可以{x}？", "请问{y}能不能{x}？")),
    ("enjoy", 2, re.compile(rf"{START}(?P<y>{PIECE}*?)(?:享受|享有)(?P<x>{PIECE}{{2,}})"),
     ("{y}能享受{x}吗？", "{y}有没有{x}？", "请问{y}可以享受{x}吗？", "{y}有{x}吗？")),
    ("duty", 3, re.compile(rf"{START}(?P<y>{PIECE}*?)应当(?P<x>{PIECE}{{2,}})"),
     ("{y}必须{x}吗？", "{y}要不要{x}？", "{y}是不是应该{x}？", "{y}一定要{x}吗？")),
    ("isdef", 3, re.compile(rf"{START}(?P<x>{PIECE}{{2,16}}?)[,，]?是指"),
     ("什么是{x}？", "{x}是什么意思？", "请问{x}指的是什么？", "{x}怎么理解？")),
    ("define", 3, re.compile(r"“(?P<z>[^“”]{2,12})”"),
     ("什么是“{z}”？", "“{z}”是什么意思？", "请问{z}指的是什么？", "{z}是怎么回事？")),
    ("support", 3, re.compile(rf"(?<!政策)支持(?![和与及或的等])(?P<x>{PIECE}{{4,}})"),
     ("{x}有什么支持政策？", "政府支持{x}吗？", "请问{x}有没有扶持政策？", "{x}能得到哪些支持？")),
    ("encourage", 4, re.compile(rf"鼓励(?![和与及或的等])(?P<x>{PIECE}{{4,}})"),
     ("{x}有哪些鼓励措施？", "是否鼓励{x}？", "国家鼓励{x}吗？", "请问政策鼓励{x}吗？")),
)
HEADING = (("{h}有哪些措施？", "关于{h}有什么政策？", "{h}具体有哪些规定？", "请问{c}有什么政策？",
             "{c}方面有哪些支持？"),  # a measure (支持企业…) / a subject (补贴标准)
            ("关于{h}有什么规定？", "{h}是怎么规定的？", "请问{c}有哪些规定？",
             "想了解一下{c}的规定"))
TITLE = re.compile(r"[^，,。；;：:…、\d]{2,18}")  # a heading, not a whole sentence
MODAL = re.compile(r"应当|应该|必须|可以|不得")
META = (  # the front matter answers what the document is: 文号, date, issuers
    ("《{t}》的文号是什么？", "{t}的发文字号是多少？", "请问这个文件的文号是多少？"),
    ("《{t}》是什么时候印发的？", "{t}的成文日期是哪天？", "请问这个文件是哪天发的？"),
    ("《{t}》是哪些部门发的？", "{t}的发文机关有哪些？", "请问这个文件是谁发的？"))
RANK = {kind: rank for kind, rank, _, _ in FRAMES} | {"heading": 2, "meta": 0}
USES_Y = frozenset(kind for kind, _, _, forms in FRAMES if any("{y}" in f for f in forms))
LAW_KINDS = frozenset({"calc", "cases", "needs", "deadline", "forbid", "entitled", "enjoy", "duty",
                       "isdef", "conditions", "pay"})
LEAD_VERB = re.compile(r"^(?:大力|进一步|全面)?(?:支持|鼓励|加强|促进|推动|推进|推行|完善|强化|"
                        r"打造|实施|建立健全|建立|健全|深化|落实)")
DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
PAREN = re.compile(r"[（(][^（）()]*[）)]")
FILLER = re.compile(r"^向[^，,]*?(?:部门|机构|机关|单位|劳动者|职工)(?=[\u4e00-\u9fff]{2})|"
                     r"自[^，,]*?起|^(?:但是|但|并且|同时|其中|或者)|"
                     r"按照有关规定|按规定|依法|符合条件的|相应|进一步|大力|持续|充分|积极|切实|"
                     r"我市|我省|本市|本省|全市|全省|等(?:青年|人员|人才|单位|企业)$|^(?:对|保证|确保)")
LIST_ETC = re.compile(r"(?:、[^、]{1,10}?)+等")  # A、B、C等X -> A等X
CONJ = re.compile(r"[、或和及]")
HEAD = re.compile(r"(?:生|人才|青年|职工|员工|工人|企业|公司|单位|机构|学校|院校|技师|高级工)$")
ASKING = re.compile(r"吗|什么|怎么|哪|多少|是否|能否|如何|几|啥|咋")
CJK = re.compile(r"[\u4e00-\u9fff]+")
VERBS = {"新招用": "招", "招用": "招"}  # everyday verbs synonyms.txt does not list
# The answer gate's generic bigrams, except 补贴 (it tells needs apart when clustering)
# and 你们 / 重庆.
GENERIC = GENERIC_BIGRAMS - {"补贴", "你们", "重庆"}


@lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(official -> everyday replacements, longest first; head nouns such as 技能人才).

    The first citizen form listed replaces its official term only if it asks nothing and keeps
    the term's head (same last character) — or, for two-character words, is another word (企业
    -> 公司, not 补贴 -> 补助) — so 应届生 stands for 毕业年度高校毕业生 but 违约 never for 服务期.
    Policy terms without such a form map to themselves, which keeps 小微企业 / 链主企业 whole.
    """
    table: dict[str, str] = {t: t for t in load_terms()}
    for official, forms in Thesaurus().rows:  # resources/synonyms.txt, parsed in one place
        if forms and CJK.fullmatch(official):
            f = forms[0]
            fits = CJK.fullmatch(f) and not ASKING.search(f) and len(f) <= len(official)
            table[official] = f if fits and (f[-1] == official[-1] if len(official) > 2 else
                                             not set(f) & set(official)) else official
            table.update({w: w for w in forms if w not in table})  # already everyday
    pairs = tuple(sorted((table | VERBS).items(), key=lambda kv: -len(kv[0])))
    return pairs, tuple(t for t, _ in pairs if HEAD.search(t))


def to_everyday(text: str) -> str:
    """Official wording -> the words citizens use (left to right, longest term first)."""
    pairs, out, i = lexicon()[0], [], 0
    while i < len(text):
        hit = next(((o, f) for o, f in pairs if text.startswith(o, i)), (text[i], text[i]))
        out.append(hit[1])
        i += len(hit[0])
    return "".join(out)


def last_term(phrase: str, heads_only: bool = True) -> str:
    """The last dictionary term of a phrase (a head noun such as 技能人才 by default)."""
    terms = lexicon()[1] if heads_only else [o for o, _ in lexicon()[0]]
    return max(((phrase.rfind(t) + len(t), len(t), t) for t in terms if t in phrase),
               default=(0, 0, ""))[2]


def collapse(p: str) -> str:
    """Keep the first of parallel items: 高校毕业生、技工院校毕业生到企业 -> 高校毕业生到企业;
    毕业年度或登记失业离校2年内高校毕业生 -> 毕业年度高校毕业生 (modifiers of one head)."""
    p, i, heads = LIST_ETC.sub("等", p), 0, lexicon()[1]
    while m := CONJ.search(p, i):
        k = m.start()
        left, tail = p[:k], p[k + 1:]
        cut = next((tail.find(left[-n:]) + n for n in (2, 1)
                    if len(left) >= n and left[-n:] in tail), -1)
        if cut < 0 and m.group() != "、":  # 或/和/及 between modifiers: up to the shared head
            cut = min((j for j in (tail.find(h) for h in heads) if j > 0), default=-1)
        elif cut < 0:  # A、B和C做… -> A做…; else drop up to 的, or to the end
            cut = max((tail.find(c + h) + 1 + len(h) for c in "和及与" for h in heads
                       if c + h in tail), default=tail.find("的") if "的" in tail else len(tail))
        if cut < 0:
            i = k + 1
        else:
            p, i = left + tail[cut:], k
    return p


def gist(phrase: str, plain: bool = False, longest: int = 24) -> str:
    """A short (citizen-worded unless plain) form of a clause phrase; "" if none is left."""
    p = collapse(FILLER.sub("", PAREN.sub("", phrase)).strip("，,的 "))
    p = p if plain else to_everyday(p)
    return p if 2 <= len(p) <= longest else ""


def content_bigrams(norm: str) -> set[str]:
    return {g for g in cjk_bigrams(norm) if len(g) == 2 and g not in GENERIC}


def wording_key(text: str) -> str:
    """Identity of a wording: normalised, punctuation and spaces dropped."""
    return re.sub(r"[\W_]+", "", normalize(text))


def variants(q: str) -> list[str]:
    """Rule-based rewordings of a logged question (请问 / 有没有 / 能不能 / everyday words)."""
    core = q.strip().rstrip("？?。.！! ")
    out = [] if ASKING.search(core) else [f"{core}有什么政策？", f"关于{core}有哪些规定？"]
    out.append(core[2:] + "？" if core.startswith("请问") else f"请问{core}？")
    swaps = (("可以", "可不可以"), ("能", "能不能"), ("有", "有没有"), ("是", "是不是"))
    out += [core[:-1].replace(a, b, 1) + "？" for a, b in swaps
            if core.endswith("吗") and a in core and b not in core][:1]
    out += [to_everyday(core) + "？", f"想咨询一下，{core}？"]
    return [v for v in dict.fromkeys(out) if wording_key(v) != wording_key(q)]


