// The agent console: queue, claimed chats, the chat view with the bot's context, tickets and
// canned replies. Uses only the hub's public API. Player and bot text is set with textContent.

const STORAGE_KEY = "northlight-agent:v1";
const LANGUAGE_NAMES = { fi: "Finnish", sv: "Swedish", ru: "Russian", tr: "Turkish", en: "English" };
const $ = (id) => document.getElementById(id);

const state = {
  token: localStorage.getItem(STORAGE_KEY),
  me: null,
  queue: [],
  knownQueue: new Set(),
  queueLoaded: false,
  chats: new Map(), // conversation_id -> {info, unread}
  current: null, // conversation detail
  socket: null,
  retryDelay: 500,
  unseen: 0,
  baseTitle: document.title,
  focused: document.hasFocus(),
  lastTypingSent: 0,
  typingTimer: null,
  cannedEdit: [],
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 && !path.endsWith("/login")) {
    logout(false);
  }
  if (!response.ok) {
    const error = new Error(body.detail ? `${body.error}: ${body.detail}` : body.error || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function banner(text) {
  $("banner").textContent = text || "";
  $("banner").hidden = !text;
}

function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// ---------- login ----------
async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const result = await api("/api/agent/login", {
      method: "POST",
      body: JSON.stringify({ username: $("login-user").value, password: $("login-password").value }),
    });
    state.token = result.token;
    localStorage.setItem(STORAGE_KEY, state.token);
    await startConsole();
  } catch (error) {
    $("login-error").textContent = error.status === 401 ? "Wrong username or password." : error.message;
  }
}

function logout(callServer = true) {
  if (callServer && state.token) api("/api/agent/logout", { method: "POST" }).catch(() => {});
  state.token = null;
  localStorage.removeItem(STORAGE_KEY);
  if (state.socket) { state.socket.onclose = null; state.socket.close(); state.socket = null; }
  $("console-view").hidden = true;
  $("login-view").hidden = false;
}

async function startConsole() {
  try {
    state.me = await api("/api/agent/me");
  } catch {
    logout(false);
    return;
  }
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("me").textContent = `${state.me.display_name} (${state.me.role}) · ${state.me.languages.join(", ")}`;
  renderPresence();
  for (const tab of document.querySelectorAll(".editor-only")) tab.hidden = !["admin", "editor"].includes(state.me.role);
  connect();
  await Promise.all([loadQueue(), loadMyChats()]);
}

// ---------- presence and notifications ----------
function renderPresence() {
  const online = state.me.presence === "online";
  $("presence").textContent = online ? "Online" : "Away";
  $("presence").setAttribute("aria-pressed", String(online));
  $("presence").classList.toggle("online", online);
}

async function togglePresence() {
  const presence = state.me.presence === "online" ? "away" : "online";
  state.me = await api("/api/agent/presence", { method: "POST", body: JSON.stringify({ presence }) });
  renderPresence();
}

function away() {
  return !state.focused || document.hidden;
}

function badge() {
  if (!away()) return;
  state.unseen += 1;
  document.title = `(${state.unseen}) ${state.baseTitle}`;
}

function notifyNewItem(item) {
  badge();
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    new Notification(`New chat in the ${LANGUAGE_NAMES[item.language] || item.language} queue`, {
      body: item.first_message.slice(0, 120),
      silent: true,
    });
  }
}

function clearBadge() {
  state.unseen = 0;
  document.title = state.baseTitle;
}

// ---------- queue and my chats ----------
async function loadQueue() {
  const { items } = await api("/api/agent/queue");
  const fetchedAt = Date.now();
  for (const item of items) {
    item.fetchedAt = fetchedAt;
    if (!state.knownQueue.has(item.conversation_id)) {
      state.knownQueue.add(item.conversation_id);
      if (state.queueLoaded) notifyNewItem(item); // not for what was waiting before we logged in
    }
  }
  state.queueLoaded = true;
  state.queue = items;
  renderQueue();
}

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  $("queue-count").textContent = String(state.queue.length);
  if (!state.queue.length) list.append(el("li", "empty", "Nobody is waiting."));
  for (const item of state.queue) {
    const row = el("li", `queue-item${item.priority === "high" ? " high" : ""}`);
    row.dataset.conversation = item.conversation_id;
    const top = el("div", "row");
    top.append(el("span", "badge lang", item.language.toUpperCase()));
    if (item.priority === "high") top.append(el("span", "badge priority", "PRIORITY"));
    top.append(el("span", "reason", (item.reason || "").replaceAll("_", " ")));
    const wait = el("span", "wait", formatWait(item.waiting_s));
    wait.dataset.waiting = item.waiting_s;
    wait.dataset.fetchedAt = item.fetchedAt;
    top.append(wait);
    const claim = el("button", "primary claim", "Claim");
    claim.type = "button";
    claim.addEventListener("click", () => claimConversation(item.conversation_id));
    row.append(top, el("p", "first-message", item.first_message), claim);
    list.append(row);
  }
}

function tickWaits() {
  for (const node of document.querySelectorAll(".queue-item .wait")) {
    const elapsed = (Date.now() - Number(node.dataset.fetchedAt)) / 1000;
    node.textContent = formatWait(Number(node.dataset.waiting) + elapsed);
  }
}

async function claimConversation(id) {
  try {
    await api(`/api/agent/conversations/${id}/claim`, { method: "POST" });
    banner("");
  } catch (error) {
    banner(`Could not claim: ${error.message}`);
  }
  await Promise.all([loadQueue(), loadMyChats()]);
  if (state.chats.has(id)) await openChat(id);
}

async function loadMyChats() {
  const { items } = await api("/api/agent/conversations");
  const next = new Map();
  for (const item of items) next.set(item.conversation_id, { ...item, unread: state.chats.get(item.conversation_id)?.unread || 0 });
  state.chats = next;
  renderMyChats();
  if (state.current && !state.chats.has(state.current.conversation_id)) closeChatView();
}

function renderMyChats() {
  const list = $("my-chats");
  list.replaceChildren();
  if (!state.chats.size) list.append(el("li", "empty", "No chats claimed."));
  for (const [id, chat] of state.chats) {
    const item = el("li");
    const tab = el("button", "chat-tab", `${chat.language.toUpperCase()} · ${chat.first_message.slice(0, 40) || id.slice(0, 8)}`);
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-selected", String(state.current?.conversation_id === id));
    tab.dataset.conversation = id;
    if (chat.unread) tab.append(el("span", "unread", String(chat.unread)));
    tab.addEventListener("click", () => openChat(id));
    item.append(tab);
    list.append(item);
  }
}

// ---------- chat view ----------
async function openChat(id) {
  const detail = await api(`/api/agent/conversations/${id}`);
  state.current = detail;
  const chat = state.chats.get(id);
  if (chat) chat.unread = 0;
  renderMyChats();
  $("chat-empty").hidden = true;
  $("chat-body").hidden = false;
  $("chat-title").textContent = `${LANGUAGE_NAMES[detail.language] || detail.language} · ${id.slice(0, 8)}`;
  $("chat-info").textContent = `Reason: ${(detail.reason || "—").replaceAll("_", " ")} · priority ${detail.priority} · ${detail.state}`;
  const transcript = $("transcript");
  transcript.replaceChildren();
  for (const message of detail.messages) appendMessage(message);
  renderSuggestions(detail.suggestions);
  await renderCanned(detail.language);
  $("reply-text").focus();
}

function closeChatView() {
  state.current = null;
  $("chat-body").hidden = true;
  $("chat-empty").hidden = false;
}

function appendMessage(message) {
  const transcript = $("transcript");
  if (transcript.querySelector(`[data-id="${message.id}"]`)) return;
  const meta = message.meta || {};
  const item = el("li", `turn from-${message.from}${message.internal ? " internal" : ""}`);
  item.dataset.id = message.id;
  const who = { player: "Player", bot: "Bot", agent: meta.agent || "Agent", system: "System" }[message.from] || message.from;
  const head = el("div", "turn-head");
  head.append(el("strong", null, message.internal ? `${who} · internal note` : who));
  head.append(el("time", "muted", new Date(message.created_at).toLocaleTimeString()));
  item.append(head);
  const shown = message.from === "player" && meta.button_title ? `[${meta.button_title}] ${message.text}` : message.text;
  item.append(el("p", "turn-text", shown));
  if (message.from === "bot") {
    const chips = el("div", "chips");
    const chip = (label, value) => {
      if (value !== undefined && value !== null && value !== "") chips.append(el("span", "chip", `${label}: ${value}`));
    };
    chip("lang", meta.language);
    chip("intent", meta.intent);
    chip("conf", typeof meta.confidence === "number" ? meta.confidence.toFixed(2) : meta.confidence);
    chip("topic", meta.faq_id);
    chip("score", typeof meta.faq_score === "number" ? meta.faq_score.toFixed(3) : meta.faq_score);
    chip("outcome", meta.outcome);
    if (chips.childElementCount) item.append(chips);
  }
  transcript.append(item);
  transcript.scrollTop = transcript.scrollHeight;
}

function insertReply(text) {
  const box = $("reply-text");
  box.value = box.value ? `${box.value}\n${text}` : text;
  box.focus();
}

function renderSuggestions(suggestions) {
  const list = $("suggestions");
  list.replaceChildren();
  if (!suggestions.length) list.append(el("li", "empty", "No suggestions for this chat."));
  for (const suggestion of suggestions) {
    const item = el("li", "suggestion");
    item.append(el("strong", null, `${suggestion.title} (${Number(suggestion.score || 0).toFixed(2)})`));
    item.append(el("p", "answer", suggestion.answer));
    const use = el("button", "insert", "Insert");
    use.type = "button";
    use.addEventListener("click", () => {
      insertReply(suggestion.answer);
      state.insertedTopic = suggestion.faq_id; // tells the review inbox which topic helped
    });
    item.append(use);
    list.append(item);
  }
}

async function renderCanned(language) {
  const list = $("canned");
  list.replaceChildren();
  const { replies } = await api(`/api/canned/${language}`);
  if (!replies.length) list.append(el("li", "empty", "No canned replies in this language."));
  for (const reply of replies) {
    const item = el("li");
    const use = el("button", "canned-reply", reply.title);
    use.type = "button";
    use.title = reply.text;
    use.addEventListener("click", () => insertReply(reply.text));
    item.append(use);
    list.append(item);
  }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text || !state.current) return;
  $("reply-error").textContent = "";
  try {
    const message = await api(`/api/agent/conversations/${state.current.conversation_id}/messages`, {
      method: "POST",
      body: JSON.stringify({ text, internal: $("reply-internal").checked, faq_id: state.insertedTopic || null }),
    });
    state.insertedTopic = null;
    state.lastTypingSent = 0; // the next keystroke starts a new "typing…" at once
    $("reply-text").value = "";
    $("reply-internal").checked = false;
    appendMessage(message);
  } catch (error) {
    $("reply-error").textContent = `Not sent: ${error.message}`;
  }
}

async function chatAction(action, body) {
  if (!state.current) return;
  const id = state.current.conversation_id;
  try {
    await api(`/api/agent/conversations/${id}/${action}`, { method: "POST", body: body ? JSON.stringify(body) : undefined });
    banner("");
    closeChatView();
  } catch (error) {
    banner(`${action} failed: ${error.message}`);
  }
  await Promise.all([loadQueue(), loadMyChats()]);
}

function transfer() {
  const agent = $("transfer-agent").value.trim();
  const target = $("transfer-target").value;
  if (agent) return chatAction("transfer", { agent });
  if (target.startsWith("lang:")) return chatAction("transfer", { language: target.slice(5) });
  banner("Choose a language queue or type an agent's username.");
}

function sendTyping() {
  if (!$("reply-text").value) return; // clearing the box is not typing
  const now = Date.now();
  if (state.current && state.socket?.readyState === 1 && now - state.lastTypingSent > 2000) {
    state.lastTypingSent = now;
    state.socket.send(JSON.stringify({ type: "typing", conversation_id: state.current.conversation_id }));
  }
}

// ---------- tickets ----------
async function loadTickets() {
  const { items } = await api("/api/agent/tickets");
  const body = $("tickets");
  body.replaceChildren();
  for (const ticket of items) {
    const row = el("tr");
    for (const value of [ticket.id, new Date(ticket.created_at).toLocaleString(), ticket.email, ticket.text, ticket.status]) {
      row.append(el("td", null, String(value)));
    }
    body.append(row);
  }
  if (!items.length) {
    const row = el("tr");
    const cell = el("td", "empty", "No tickets.");
    cell.colSpan = 5;
    row.append(cell);
    body.append(row);
  }
}

// ---------- canned replies editor ----------
async function loadCannedEditor() {
  const language = $("canned-language").value;
  const { replies } = await api(`/api/canned/${language}`);
  state.cannedEdit = replies;
  renderCannedEditor();
}

function renderCannedEditor() {
  const list = $("canned-editor");
  list.replaceChildren();
  const canEdit = ["admin", "editor"].includes(state.me.role);
  state.cannedEdit.forEach((reply, index) => {
    const item = el("li", "canned-row");
    const title = el("input");
    title.value = reply.title;
    title.maxLength = 80;
    title.setAttribute("aria-label", `Title of reply ${index + 1}`);
    title.disabled = !canEdit;
    title.addEventListener("input", () => (reply.title = title.value));
    const text = el("textarea");
    text.value = reply.text;
    text.rows = 2;
    text.setAttribute("aria-label", `Text of reply ${index + 1}`);
    text.disabled = !canEdit;
    text.addEventListener("input", () => (reply.text = text.value));
    const remove = el("button", "link", "Remove");
    remove.type = "button";
    remove.disabled = !canEdit;
    remove.addEventListener("click", () => { state.cannedEdit.splice(index, 1); renderCannedEditor(); });
    item.append(title, text, remove);
    list.append(item);
  });
  $("canned-add").disabled = !canEdit;
  $("canned-save").disabled = !canEdit;
}

async function saveCanned() {
  const language = $("canned-language").value;
  try {
    const result = await api(`/api/canned/${language}`, {
      method: "PUT",
      body: JSON.stringify({ replies: state.cannedEdit.filter((r) => r.title.trim() && r.text.trim()) }),
    });
    state.cannedEdit = result.replies;
    renderCannedEditor();
    $("canned-status").textContent = `Saved ${result.replies.length} replies.`;
  } catch (error) {
    $("canned-status").textContent = `Not saved: ${error.message}`;
  }
}

// ---------- knowledge base editor (editors and admins) ----------
const LANGUAGE_ORDER = ["fi", "sv", "ru", "tr", "en"];

async function loadTopics() {
  const { items } = await api("/api/editor/topics");
  state.topics = items;
  const list = $("topic-list");
  list.replaceChildren();
  for (const topic of items) {
    const item = el("li");
    const button = el("button", null, topic.titles.en || topic.id);
    button.type = "button";
    button.dataset.topic = topic.id;
    for (const lang of topic.missing) button.append(el("span", "badge missing", lang.toUpperCase()));
    button.addEventListener("click", () => openTopic(topic.id));
    item.append(button);
    list.append(item);
  }
}

async function openTopic(id) {
  const topic = await api(`/api/editor/topics/${id}`);
  for (const b of document.querySelectorAll("#topic-list button")) b.setAttribute("aria-current", String(b.dataset.topic === id));
  const box = $("topic-editor");
  box.replaceChildren();
  box.append(el("h3", null, `${topic.id} · ${topic.handling}`), el("p", "muted", topic.facts));
  const columns = el("div", "languages");
  for (const lang of LANGUAGE_ORDER) {
    const text = topic.languages[lang];
    const column = el("form", `lang-column${text ? "" : " missing"}`);
    column.dataset.language = lang;
    column.append(el("strong", null, `${LANGUAGE_NAMES[lang]}${text ? "" : " · missing"}`));
    const title = el("input", "title");
    title.value = text?.title || "";
    title.setAttribute("aria-label", `Title (${LANGUAGE_NAMES[lang]})`);
    const answer = el("textarea", "answer");
    answer.rows = 8;
    answer.value = text?.answer || "";
    answer.setAttribute("aria-label", `Answer (${LANGUAGE_NAMES[lang]})`);
    const questions = el("textarea", "questions");
    questions.rows = 10;
    questions.value = (text?.questions || []).join("\n");
    questions.setAttribute("aria-label", `Question variants, one per line (${LANGUAGE_NAMES[lang]})`);
    const status = el("p", "save-status");
    status.setAttribute("role", "status");
    const save = el("button", "primary", `Save ${lang.toUpperCase()}`);
    save.type = "submit";
    column.append(el("label", "muted", "Title"), title, el("label", "muted", "Answer"), answer,
      el("label", "muted", "Variants (one per line)"), questions, save, status);
    column.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.className = "save-status";
      status.textContent = "Saving…";
      try {
        await api(`/api/editor/topics/${topic.id}/${lang}`, {
          method: "PUT",
          body: JSON.stringify({ title: title.value, answer: answer.value, questions: questions.value.split("\n") }),
        });
        status.textContent = "Saved. Publish to make it live.";
        column.classList.remove("missing");
      } catch (error) {
        status.className = "save-status error";
        status.textContent = error.message;
      }
    });
    columns.append(column);
  }
  box.append(columns);
}

async function startPublish() {
  const status = $("publish-status");
  $("publish").disabled = true;
  try {
    const { job } = await api("/api/editor/publish", { method: "POST" });
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const info = await api(`/api/editor/publish/${job}`);
      const last = info.events[info.events.length - 1];
      status.textContent = last ? `${last.stage}: ${last.message || ""} ${last.total ? `${last.done}/${last.total}` : ""} (${info.seconds} s)` : `starting… (${info.seconds} s)`;
      if (info.state === "done") {
        const r = info.result;
        status.textContent = `Live: release ${r.release} in ${r.seconds} s (index ${r.index_rebuilt ? "rebuilt" : "unchanged"}, Rasa ${r.rasa_retrained ? "retrained" : "unchanged"}).`;
        if (r.eval && r.eval.faq_top1) {
          const figures = Object.entries(r.eval.faq_top1).map(([lang, v]) => `${lang} ${(100 * v).toFixed(1)}%`).join(" · ");
          status.append(el("br"), `Held-out FAQ top-1: ${figures}. `, ...[...r.eval.warnings, ...r.eval.notes].map((n) => el("span", n.startsWith("WARNING") ? "error" : "muted", `${n} `)));
        }
        break;
      }
      if (info.state === "failed") {
        status.textContent = `Publish failed: ${info.error}`;
        break;
      }
    }
  } catch (error) {
    status.textContent = `Publish failed: ${error.message}`;
  }
  $("publish").disabled = false;
}

async function loadReview() {
  const [{ groups, total }, { items: missing }] = await Promise.all([
    api("/api/editor/review"), api("/api/editor/missing-translations"),
  ]);
  if (!state.topics) await loadTopics();
  $("review-count").textContent = String(total);
  const box = $("review-groups");
  box.replaceChildren();
  if (!total) box.append(el("p", "empty", "Nothing to review."));
  for (const group of groups) {
    box.append(el("h3", null, `${LANGUAGE_NAMES[group.language] || group.language}`));
    for (const cluster of group.clusters) {
      const card = el("div", "review-cluster");
      card.append(el("strong", null, `${cluster.count} × asked`));
      for (const item of cluster.items) {
        const row = el("div", "review-item");
        row.dataset.message = item.message_id;
        row.append(el("span", "question", item.text), el("span", "badge lang", item.reason));
        const pick = el("select");
        pick.setAttribute("aria-label", "Topic");
        const preferred = item.agent_topic || item.bot_topic || item.suggestions[0] || "";
        for (const topic of state.topics) {
          const option = el("option", null, `${topic.titles.en || topic.id}${topic.id === item.agent_topic ? " (agent used)" : ""}`);
          option.value = topic.id;
          option.selected = topic.id === preferred;
          pick.append(option);
        }
        const add = el("button", "primary", "Add as variant");
        add.type = "button";
        const dismiss = el("button", null, "Dismiss");
        dismiss.type = "button";
        const decide = async (action) => {
          try {
            await api(`/api/editor/review/${item.message_id}`, {
              method: "POST", body: JSON.stringify({ action, faq_id: action === "add" ? pick.value : null }),
            });
            row.replaceChildren(el("span", "muted", action === "add" ? `Added to ${pick.value}.` : "Dismissed."));
          } catch (error) {
            row.append(el("span", "error", error.message));
          }
        };
        add.addEventListener("click", () => decide("add"));
        dismiss.addEventListener("click", () => decide("dismiss"));
        row.append(pick, add, dismiss);
        card.append(row);
      }
      box.append(card);
    }
  }
  const table = $("missing");
  table.replaceChildren();
  for (const row of missing) {
    const tr = el("tr");
    for (const value of [`${row.title_en} (${row.faq_id})`, LANGUAGE_NAMES[row.language], row.asks]) tr.append(el("td", null, String(value)));
    table.append(tr);
  }
  if (!missing.length) {
    const tr = el("tr");
    const cell = el("td", "empty", "Every topic exists in every language.");
    cell.colSpan = 3;
    tr.append(cell);
    table.append(tr);
  }
}

// ---------- navigation ----------
function showView(view) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  $("chats-view").hidden = view !== "chats";
  $("tickets-view").hidden = view !== "tickets";
  $("canned-view").hidden = view !== "canned";
  $("editor-view").hidden = view !== "editor";
  $("review-view").hidden = view !== "review";
  if (view === "editor") loadTopics();
  if (view === "review") loadReview();
  if (view === "tickets") loadTickets();
  if (view === "canned") loadCannedEditor();
}

// ---------- live updates ----------
function connect() {
  if (!state.token || state.socket) return;
  // The token goes in the first frame, never in the URL (URLs end up in access logs). While the
  // socket is open the hub keeps this agent's presence fresh; a closed tab ends it.
  const socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}/api/agent/ws`);
  state.socket = socket;
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: state.token }));
  socket.onmessage = (event) => {
    let data;
    try { data = JSON.parse(event.data); } catch { return; }
    if (data.type === "ready") {
      state.retryDelay = 500;
      banner("");
      loadQueue();
      loadMyChats();
    } else if (data.type === "queue") {
      loadQueue();
      loadMyChats();
    } else if (data.type === "player_message") {
      if (state.current?.conversation_id === data.conversation_id) {
        appendMessage(data.message);
        $("player-typing").textContent = "";
      } else if (state.chats.has(data.conversation_id)) {
        state.chats.get(data.conversation_id).unread += 1;
        renderMyChats();
      }
      badge();
    } else if (data.type === "typing" && state.current?.conversation_id === data.conversation_id) {
      $("player-typing").textContent = "The player is typing…";
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(() => ($("player-typing").textContent = ""), 4000);
    } else if (data.type === "ticket" && !$("tickets-view").hidden) {
      loadTickets();
    }
  };
  socket.onclose = (event) => {
    state.socket = null;
    if (event.code === 4401) { logout(false); return; }
    banner("Connection lost. Reconnecting…");
    setTimeout(connect, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, 15000);
  };
}

// ---------- wiring ----------
$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => logout(true));
$("presence").addEventListener("click", togglePresence);
$("notify").addEventListener("click", async () => {
  if ("Notification" in window) $("notify").textContent = `Notifications: ${await Notification.requestPermission()}`;
});
for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
$("reply-form").addEventListener("submit", sendReply);
$("reply-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
});
$("reply-text").addEventListener("input", sendTyping);
$("resolve").addEventListener("click", () => chatAction("resolve"));
$("close-chat").addEventListener("click", () => chatAction("close"));
$("transfer").addEventListener("click", transfer);
$("canned-language").addEventListener("change", loadCannedEditor);
$("canned-add").addEventListener("click", () => { state.cannedEdit.push({ title: "", text: "" }); renderCannedEditor(); });
$("canned-save").addEventListener("click", saveCanned);
$("publish").addEventListener("click", startPublish);
window.addEventListener("focus", () => { state.focused = true; clearBadge(); });
window.addEventListener("blur", () => { state.focused = false; });
document.addEventListener("visibilitychange", () => { if (!document.hidden) clearBadge(); });
setInterval(tickWaits, 1000);
setInterval(() => { if (state.token && state.me) loadQueue().catch(() => {}); }, 15000);

if (state.token) startConsole();
else $("login-view").hidden = false;
document.body.dataset.ready = "true";
