/*
 * The player's chat widget. Embed with one tag:
 *   <script src="https://<hub>/widget.js" defer></script>
 * (optional: data-hub="https://<hub>" when the script is served from elsewhere).
 *
 * It only uses the hub's public player API. Everything is rendered with textContent (never
 * innerHTML), so a message like <img src=x onerror=alert(1)> shows as those characters.
 * The conversation id and token live in localStorage: a reload continues the same chat, and a
 * dropped WebSocket reconnects with backoff and fetches what it missed (?after=<last id>).
 */
(() => {
  "use strict";
  const script = document.currentScript;
  const HUB = ((script && script.dataset.hub) || new URL(script ? script.src : location.href).origin).replace(/\/$/, "");
  const STORAGE_KEY = "northlight-chat:v1";
  const LANGUAGES = { fi: "Suomi", sv: "Svenska", ru: "Русский", tr: "Türkçe", en: "English" };
  const HUMAN_PAYLOAD = "/request_human";

  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}"); } catch { return {}; }
  })();
  const state = {
    conversationId: saved.conversationId || null,
    token: saved.token || null,
    language: saved.language || browserLanguage(),
    chosen: Boolean(saved.chosen),
    rated: saved.rated || {},
    open: Boolean(saved.open),
    status: { state: "bot" },
    lastId: 0,
    seen: new Set(),
    texts: null,
    socket: null,
    retryDelay: 500,
    typingTimer: null,
    lastTypingSent: 0,
  };

  function browserLanguage() {
    const code = (navigator.language || "en").slice(0, 2).toLowerCase();
    return code in LANGUAGES ? code : "en";
  }

  function persist() {
    const { conversationId, token, language, chosen, rated, open } = state;
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ conversationId, token, language, chosen, rated, open }));
  }

  function t(key, values = {}) {
    const table = (state.texts && (state.texts[state.language] || state.texts.en)) || {};
    const text = table[key] || (state.texts && state.texts.en[key]) || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
  }

  // ---------- DOM ----------
  const host = document.createElement("div");
  host.id = "northlight-chat";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <link rel="stylesheet" href="${HUB}/static/widget.css">
    <button class="launcher" type="button" aria-expanded="false" aria-controls="panel">
      <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span class="launcher-label"></span>
    </button>
    <section class="panel" id="panel" role="dialog" aria-modal="false" hidden>
      <header>
        <div class="heading">
          <h2 class="title"></h2>
          <p class="status" role="status"></p>
        </div>
        <label class="language"><span class="sr-only language-label"></span>
          <select class="language-select"></select>
        </label>
        <button class="close" type="button"><span aria-hidden="true">✕</span><span class="sr-only close-label"></span></button>
      </header>
      <p class="banner" hidden></p>
      <div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"></div>
      <p class="typing" aria-live="polite"></p>
      <div class="extra"></div>
      <form class="composer">
        <label class="sr-only composer-label" for="composer-input"></label>
        <textarea id="composer-input" rows="1" maxlength="2000" autocomplete="off"></textarea>
        <button class="send" type="submit"></button>
      </form>
      <div class="actions">
        <button class="human" type="button"></button>
        <button class="restart" type="button" hidden></button>
      </div>
    </section>`;
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    launcher: $(".launcher"), launcherLabel: $(".launcher-label"), panel: $(".panel"), title: $(".title"),
    status: $(".status"), select: $(".language-select"), languageLabel: $(".language-label"), close: $(".close"),
    closeLabel: $(".close-label"), banner: $(".banner"), log: $(".log"), typing: $(".typing"), extra: $(".extra"),
    form: $(".composer"), input: $("#composer-input"), inputLabel: $(".composer-label"), send: $(".send"),
    human: $(".human"), restart: $(".restart"),
  };
  for (const [code, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = name;
    option.lang = code;
    ui.select.append(option);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function applyTexts() {
    host.lang = state.language;
    ui.panel.lang = state.language;
    ui.launcherLabel.textContent = t("launcher");
    ui.title.textContent = t("title");
    ui.panel.setAttribute("aria-label", t("title"));
    ui.languageLabel.textContent = t("language");
    ui.select.setAttribute("aria-label", t("language"));
    ui.select.value = state.language;
    ui.closeLabel.textContent = t("close");
    ui.inputLabel.textContent = t("placeholder");
    ui.input.placeholder = t("placeholder");
    ui.send.textContent = t("send");
    ui.human.textContent = t("talk_to_person");
    ui.restart.textContent = t("new_chat");
    const welcome = ui.log.querySelector(".welcome .text");
    if (welcome) welcome.textContent = t("welcome");
    renderStatus();
  }

  function renderStatus() {
    const s = state.status || { state: "bot" };
    const minutes = Math.max(1, Math.round((s.estimated_wait_s || 60) / 60));
    const lines = {
      bot: t("status_bot"),
      queued: s.position ? t("status_queued", { position: s.position, minutes }) : t("status_bot"),
      agent: t("status_agent", { agent: s.agent || "" }),
      ticket: t("status_ticket"),
      closed: t("status_closed"),
    };
    ui.status.textContent = lines[s.state] || lines.bot;
    const withHuman = s.state === "queued" || s.state === "agent";
    ui.human.disabled = withHuman || s.state === "closed";
    ui.restart.hidden = s.state !== "closed";
    ui.input.disabled = s.state === "closed";
    ui.send.disabled = s.state === "closed";
  }

  function setStatus(status) {
    state.status = { ...state.status, ...status };
    if (status.state && status.state !== "agent") state.status.agent = status.agent || null;
    if (status.language && !state.chosen && status.language !== state.language) {
      state.language = status.language;
      persist();
      applyTexts();
    }
    renderStatus();
  }

  // ---------- messages ----------
  function senderName(message) {
    if (message.from === "player") return t("you");
    if (message.from === "agent") return (message.meta && message.meta.agent) || "";
    if (message.from === "bot") return t("assistant");
    return "";
  }

  function renderMessage(message) {
    if (message.id && state.seen.has(message.id)) return null;
    if (message.id) {
      state.seen.add(message.id);
      state.lastId = Math.max(state.lastId, message.id);
    }
    const meta = message.meta || {};
    const item = el("div", `message from-${message.from}`);
    item.dataset.id = message.id || "";
    const name = senderName(message);
    if (name) item.append(el("span", "sender", name));
    const shown = message.from === "player" && meta.button_title ? meta.button_title : message.text;
    item.append(el("p", "text", shown));
    if (message.buttons && message.buttons.length) {
      const row = el("div", "quick-replies");
      for (const button of message.buttons) {
        const b = el("button", "quick-reply", button.title);
        b.type = "button";
        b.addEventListener("click", () => send(button.payload, button.title));
        row.append(b);
      }
      item.append(row);
    }
    ui.log.append(item);
    ui.log.scrollTop = ui.log.scrollHeight;
    if (message.from !== "player") ui.typing.textContent = "";
    if (message.from === "player") retireQuickReplies(item);
    if (meta.language && !state.chosen && meta.language in LANGUAGES && meta.language !== state.language) {
      state.language = meta.language;
      persist();
      applyTexts();
    }
    if (meta.ticket_offer) showTicketForm();
    if (meta.rating_requested && !state.rated[state.conversationId]) showRatingForm();
    if (!state.open && message.from !== "player") ui.launcher.classList.add("unread");
    return item;
  }

  function retireQuickReplies(before) {
    for (const row of ui.log.querySelectorAll(".quick-replies")) {
      if (row.compareDocumentPosition(before) & Node.DOCUMENT_POSITION_FOLLOWING) {
        row.querySelectorAll("button").forEach((b) => (b.disabled = true));
      }
    }
  }

  function renderWelcome() {
    if (ui.log.querySelector(".welcome")) return;
    const item = el("div", "message from-bot welcome");
    item.append(el("span", "sender", t("assistant")), el("p", "text", t("welcome")));
    ui.log.prepend(item);
  }

  // ---------- API ----------
  async function api(path, options = {}) {
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(`${HUB}${path}`, { ...options, headers });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.detail || body.error || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  async function ensureConversation() {
    if (state.conversationId) return;
    const created = await api("/api/conversations", {
      method: "POST",
      body: JSON.stringify({ locale: state.chosen ? state.language : navigator.language || state.language }),
    });
    state.conversationId = created.conversation_id;
    state.token = created.token;
    if (!state.chosen) state.language = created.language;
    persist();
    if (state.chosen) await api(`/api/conversations/${state.conversationId}`, {
      method: "PATCH", body: JSON.stringify({ language: state.language }),
    });
    connect();
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  }

  async function send(text, title, clientId) {
    text = (text || "").trim();
    if (!text) return;
    // One id per message, kept across retries: the hub stores a retried message once.
    clientId = clientId || newClientId();
    state.lastTypingSent = 0; // the next keystroke starts a new "typing…" at once
    const pending = renderMessage({ from: "player", text, meta: title ? { button_title: title } : {} });
    pending.classList.add("pending");
    try {
      await ensureConversation();
      const body = { text, client_id: clientId };
      if (title) body.title = title;
      const reply = await api(`/api/conversations/${state.conversationId}/messages`, {
        method: "POST", body: JSON.stringify(body),
      });
      pending.classList.remove("pending");
      if (state.seen.has(reply.message_id)) pending.remove(); // a catch-up already showed it
      pending.dataset.id = reply.message_id;
      state.seen.add(reply.message_id);
      state.lastId = Math.max(state.lastId, reply.message_id);
      for (const message of reply.messages) renderMessage(message);
      setStatus(reply.status);
    } catch (error) {
      pending.classList.remove("pending");
      pending.classList.add("failed");
      const retry = el("button", "retry", `${t("send_failed")} ${t("retry")}`);
      retry.type = "button";
      retry.addEventListener("click", () => { pending.remove(); send(text, title, clientId); });
      pending.append(retry);
      if (error.status === 403) forget();
    }
  }

  async function catchUp() {
    if (!state.conversationId) return;
    try {
      const data = await api(`/api/conversations/${state.conversationId}/messages?after=${state.lastId}`);
      setStatus(data.status); // first, so old offers (ticket form) are not shown again
      for (const message of data.messages) renderMessage(message);
    } catch (error) {
      if (error.status === 403) forget();
    }
  }

  function forget() {
    state.conversationId = null;
    state.token = null;
    state.lastId = 0;
    state.seen.clear();
    if (state.socket) { state.socket.onclose = null; state.socket.close(); state.socket = null; }
    persist();
  }

  // ---------- live updates ----------
  function connect() {
    if (!state.conversationId || state.socket) return;
    // The token goes in the first frame, never in the URL (URLs end up in access logs).
    const socket = new WebSocket(`${HUB.replace(/^http/, "ws")}/api/conversations/${state.conversationId}/ws`);
    state.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: state.token }));
    socket.onmessage = (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (data.type === "ready") {
        state.retryDelay = 500;
        ui.banner.hidden = true;
        catchUp(); // whatever arrived while we were away, deduplicated by id
      } else if (data.type === "message") renderMessage(data.message);
      else if (data.type === "status") setStatus(data);
      else if (data.type === "typing") showTyping();
    };
    socket.onclose = (event) => {
      state.socket = null;
      if (event.code === 4401 || event.code === 4403) { forget(); return; }
      ui.banner.textContent = t("reconnecting");
      ui.banner.hidden = false;
      setTimeout(connect, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 15000);
    };
  }

  function showTyping() {
    ui.typing.textContent = t("typing", { name: state.status.agent || t("assistant") });
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => (ui.typing.textContent = ""), 4000);
  }

  function sendTyping() {
    if (!ui.input.value) return; // clearing the box is not typing
    const now = Date.now();
    if (state.socket && state.socket.readyState === 1 && state.status.state === "agent" && now - state.lastTypingSent > 2000) {
      state.lastTypingSent = now;
      state.socket.send(JSON.stringify({ type: "typing" }));
    }
  }

  // ---------- forms: rating and ticket ----------
  function showRatingForm() {
    if (ui.extra.querySelector(".rating")) return;
    const form = el("form", "rating");
    const legend = el("p", "form-title", t("rating_question"));
    legend.id = "rating-title";
    const stars = el("div", "stars");
    stars.setAttribute("role", "radiogroup");
    stars.setAttribute("aria-labelledby", "rating-title");
    let score = 0;
    for (let n = 1; n <= 5; n++) {
      const star = el("button", "star", "★");
      star.type = "button";
      star.setAttribute("role", "radio");
      star.setAttribute("aria-checked", "false");
      star.setAttribute("aria-label", t("rating_star", { n }));
      star.dataset.score = n;
      star.addEventListener("click", () => {
        score = n;
        stars.querySelectorAll(".star").forEach((s) => {
          const on = Number(s.dataset.score) <= n;
          s.classList.toggle("on", on);
          s.setAttribute("aria-checked", String(Number(s.dataset.score) === n));
        });
        submit.disabled = false;
      });
      stars.append(star);
    }
    const comment = el("textarea", "comment");
    comment.maxLength = 2000;
    comment.rows = 2;
    comment.setAttribute("aria-label", t("rating_comment"));
    comment.placeholder = t("rating_comment");
    const submit = el("button", "primary", t("rating_send"));
    submit.type = "submit";
    submit.disabled = true;
    form.append(legend, stars, comment, submit);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/api/conversations/${state.conversationId}/rating`, {
          method: "POST", body: JSON.stringify({ score, comment: comment.value }),
        });
      } catch (error) {
        if (error.status !== 409) { form.append(el("p", "error", t("send_failed"))); return; }
      }
      state.rated[state.conversationId] = true;
      persist();
      form.replaceWith(el("p", "thanks", t("rating_thanks")));
    });
    ui.extra.append(form);
  }

  function showTicketForm() {
    if (ui.extra.querySelector(".ticket") || state.status.state === "ticket") return;
    const form = el("form", "ticket");
    form.append(el("p", "form-title", t("ticket_title")));
    const email = el("input", "email");
    email.type = "email";
    email.required = true;
    email.autocomplete = "email";
    email.setAttribute("aria-label", t("ticket_email"));
    email.placeholder = t("ticket_email");
    const text = el("textarea", "ticket-text");
    text.required = true;
    text.maxLength = 4000;
    text.rows = 3;
    text.setAttribute("aria-label", t("ticket_message"));
    text.placeholder = t("ticket_message");
    const error = el("p", "error");
    error.setAttribute("role", "alert");
    const submit = el("button", "primary", t("ticket_send"));
    submit.type = "submit";
    form.append(email, text, error, submit);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        const result = await api(`/api/conversations/${state.conversationId}/ticket`, {
          method: "POST", body: JSON.stringify({ email: email.value.trim(), text: text.value.trim() }),
        });
        form.remove();
        for (const message of result.messages) renderMessage(message);
        setStatus({ state: "ticket" });
      } catch (failure) {
        error.textContent = failure.status === 422 ? t("ticket_invalid_email") : t("send_failed");
      }
    });
    ui.extra.append(form);
  }

  // ---------- events ----------
  function setOpen(open) {
    state.open = open;
    persist();
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.classList.remove("unread");
    if (open) {
      renderWelcome();
      ui.input.focus();
    } else {
      ui.launcher.focus();
    }
  }

  ui.launcher.addEventListener("click", () => setOpen(!state.open));
  ui.close.addEventListener("click", () => setOpen(false));
  ui.panel.addEventListener("keydown", (event) => { if (event.key === "Escape") setOpen(false); });
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value;
    ui.input.value = "";
    send(text);
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.input.addEventListener("input", sendTyping);
  ui.human.addEventListener("click", () => send(HUMAN_PAYLOAD, t("talk_to_person")));
  ui.restart.addEventListener("click", () => {
    forget();
    ui.log.replaceChildren();
    ui.extra.replaceChildren();
    state.status = { state: "bot" };
    renderWelcome();
    renderStatus();
    ui.input.focus();
  });
  ui.select.addEventListener("change", async () => {
    state.language = ui.select.value;
    state.chosen = true;
    persist();
    applyTexts();
    if (state.conversationId) {
      try {
        await api(`/api/conversations/${state.conversationId}`, {
          method: "PATCH", body: JSON.stringify({ language: state.language }),
        });
      } catch (error) {
        if (error.status === 403) forget();
      }
    }
  });

  // ---------- start ----------
  async function start() {
    document.body.append(host);
    try {
      state.texts = (await api("/api/ui/widget-texts")).languages;
    } catch {
      state.texts = { en: {} };
    }
    applyTexts();
    if (state.open) setOpen(true);
    if (state.conversationId) {
      await catchUp();
      if (state.conversationId) connect();
    }
    host.dataset.ready = "true";
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
