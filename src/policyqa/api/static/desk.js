// The officer desk: plain DOM over the officer API. Every text from the server is set
// with textContent (never innerHTML), so nothing a citizen or a document says is markup.
"use strict";
const API = "/api/v1/officer";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("policyqa-officer-token") || "";
let current = null;  // the ticket on screen
let followup = null;  // the follow-up on screen
let checked = null;  // the upload last checked

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, onclick, cls) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null ? "" : String(c);
    tr.appendChild(td);
  }
  if (onclick) tr.addEventListener("click", onclick);
  if (cls) tr.className = cls;
  return tr;
}

async function api(method, path, body, form) {
  const opts = { method, headers: { Authorization: "Bearer " + token } };
  if (form) opts.body = form;
  else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(API + path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || ("HTTP " + r.status));
  return data;
}

function flash(text, isError) {
  $("flash").textContent = text;
  $("flash").className = isError ? "error" : "";
}

async function guarded(fn) {
  try { await fn(); } catch (e) { flash(e.message, true); }
}

// ---- login and tabs -------------------------------------------------------------------

async function login() {
  try {
    const me = await api("GET", "/me");
    sessionStorage.setItem("policyqa-officer-token", token);
    $("me").textContent = me.name + "（" + me.role + "）";
    $("whoami").hidden = false;
    $("login").hidden = true;
    $("desk").hidden = false;
    $("login-error").textContent = "";
    show("tickets");
  } catch (e) {
    sessionStorage.removeItem("policyqa-officer-token");
    $("login-error").textContent = e.message;
  }
}

function show(tab) {
  for (const b of document.querySelectorAll("nav button")) {
    b.classList.toggle("active", b.dataset.tab === tab);
  }
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + tab;
  flash("");
  const load = { tickets: loadTickets, followups: loadFollowups, review: loadReview,
                 probe: async () => {}, documents: loadDocuments,
                 officers: loadOfficers, charts: loadCharts }[tab];
  guarded(load);
  guarded(loadStats);
}

async function loadStats() {
  const s = await api("GET", "/desk/stats");
  const t = s.tickets, f = s.followups;
  $("stats").textContent = `工单：未办 ${t.open}，超时 ${t.overdue}，首次回复中位 `
    + `${t.median_minutes_to_first_reply ?? "—"} 分钟｜差评 ${f.bad_ratings}，待回访 ${f.open}，`
    + `超期 ${f.overdue}，按期回访率 ${f.followed_up_in_time ?? "—"}`;
}

// ---- 统计图: SVGs drawn by the server, fetched with the token, shown in <img> ----------

const chartUrls = {};

async function loadCharts() {
  const days = $("chart-days").value;
  for (const name of ["questions", "rates", "unanswered"]) {
    const r = await fetch(`${API}/stats/charts/${name}?days=${days}`,
                          { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) throw new Error("HTTP " + r.status);
    if (chartUrls[name]) URL.revokeObjectURL(chartUrls[name]);
    chartUrls[name] = URL.createObjectURL(await r.blob());
    $("chart-" + name).src = chartUrls[name];
  }
}

// ---- 转人工 ---------------------------------------------------------------------------

async function loadTickets() {
  const status = $("ticket-status").value;
  const data = await api("GET", "/tickets" + (status ? "?status=" + status : ""));
  const body = $("ticket-list").tBodies[0];
  body.replaceChildren(...data.items.map((t) => row(
    [t.ticket_id, t.status, t.age_hours, t.claimed_by, t.last_question],
    () => guarded(() => openTicket(t.ticket_id)), t.overdue ? "overdue" : "")));
}

async function openTicket(id) {
  const t = await api("GET", "/tickets/" + encodeURIComponent(id));
  current = t;
  $("ticket-detail").hidden = false;
  $("ticket-title").textContent = `${t.ticket_id}（${t.status}${t.claimed_by ? "，" + t.claimed_by : ""}）`;
  $("ticket-transcript").replaceChildren(...t.transcript.map((turn) => {
    const d = el("div", null, "turn");
    d.append(el("strong", "市民：" + turn.question), el("div", "系统：" + turn.answer_text));
    return d;
  }));
  $("ticket-replies").replaceChildren(...t.replies.map((r) => {
    const d = el("div", null, "reply");
    d.append(el("div", `${r.officer}（${r.created_at.slice(0, 16)}）：${r.body}`));
    for (const c of r.citations) d.append(el("div", "“" + c.quote + "” —— " + (c.citation || ""), "quote"));
    return d;
  }));
}

async function ticketAction(action) {
  if (!current) return;
  const out = await api("POST", `/tickets/${encodeURIComponent(current.ticket_id)}/${action}`);
  flash(action === "faq-draft" ? "已生成问答库草稿：" + out.question : "完成");
  await openTicket(current.ticket_id);
  await loadTickets();
}

async function sendReply(ev) {
  ev.preventDefault();
  const citations = [];
  if ($("reply-quote").value.trim()) {
    citations.push({ doc_id: $("reply-doc").value.trim(),
                     article: Number($("reply-article").value), quote: $("reply-quote").value.trim() });
  }
  await api("POST", `/tickets/${encodeURIComponent(current.ticket_id)}/replies`,
            { body: $("reply-body").value, citations });
  $("reply-body").value = "";
  flash("回复已发送，市民可在网页上看到");
  await openTicket(current.ticket_id);
  await loadTickets();
}

// ---- 差评回访 -------------------------------------------------------------------------

async function loadFollowups() {
  const data = await api("GET", "/followups?status=" + $("followup-status").value);
  $("followup-list").tBodies[0].replaceChildren(...data.items.map((f) => row(
    [f.due_on, f.rating, f.question, f.comment, f.status + (f.overdue ? "（超期）" : "")],
    () => openFollowup(f), f.overdue ? "overdue" : "")));
}

function openFollowup(f) {
  followup = f;
  $("followup-form").hidden = false;
  $("followup-title").textContent = `回访 #${f.id}：${f.question}`;
  $("followup-contacted").checked = !!f.contacted;
  $("followup-outcome").value = f.outcome || "";
  $("followup-fixed").value = f.fixed || "";
  $("followup-close").checked = false;
}

async function saveFollowup(ev) {
  ev.preventDefault();
  await api("PATCH", "/followups/" + followup.id, {
    contacted: $("followup-contacted").checked, outcome: $("followup-outcome").value,
    fixed: $("followup-fixed").value, close: $("followup-close").checked });
  flash("已保存");
  $("followup-form").hidden = true;
  await loadFollowups();
}

// ---- 待审核 ---------------------------------------------------------------------------

async function loadReview() {
  const data = await api("GET", "/faq?status=in_review");
  $("review-list").tBodies[0].replaceChildren(...data.items.map((e) => {
    const buttons = el("span");
    for (const [to, label] of [["published", "发布"], ["rejected", "退回"]]) {
      const b = el("button", label);
      b.type = "button";
      b.addEventListener("click", (ev) => {
        ev.stopPropagation();
        guarded(async () => {
          await api("POST", `/faq/${e.id}/transition`, { version: e.version, to });
          flash(label + "：" + e.question);
          await loadReview();
        });
      });
      buttons.append(b);
    }
    return row([e.question, e.answer_text, `${e.created_by} / ${e.updated_by}`, buttons]);
  }));
}

// ---- 命中测试 -------------------------------------------------------------------------

async function runProbe(ev) {
  ev.preventDefault();
  const p = await api("POST", "/probe", { question: $("probe-question").value });
  const out = [el("h3", `回答：${p.answer.status}（来源 ${p.answer.source}）`),
               el("div", `闸门：${p.gate.status} ${p.gate.reason || ""} ${p.gate.rule ? "规则 " + p.gate.rule : ""}`),
               el("pre", p.answer.text)];
  if (p.faq) out.push(el("div", `问答库：${p.faq.question}（相似度 ${p.faq.score}，${p.faq.wins ? "采用" : "未采用"}）`));
  for (const a of p.articles) {
    const d = el("div", null, "card");
    d.append(el("strong", `${a.title} ${a.label}　得分 ${a.score}`));
    for (const s of a.sentences) {
      d.append(el("div", `[融合 ${s.score}｜向量 ${s.dense}｜词频 ${s.lexical}] ${s.text}`, "quote"));
    }
    out.push(d);
  }
  $("probe-result").replaceChildren(...out);
}

// ---- 政策文件 -------------------------------------------------------------------------

async function loadDocuments() {
  const data = await api("GET", "/documents");
  const head = document.createElement("tr");
  for (const c of data.columns) head.append(el("th", c));
  $("document-list").tHead.replaceChildren(head);
  $("document-list").tBodies[0].replaceChildren(...data.rows.map((r) => row(r)));
}

function uploadForm() {
  const f = new FormData();
  f.append("file", $("upload-file").files[0]);
  f.append("doc_id", $("upload-docid").value.trim());
  f.append("meta", $("upload-meta").value.trim() || "{}");
  return f;
}

async function checkUpload(ev) {
  ev.preventDefault();
  const rep = await api("POST", "/documents/check", undefined, uploadForm());
  checked = rep;
  const out = [el("h3", `解析结果：${rep.file}，${rep.articles.length} 条`)];
  rep.columns.forEach((c, i) => out.push(el("div", `${c}：${rep.row[i]}`)));
  for (const w of rep.warnings) out.push(el("div", "⚠ " + w, "error"));
  $("upload-report").replaceChildren(...out);
  $("upload-confirm").hidden = false;
}

async function confirmUpload() {
  const rep = await api("POST", "/documents", undefined, uploadForm());
  flash(`已加入语料库：${rep.doc_id}，索引 ${rep.build}`);
  $("upload-confirm").hidden = true;
  await loadDocuments();
}

// ---- 工作人员 -------------------------------------------------------------------------

async function loadOfficers() {
  const list = await api("GET", "/officers");
  $("officer-list").tBodies[0].replaceChildren(...list.map((o) => {
    const actions = el("span");
    if (!o.revoked_at) {
      const role = document.createElement("select");
      for (const r of ["editor", "reviewer", "admin"]) {
        const opt = el("option", r);
        opt.value = r;
        opt.selected = r === o.role;
        role.append(opt);
      }
      role.addEventListener("change", () => guarded(async () => {
        await api("PATCH", "/officers/" + encodeURIComponent(o.name), { role: role.value });
        flash(o.name + " 现为 " + role.value);
      }));
      const revoke = el("button", "吊销令牌");
      revoke.type = "button";
      revoke.addEventListener("click", () => guarded(async () => {
        await api("POST", "/officers/" + encodeURIComponent(o.name) + "/revoke");
        flash("已吊销：" + o.name);
        await loadOfficers();
      }));
      actions.append(role, revoke);
    }
    return row([o.name, o.role, o.revoked_at ? "已吊销" : "有效", actions]);
  }));
}

async function addOfficer(ev) {
  ev.preventDefault();
  const out = await api("POST", "/officers", { name: $("officer-name").value.trim(),
                                                role: $("officer-role").value });
  $("officer-token").hidden = false;
  $("officer-token").textContent = `${out.name}（${out.role}）的令牌，只显示这一次：${out.token}`;
  $("officer-name").value = "";
  await loadOfficers();
}

// ---- wiring ---------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    login();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem("policyqa-officer-token");
    location.reload();
  });
  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => show(b.dataset.tab));
  }
  $("ticket-status").addEventListener("change", () => guarded(loadTickets));
  $("ticket-refresh").addEventListener("click", () => guarded(loadTickets));
  $("ticket-claim").addEventListener("click", () => guarded(() => ticketAction("claim")));
  $("ticket-close").addEventListener("click", () => guarded(() => ticketAction("close")));
  $("ticket-draft").addEventListener("click", () => guarded(() => ticketAction("faq-draft")));
  $("reply-form").addEventListener("submit", (ev) => guarded(() => sendReply(ev)));
  $("followup-status").addEventListener("change", () => guarded(loadFollowups));
  $("followup-form").addEventListener("submit", (ev) => guarded(() => saveFollowup(ev)));
  $("probe-form").addEventListener("submit", (ev) => guarded(() => runProbe(ev)));
  $("upload-form").addEventListener("submit", (ev) => guarded(() => checkUpload(ev)));
  $("upload-confirm").addEventListener("click", () => guarded(confirmUpload));
  $("officer-form").addEventListener("submit", (ev) => guarded(() => addOfficer(ev)));
  $("chart-days").addEventListener("change", () => guarded(loadCharts));
  setInterval(() => {  // the queue refreshes itself while it is on screen
    if (!$("desk").hidden && !$("tab-tickets").hidden) guarded(loadTickets);
  }, 30000);
  if (token) login();
});
