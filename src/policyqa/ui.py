"""The citizen chat widget (Gradio, mounted at /ui): the same ChatService as the API.

Every answer is shown with its quoted sentences as cards that expand to the full
clause (查看原文), followed by 猜你想问 chips, a 1–5 好差评 control and 转人工.
All text that reaches the page is HTML-escaped here; nothing from a question or
a document is ever rendered as markup.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from policyqa import messages as msg
from policyqa.api.deps import AppState, NotReady
from policyqa.errors import InvalidQuestion, NotFound, PolicyQAError

log = logging.getLogger("policyqa.ui")

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

N_HOT = 8
N_RELATED = 4

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


def _lines(text: str, cls: str = "pq-p") -> str:
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
    out = [card_html(b, clause_of(b[0])) if isinstance(b, list) else _lines(b)
           for b in blocks]
    if turn.handoff.get("suggested") and msg.HOTLINE not in turn.answer_text:
        out.append(_lines(turn.handoff["text"], "pq-note"))
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


# ---- the Blocks ------------------------------------------------------------------------

def build(state: AppState) -> gr.Blocks:
    def notice(text: str) -> Any:
        return gr.Markdown(text, visible=bool(text))

    def hot_updates() -> list[Any]:
        try:
            qs = list(state.service().hot_questions(N_HOT))[:N_HOT]
        except NotReady as e:  # still loading: poll again; a failed load stops polling
            text = str(e) if state.error else UI_LOADING
            return [*[gr.skip()] * N_HOT, gr.Timer(active=not state.error), notice(text)]
        return [*chips(qs, N_HOT), gr.Timer(active=False), notice("")]

    def limited(request: gr.Request | None) -> bool:
        """The API's per-client budget (same key), so the widget is no way around it."""
        client = getattr(request, "client", None)
        return state.limiter.check(client.host if client else "unknown") > 0

    def chips(questions: list[str], n: int) -> list[Any]:
        return [gr.Button(value=questions[i], visible=True) if i < len(questions)
                else gr.Button(visible=False) for i in range(n)]

    def ask(question: str, history: list[Any], session_id: str | None,
            request: gr.Request) -> list[Any]:
        history = list(history or [])
        keep = [gr.skip()] * (N_RELATED + 5)  # related chips and box, rating, msg, id, hot
        try:
            svc = state.service()
            if limited(request):
                return [history, session_id, gr.skip(), notice(UI_RATE_LIMITED), *keep]
            try:
                turn = svc.chat(question, session_id, UI_CHANNEL)
            except NotFound:  # the session is gone (database reset): start a new one
                turn = svc.chat(question, None, UI_CHANNEL)
        except NotReady:
            return [history, session_id, gr.skip(), notice(UI_LOADING), *keep]
        except InvalidQuestion as e:
            return [history, session_id, gr.skip(), notice(str(e)), *keep]
        except Exception:
            log.exception("widget: answering failed")
            return [history, session_id, gr.skip(), notice(UI_FAILED), *keep]
        history += [{"role": "user", "content": question_html(question)},
                    {"role": "assistant",
                     "content": answer_html(turn, lambda c: clause_text(svc, c))}]
        rel = list(turn.related_questions)[:N_RELATED]
        return [history, turn.session_id, "", notice(""), *chips(rel, N_RELATED),
                gr.Column(visible=bool(rel)), gr.Radio(value=None, visible=True),
                gr.Markdown("", visible=False), turn.answer_id,
                gr.Column(visible=False)]  # once talking, 猜你想问 takes over from 热点问题

    def ask_chip(question: str, history: list[Any], session_id: str | None,
                 request: gr.Request) -> list[Any]:
        out = ask(question, history, session_id, request)
        out[2] = gr.skip()  # a chip asks its own label; the text box keeps what is typed
        return out

    def rate(rating: int | None, answer_id: str | None, request: gr.Request) -> Any:
        if rating is None:
            return gr.skip()
        if limited(request):
            return gr.Markdown(UI_RATE_LIMITED, visible=True)
        if not answer_id:
            return gr.Markdown(UI_NO_ANSWER_YET, visible=True)
        label = dict((v, k) for k, v in UI_RATING_CHOICES).get(rating, str(rating))
        try:
            state.service().store.add_feedback(answer_id, int(rating), None)
        except NotReady:
            return gr.Markdown(UI_LOADING, visible=True)
        except PolicyQAError as e:
            return gr.Markdown(str(e), visible=True)
        text = UI_RATED_BAD if rating <= 2 else UI_RATED
        return gr.Markdown(text.format(label=label), visible=True)

    def handoff(history: list[Any], session_id: str | None, request: gr.Request
                ) -> list[Any]:
        history = list(history or [])
        if limited(request):
            return [history, session_id, notice(UI_RATE_LIMITED), gr.skip()]
        try:
            store = state.service().store
            if not session_id or not store.session_exists(session_id):
                session_id = store.new_session(UI_CHANNEL)
            t = store.create_handoff(session_id, UI_HANDOFF_REASON)
        except NotReady:
            return [history, session_id, notice(UI_LOADING), gr.skip()]
        except Exception:
            log.exception("widget: handoff failed")
            return [history, session_id, notice(UI_FAILED), gr.skip()]
        text = msg.HANDOFF_TICKET.format(ticket=t["ticket_id"])
        history.append({"role": "assistant", "content": _lines(text)})
        info = UI_HANDOFF_INFO.format(hotline=esc(msg.HOTLINE), ticket=esc(t["ticket_id"]))
        return [history, session_id, notice(""), gr.Markdown(info, visible=True)]

    with gr.Blocks(title=UI_TITLE, analytics_enabled=False) as blocks:
        session = gr.State(None)
        answer_id = gr.State(None)
        gr.Markdown(UI_HEADER, elem_id="header")
        with gr.Column(elem_id="welcome-box") as welcome:
            gr.Markdown(UI_WELCOME, elem_id="welcome")
            with gr.Row(elem_id="hot-questions", elem_classes="chips"):
                hot = [gr.Button(visible=False, size="sm", min_width=0) for _ in range(N_HOT)]
        chat = gr.Chatbot(elem_id="chat", show_label=False, height=460, feedback_options=None,
                          latex_delimiters=[], buttons=["copy"], layout="panel",
                          placeholder=esc(UI_CHAT_PLACEHOLDER))
        with gr.Column(visible=False, elem_id="related") as related_box:
            gr.Markdown(UI_RELATED_LABEL)
            with gr.Row(elem_classes="chips", elem_id="related-chips"):
                related = [gr.Button(visible=False, size="sm", min_width=0)
                           for _ in range(N_RELATED)]
        rating = gr.Radio(UI_RATING_CHOICES, label=UI_RATING_LABEL, visible=False,
                          elem_id="rating")
        rated = gr.Markdown("", visible=False, elem_id="rating-msg")
        note = gr.Markdown("", visible=False, elem_id="notice")
        with gr.Row(elem_id="question-row"):
            box = gr.Textbox(show_label=False, placeholder=UI_PLACEHOLDER, max_lines=4,
                             scale=5, min_width=0, elem_id="question-box", container=False)
            send = gr.Button(UI_SEND, variant="primary", scale=0, min_width=64,
                             elem_id="send-btn")
        with gr.Row():
            handoff_btn = gr.Button(UI_HANDOFF, size="sm", elem_id="handoff-btn")
        handoff_info = gr.Markdown("", visible=False, elem_id="handoff-info")
        timer = gr.Timer(2.0, active=True)

        hot_out = [*hot, timer, note]
        blocks.load(hot_updates, None, hot_out, api_visibility="private")
        timer.tick(hot_updates, None, hot_out, api_visibility="private",
                   show_progress="hidden")
        ask_out = [chat, session, box, note, *related, related_box, rating, rated, answer_id,
                   welcome]
        for trigger in (send.click, box.submit):
            trigger(ask, [box, chat, session], ask_out, api_visibility="private")
        for b in [*hot, *related]:
            b.click(ask_chip, [b, chat, session], ask_out, api_visibility="private")
        rating.input(rate, [rating, answer_id], rated, api_visibility="private")
        chat.clear(lambda: [None, None, gr.Column(visible=False), gr.Radio(visible=False),
                            gr.Markdown(visible=False), gr.Markdown(visible=False),
                            gr.Column(visible=True)],
                   None, [session, answer_id, related_box, rating, rated, handoff_info, welcome],
                   api_visibility="private")  # 🗑 starts a new conversation
        handoff_btn.click(handoff, [chat, session], [chat, session, note, handoff_info],
                          api_visibility="private")
    blocks.queue(default_concurrency_limit=4)
    return blocks


def mount(app: FastAPI, state: AppState) -> FastAPI:
    """Add the widget at /ui (and send / there); returns the app to serve."""

    @app.get("/", include_in_schema=False)
    @app.get("/ui", include_in_schema=False)
    def _root() -> RedirectResponse:
        # Relative: the framework's own slash redirect would copy the request's Host
        # header into Location (an open redirect for whoever sets that header).
        return RedirectResponse("/ui/")

    # The widget takes no files. Uploads are off twice over: the guard refuses
    # Gradio's upload route, and Gradio itself is told a file may be 1 byte at most.
    return gr.mount_gradio_app(app, build(state), path="/ui", css=CSS, footer_links=[],
                               show_error=False, max_file_size=1)
