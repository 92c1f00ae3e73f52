"""What the citizen widget shows: its Chinese strings, its CSS, and the HTML of answers
and of officers' replies (pure functions; every text is HTML-escaped here, nothing from
a question, a document or an officer is ever rendered as markup)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from policyqa import messages as msg
from policyqa.workdays import BEIJING

# ---- the widget's own Chinese strings (answer texts come from messages.py) -------------
UI_TITLE = "12333 政策问答"
UI_HEADER = "### 重庆 12333 人社政策智能问答"
UI_WELCOME = ("您好！我可以根据已收录的政策原文回答您的问题，每条回答都注明出处。"
              "请在下方输入问题，或点击热点问题：")
UI_CHAT_PLACEHOLDER = "回答会显示在这里，并附上所依据的政策原文。"
UI_RELATED_LABEL = "**猜你想问**"
UI_PLACEHOLDER = "请输入您的问题，例如：我们公司招了应届生，有补贴吗？"
UI_SEND = "发送"
UI_HANDOFF = "转人工"
UI_HANDOFF_REASON = "市民在网页问答中点击“转人工”"
UI_HANDOFF_INFO = "人工服务热线：**{hotline}**　工单号：**{ticket}**"
UI_RATING_LABEL = "好差评：您对上面这条回答满意吗？"
UI_RATING_CHOICES = [("5 非常满意", 5), ("4 满意", 4), ("3 一般", 3), ("2 不满意", 2),
                     ("1 非常不满意", 1)]
UI_RATED = "感谢您的评价（{label}）！"
UI_RATED_BAD = "感谢您的评价（{label}）！我们会据此改进；如需帮助，可点击“转人工”或拨打12333。"
UI_LOADING = "服务正在启动（正在加载政策文件），请稍候片刻再提问。"
UI_RATE_LIMITED = "请求过于频繁，请稍后再试。"
UI_FAILED = "抱歉，系统暂时出现问题，请稍后再试，或拨打12333人社服务热线。"
UI_NO_ANSWER_YET = "请先提问，再对回答进行评价。"
UI_VIEW_CLAUSE = "查看原文"
UI_SOURCE_LINK = "政策原文链接"
UI_CHANNEL = "widget"
UI_REPLY_HEAD = "人工客服回复（{when}）："
UI_TICKET_CLOSED = "工单已办结。如仍有疑问，可再次点击“转人工”或拨打12333。"


CSS = """
.gradio-container { max-width: 760px !important; margin: 0 auto !important; }
.chips { flex-wrap: wrap !important; gap: 6px !important; }
.chips > button, .chips button { flex: 0 1 auto !important; min-width: 0 !important;
  width: auto !important; white-space: normal !important; text-align: left; }
.pq-q { white-space: pre-wrap; }
.pq-p { margin: 0 0 6px; }
.pq-note { margin: 6px 0; color: var(--body-text-color-subdued); font-size: 0.92em; }
.cite-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #c0392b;
  border-radius: 8px; padding: 8px 10px; margin: 8px 0;
  background: var(--background-fill-secondary); }
.cite-quote { margin: 0 0 4px; }
.cite-src { font-size: 0.85em; color: var(--body-text-color); opacity: 0.75; }
.cite-card details { margin-top: 4px; }
.cite-card summary { cursor: pointer; color: var(--link-text-color, #1a5fb4); }
.cite-clause { margin-top: 6px; line-height: 1.7; }
.cite-clause mark { background: #fff3b0; color: inherit; }
#question-row { flex-wrap: nowrap !important; align-items: stretch; }
#send-btn { min-width: 64px !important; }
#notice { color: #b35c00; }
@media (max-width: 480px) {
  .gradio-container { padding: 4px 6px !important; }
  #chat { height: 58vh !important; }
  .chips button { font-size: 13px !important; padding: 4px 8px !important; }
}
"""


# ---- HTML of one answer (pure functions; every text is escaped) ------------------------

def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def lines_html(text: str, cls: str = "pq-p") -> str:
    return "".join(f'<p class="{cls}">{esc(ln)}</p>' for ln in text.splitlines() if ln.strip())


def question_html(question: str) -> str:
    return f'<div class="pq-q">{esc(question).replace(chr(10), "<br>")}</div>'


def _marked(text: str, quotes: list[str]) -> str:
    """The clause text escaped, with the quoted sentences highlighted."""
    spans: list[tuple[int, int]] = []
    for q in quotes:
        i = text.find(q)
        if q and i >= 0 and all(i >= e or i + len(q) <= s for s, e in spans):
            spans.append((i, i + len(q)))
    out, pos = [], 0
    for s, e in sorted(spans):
        out += [esc(text[pos:s]), f"<mark>{esc(text[s:e])}</mark>"]
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def card_html(cites: list[dict[str, Any]], clause: str | None) -> str:
    """One card per cited article: its quotes, the citation and the expandable clause."""
    c0 = cites[0]
    quotes = "".join(f'<p class="cite-quote">“{esc(c["quote"])}”</p>' for c in cites)
    body = ""
    if clause:
        url = str(c0.get("url") or "")
        link = (f'<p><a href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
                f"{esc(UI_SOURCE_LINK)}</a></p>" if url.startswith(("https://", "http://"))
                else "")
        head = esc(f'{c0["label"]}　{c0.get("heading") or ""}'.strip())
        body = (f"<details><summary>{esc(UI_VIEW_CLAUSE)}</summary>"
                f'<div class="cite-clause"><strong>{head}</strong><br>'
                f'{_marked(clause, [c["quote"] for c in cites]).replace(chr(10), "<br>")}'
                f"{link}</div></details>")
    return (f'<div class="cite-card">{quotes}'
            f'<div class="cite-src">—— {esc(c0["citation"])}</div>{body}</div>')


def answer_html(turn: Any, clause_of: Any) -> str:
    """The answer text line by line; quote lines become citation cards in place."""
    by_line = {f"“{c['quote']}”": c for c in turn.citations}
    blocks: list[Any] = []  # str (a paragraph) or list of citations (a card)
    for ln in turn.answer_text.splitlines():
        c = by_line.pop(ln.strip(), None)
        if c is None:
            if ln.strip():
                blocks.append(ln)
        elif blocks and isinstance(blocks[-1], list) and _key(blocks[-1][0]) == _key(c):
            blocks[-1].append(c)
        else:
            blocks.append([c])
    blocks += [[c] for c in by_line.values()]  # any citation not quoted in the text
    out = [card_html(b, clause_of(b[0])) if isinstance(b, list) else lines_html(b)
           for b in blocks]
    if turn.handoff.get("suggested") and msg.HOTLINE not in turn.answer_text:
        out.append(lines_html(turn.handoff["text"], "pq-note"))
    return f'<div class="pq-answer">{"".join(out)}</div>'


def _key(c: dict[str, Any]) -> tuple[str, str, int]:
    return (c["doc_no"], c["doc_title"], c["article"])


def clause_text(svc: Any, c: dict[str, Any]) -> str | None:
    """The cited article's text, one line per 款 and per 项 (a law reads as printed)."""
    for p in svc.qa.index.policies.values():
        if c.get("doc_id", p.doc_id) == p.doc_id and (p.doc_no, p.title) == (
                c["doc_no"], c["doc_title"]):
            try:
                art = p.article(c["article"])
            except KeyError:
                return None
            return "\n".join(text for _, _, text in art.parts())
    return None


def beijing_time(iso: str) -> str:
    """An ISO timestamp as the citizen's clock shows it (北京时间, minutes)."""
    try:
        return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def reply_html(reply: dict[str, Any]) -> str:
    """An officer's answer to the citizen's 转人工 ticket, with any clauses it cites."""
    when = beijing_time(str(reply.get("created_at") or ""))
    cards = "".join(
        f'<div class="cite-card"><p class="cite-quote">“{esc(c["quote"])}”</p>'
        f'<div class="cite-src">—— {esc(c.get("citation") or "")}</div></div>'
        for c in reply.get("citations") or [])
    return (f'<div class="pq-reply"><p class="pq-note">{esc(UI_REPLY_HEAD.format(when=when))}'
            f'</p>{lines_html(str(reply["body"]))}{cards}</div>')
