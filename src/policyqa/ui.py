"""The citizen chat widget (Gradio, mounted at /ui): the same ChatService as the API.

Every answer is shown with its quoted sentences as cards that expand to the full
clause (查看原文), followed by 猜你想问 chips, a 1–5 好差评 control and 转人工.
After 转人工 the ticket id is kept in the browser (localStorage), and the page
polls the ticket: an officer's reply appears in the same conversation while the
page is open, and when the citizen comes back. Polling (a timer, one indexed read
per tick) was chosen over server-sent events: nothing to hold open through proxies,
and Gradio already owns the page's connection. The HTML is made in ``ui_render``.

The widget keeps no state in the server process, so any worker of any replica can
serve any of its requests (a proxy needs no sticky sessions): the conversation's
session id and last answer id are hidden fields of the page, sent with each event, and
every event is one plain HTTP request (``queue=False``) instead of Gradio's queue,
whose join and event stream must reach the same process. Concurrency is bounded where
the cost is: the chat service's encoder slots.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from policyqa import messages as msg
from policyqa.api.deps import AppState, NotReady
from policyqa.errors import InvalidQuestion, NotFound, PolicyQAError
from policyqa.ui_render import (
    CSS,
    UI_CHANNEL,
    UI_CHAT_PLACEHOLDER,
    UI_FAILED,
    UI_HANDOFF,
    UI_HANDOFF_INFO,
    UI_HANDOFF_REASON,
    UI_HEADER,
    UI_LOADING,
    UI_NO_ANSWER_YET,
    UI_PLACEHOLDER,
    UI_RATE_LIMITED,
    UI_RATED,
    UI_RATED_BAD,
    UI_RATING_CHOICES,
    UI_RATING_LABEL,
    UI_RELATED_LABEL,
    UI_SEND,
    UI_TICKET_CLOSED,
    UI_TITLE,
    UI_WELCOME,
    answer_html,
    clause_text,
    esc,
    lines_html,
    question_html,
    reply_html,
)

log = logging.getLogger("policyqa.ui")

N_HOT = 8
N_RELATED = 4
TICKET_KEY = "policyqa-ticket"  # localStorage key of the pending 转人工 ticket

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
                turn = svc.chat(question, session_id or None, UI_CHANNEL)
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
            return [history, session_id, notice(UI_RATE_LIMITED), *[gr.skip()] * 3]
        try:
            store = state.service().store
            if not session_id or not store.session_exists(session_id):
                session_id = store.new_session(UI_CHANNEL)
            t = store.create_handoff(session_id, UI_HANDOFF_REASON)
        except NotReady:
            return [history, session_id, notice(UI_LOADING), *[gr.skip()] * 3]
        except Exception:
            log.exception("widget: handoff failed")
            return [history, session_id, notice(UI_FAILED), *[gr.skip()] * 3]
        text = msg.HANDOFF_TICKET.format(ticket=t["ticket_id"])
        history.append({"role": "assistant", "content": lines_html(text)})
        return [history, session_id, notice(""), ticket_info(t["ticket_id"]),
                {"id": t["ticket_id"], "seen": 0}, gr.Timer(active=True)]

    def ticket_info(ticket_id: str) -> Any:
        info = UI_HANDOFF_INFO.format(hotline=esc(msg.HOTLINE), ticket=esc(ticket_id))
        return gr.Markdown(info, visible=True)

    def replies(ticket: dict[str, Any] | None, history: list[Any], fresh: bool = False
                ) -> list[Any]:
        """Officers' replies not shown yet, appended to the conversation ([chat, ticket,
        timer]); ``fresh``: the page was just (re)opened and shows none of them yet. A
        closed ticket says so once and is forgotten."""
        if not ticket or not ticket.get("id"):
            return [gr.skip(), None, gr.Timer(active=False)]
        try:
            t = state.desk().tickets.public(str(ticket["id"]))
        except NotReady:
            return [gr.skip(), ticket, gr.Timer(active=True)]
        except NotFound:  # purged after the retention period
            return [gr.skip(), None, gr.Timer(active=False)]
        new = t["replies"][0 if fresh else int(ticket.get("seen") or 0):]
        done = t["status"] == "closed"
        if not new and not done:
            return [gr.skip(), ticket, gr.Timer(active=True)]
        history = [*(history or []),
                   *({"role": "assistant", "content": reply_html(r)} for r in new)]
        if done:
            history.append({"role": "assistant",
                            "content": lines_html(UI_TICKET_CLOSED, "pq-note")})
        return [history, None if done else {"id": t["ticket_id"], "seen": len(t["replies"])},
                gr.Timer(active=not done)]

    def reopened(ticket: dict[str, Any] | None, history: list[Any]) -> list[Any]:
        """Coming back to the page: the pending ticket's number and every reply so far."""
        out = replies(ticket, history, fresh=True)
        pending = str(ticket.get("id") or "") if ticket else ""
        return [*out, ticket_info(pending) if pending else gr.skip()]

    with gr.Blocks(title=UI_TITLE, analytics_enabled=False) as blocks:
        # Held in the page, not in the process (gr.State would be): see the module notes.
        session = gr.Textbox(None, visible=False, elem_id="session-id")
        answer_id = gr.Textbox(None, visible=False, elem_id="answer-id")
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
        ticket = gr.BrowserState(None, storage_key=TICKET_KEY)
        ticket_timer = gr.Timer(state.settings.ticket_poll_s, active=False)

        hot_out = [*hot, timer, note]
        blocks.load(hot_updates, None, hot_out, api_visibility="private", queue=False)
        timer.tick(hot_updates, None, hot_out, api_visibility="private", queue=False,
                   show_progress="hidden")
        ask_out = [chat, session, box, note, *related, related_box, rating, rated, answer_id,
                   welcome]
        for trigger in (send.click, box.submit):
            trigger(ask, [box, chat, session], ask_out, api_visibility="private", queue=False)
        for b in [*hot, *related]:
            b.click(ask_chip, [b, chat, session], ask_out, api_visibility="private", queue=False)
        rating.input(rate, [rating, answer_id], rated, api_visibility="private", queue=False)
        chat.clear(lambda: [None, None, gr.Column(visible=False), gr.Radio(visible=False),
                            gr.Markdown(visible=False), gr.Markdown(visible=False),
                            gr.Column(visible=True)],
                   None, [session, answer_id, related_box, rating, rated, handoff_info, welcome],
                   api_visibility="private", queue=False)  # 🗑 starts a new conversation
        handoff_btn.click(handoff, [chat, session],
                          [chat, session, note, handoff_info, ticket, ticket_timer],
                          api_visibility="private", queue=False)
        blocks.load(reopened, [ticket, chat], [chat, ticket, ticket_timer, handoff_info],
                    api_visibility="private", queue=False)
        ticket_timer.tick(replies, [ticket, chat], [chat, ticket, ticket_timer],
                          api_visibility="private", queue=False, show_progress="hidden")
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
