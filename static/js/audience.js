// The audience page, on a phone: pick an issue, ask, upvote, follow the room live.
import { $, fill, Outbox, Store, ago, clientId, connect, errorMessage, h, renderList, showState, t, tn } from "./live.js";

const app = $("#app");
const code = app.dataset.code;
const keys = { token: `qa:token:${code}`, store: `qa:store:${code}`, outbox: `qa:outbox:${code}`,
  draft: `qa:draft:${code}`, name: "qa:name", sort: "qa:sort" };
const store = new Store(keys.store);
const outbox = new Outbox(keys.outbox);
// issueId: the tab shown; followed: the current issue last seen; missed: the current issue
// changed while a draft kept this phone where it was (the banner offers to switch)
const view = { issueId: null, followed: null, missed: false, mine: false,
  sort: localStorage.getItem(keys.sort) || "popular", banned: false };
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
const FLASH_MS = 2500;  // how long the question just sent stays highlighted

// ---------------------------------------------------------------- the draft

/**
 * What is being typed, kept on the device per event (survives a reload and a reconnect): the
 * text, the issue it is written under and the addressee. The name is kept apart (`qa:name`, for
 * every event). A draft belongs to the issue shown when its first character was typed; it stays
 * there when the moderator moves on, when the person switches tabs, and it is sent there.
 */
const draft = loadDraft();

function loadDraft() {
  try {
    const saved = JSON.parse(localStorage.getItem(keys.draft) || "null");
    if (saved && typeof saved.text === "string") return { text: saved.text, issueId: saved.issueId ?? null, to: saved.to || "" };
  } catch { /* a new draft */ }
  return { text: "", issueId: null, to: "" };
}

function saveDraft() {
  try { localStorage.setItem(keys.draft, JSON.stringify(draft)); } catch { /* full */ }
}

/** Whether something is being typed under an issue of this event. */
const drafting = () => draft.text.trim() !== "" && draft.issueId !== null && Boolean(store.issue(draft.issueId));

function draftTyped() {
  draft.text = $("#ask-text").value;
  if (!draft.text.trim()) draft.issueId = null;
  else if (draft.issueId === null || !store.issue(draft.issueId)) draft.issueId = view.issueId;
  saveDraft();
  renderDraftFor();
}
let link = null;
// the "already asked" hint: ids of similar live questions for the text being typed
const hint = { seq: 0, timer: null, ids: [] };
const HINT_WORDS = 3;  // ask the server only once the text has this many words
const HINT_DELAY_MS = 300;  // ... and the typing has paused this long

// ---------------------------------------------------------------- joining

/** The participant token of this device for this event, joining once if needed. */
async function participantToken() {
  const saved = localStorage.getItem(keys.token);
  if (saved) return saved;
  const res = await fetch(`/api/v1/events/${code}/participants`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
  });
  if (res.status === 409) return null;  // archived: read-only, so watch without joining
  if (!res.ok) throw new Error(`join failed: ${res.status}`);
  const { token } = await res.json();
  localStorage.setItem(keys.token, token);
  return token;
}

async function start() {
  render();
  let token;
  try {
    token = await participantToken();
  } catch {
    say(t("err_join"), true);
    showState($("#conn"), "offline");
    window.addEventListener("online", start, { once: true });
    setTimeout(start, 5000);
    return;
  }
  link = connect({
    code, token, store, outbox,
    onState: (state) => showState($("#conn"), state),
    onAuthError: (error) => (error.code === "banned" ? showBanned() : forgetToken(error)),
    onResult: handleResult,
  });
  store.addEventListener("change", warmCacheOnce, { once: true });
}

/** The token is no longer valid (a new database?): join afresh, once. */
function forgetToken(error) {
  if (error.code !== "unauthorized" || sessionStorage.getItem("qa:rejoined")) return;
  sessionStorage.setItem("qa:rejoined", "1");
  localStorage.removeItem(keys.token);
  localStorage.removeItem(keys.store);
  location.reload();
}

/** The moderator blocked this device: say so plainly, and stop offering to ask or vote. */
function showBanned() {
  view.banned = true;
  render();
  $("#ask-text").disabled = true;  // also before anything was ever shown
  $("#ask button[type=submit]").disabled = true;
  say(t("err_banned"), true);
  showState($("#conn"), "offline");
}

// ---------------------------------------------------------------- what to show

const isOpen = (q) => q.status === "live" || (q.mine && ["pending", "dismissed", "merged"].includes(q.status));

function sorted(questions) {
  const byAge = (a, b) => Date.parse(a.created_at) - Date.parse(b.created_at);
  if (view.sort === "recent") return questions.sort((a, b) => -byAge(a, b));
  return questions.sort((a, b) => b.votes - a.votes || byAge(a, b));
}

/** Follow the current issue when the moderator changes it, unless a draft is being written:
 * then stay, and let the banner offer the switch. */
function followCurrent() {
  const current = store.event?.current_issue_id ?? null;
  if (current !== view.followed) {
    const first = view.followed === null && view.issueId === null;
    view.followed = current;
    if (drafting()) {
      if (first) view.issueId = draft.issueId;  // a reload: back to the draft's issue
      view.missed = current !== null && view.issueId !== current;
    } else {
      view.issueId = current;
      view.missed = false;
    }
  }
  if (!store.issue(view.issueId)) view.issueId = (drafting() ? draft.issueId : current) ?? store.issues[0]?.id ?? null;
  if (view.issueId === current) view.missed = false;
}

const liveIn = (issueId) => [...store.questions.values()].filter((q) => q.issue_id === issueId && q.status === "live").length;

function render() {
  if (!store.event) return;
  $(".event-title").textContent = store.event.title;  // an edited programme renames it live
  followCurrent();
  renderIssues();
  renderBanner();
  renderOnScreen();
  renderForm();
  const mine = [...store.questions.values()].filter((q) => q.issue_id === view.issueId);
  const queued = outbox.items.filter((i) => i.kind === "ask" && i.payload.issue_id === view.issueId)
    .map((i) => ({ id: i.payload.client_id, text: i.payload.text, author_name: i.payload.author_name, addressed_to: i.payload.addressed_to, queued: true }));
  const open = [...queued, ...sorted(mine.filter(isOpen))];
  const answered = sorted(mine.filter((q) => q.status === "answered"));
  renderList($("#questions"), open, { create: createCard, update: updateCard });
  renderList($("#answered"), answered, { create: createCard, update: updateCard });
  $("#empty").hidden = open.length > 0;
  $("#answered-section").hidden = answered.length === 0;
  renderOutbox();
  renderHint();
  renderMine();
}

function renderIssues() {
  const list = $("#issues");
  const current = store.event.current_issue_id;
  renderList(list, store.issues, {
    create: (issue) => h("button", { type: "button", role: "tab", id: `tab-${issue.id}`, "aria-controls": "panel",
      onclick: () => pickIssue(issue.id) }),
    update: (el, issue) => {
      el.setAttribute("aria-selected", String(issue.id === view.issueId));
      el.tabIndex = issue.id === view.issueId ? 0 : -1;
      el.classList.toggle("current", issue.id === current);
      const live = liveIn(issue.id);
      const sig = [issue.title, issue.position, live, issue.id === current].join("|");
      if (el.dataset.sig === sig) return;
      el.dataset.sig = sig;
      fill(el, h("span", { class: "n" }, String(issue.position + 1)),
        h("span", { class: "t" }, issue.title),
        h("span", { class: "live-count", "aria-hidden": "true" }, String(live)),
        h("span", { class: "sr-only" }, `, ${tn("live_questions", live)}`),
        issue.id === current ? h("span", { class: "now" }, t("current")) : null);
    },
  });
  scrollTabIntoView();
  $("#panel").setAttribute("aria-labelledby", `tab-${view.issueId}`);
  const issue = store.issue(view.issueId);
  fill($("#issue-title"), 
    issue?.id === current ? h("span", { class: "badge now" }, t("current")) : "",
    issue ? issue.title : "");
}

/** Keep the shown tab in view in the scrolling row (without scrolling the page). */
function scrollTabIntoView() {
  const list = $("#issues");
  const tab = $(`#tab-${view.issueId}`);
  if (!tab || list.dataset.shown === String(view.issueId)) return;
  list.dataset.shown = String(view.issueId);
  const left = tab.offsetLeft - list.offsetLeft;
  if (left < list.scrollLeft || left + tab.offsetWidth > list.scrollLeft + list.clientWidth) {
    list.scrollLeft = Math.max(0, left - (list.clientWidth - tab.offsetWidth) / 2);
  }
}

function pickIssue(id) {
  view.issueId = id;
  render();
}

const issueLabel = (issue) => ({ n: issue.position + 1, title: issue.title });

/** "Now discussing: issue 2 — …, Switch" while a draft kept this phone on another issue. */
function renderBanner() {
  const current = store.issue(store.event.current_issue_id);
  const show = Boolean(view.missed && current && current.id !== view.issueId);
  $("#now-banner").hidden = !show;
  if (show) $("#now-text").textContent = t("now_discussing", issueLabel(current));
}

/** The pinned card: the question on the screen now (hidden when there is none). */
function renderOnScreen() {
  const q = store.questions.get(store.event.on_screen_question_id);
  const shown = q && (q.status === "live" || q.status === "answered") ? q : null;
  $("#onscreen").hidden = !shown;
  $("#onscreen-text").textContent = shown ? shown.text : "";
}

/** Under another issue's tab, say where the draft will go (and offer to ask it here). */
function renderDraftFor() {
  const issue = drafting() && draft.issueId !== view.issueId ? store.issue(draft.issueId) : null;
  $("#draft-for").hidden = !issue;
  if (issue) $("#draft-for-text").textContent = t("draft_for", issueLabel(issue));
}

function renderForm() {
  const settings = store.event.settings;
  const archived = Boolean(store.event.archived);
  const closed = !settings.questions_open || view.banned || archived;
  $("#ask-text").disabled = closed;
  $("#ask button[type=submit]").disabled = closed;
  if (view.banned) say(t("err_banned"), true);
  else if (archived) say(t("err_archived"));
  else if (closed) say(t("err_closed"));
  else if ($("#ask-msg").dataset.closed) say("");
  $("#ask-msg").dataset.closed = closed ? "1" : "";
  updateCounter();
  renderDraftFor();
  const named = !settings.anonymous_allowed;
  const name = $("#ask-name");
  if (name.required !== named) {
    name.required = named;
    if (named) name.setAttribute("aria-required", "true");
    else name.removeAttribute("aria-required");
    name.placeholder = named ? "" : t("anonymous");
    $("#name-note").textContent = named ? t("name_required") : t("name_optional");
  }
  if (named) $("#ask").classList.add("open");  // the required field shows before Send
  const select = $("#ask-to");
  const panelists = store.speakers.filter((s) => s.role === "panelist");
  if (select.options.length - 1 !== panelists.length) {
    fill(select, select.options[0],
      ...panelists.map((s) => h("option", { value: s.id }, s.name)));
    select.value = draft.to;
    if (select.value !== draft.to) select.value = "";
  }
}

function renderOutbox() {
  const el = $("#outbox");
  el.hidden = outbox.size === 0;
  el.textContent = outbox.size ? tn("waiting", outbox.size) : "";
}

// ---------------------------------------------------------------- a question card

const ARROW = '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M12 4l8 9h-5v7H9v-7H4z" fill="currentColor"/></svg>';

function createCard(q) {
  const icon = h("span", { class: "icon", "aria-hidden": "true" });
  icon.innerHTML = ARROW;
  return h("li", { class: "q" },
    h("div", { class: "q-body" }, h("p", { class: "q-text" }), h("p", { class: "q-meta" }),
      h("button", { type: "button", class: "withdraw", hidden: true, onclick: () => withdraw(q.id) }, t("withdraw"))),
    h("button", { type: "button", class: "vote", onclick: () => toggleVote(q.id) },
      h("span", { class: "sr-only" }, t("vote")), icon, h("span", { class: "count" }), h("small", { class: "noun" })));
}

function updateCard(el, q) {
  const onScreen = store.event.on_screen_question_id === q.id;
  el.classList.toggle("mine", Boolean(q.mine || q.queued));
  el.classList.toggle("onscreen", onScreen);
  el.classList.toggle("muted-card", q.status === "dismissed" || q.status === "merged" || Boolean(q.queued));
  $(".q-text", el).textContent = q.text;
  const speaker = q.addressed_to ? store.speaker(q.addressed_to) : null;
  const badges = [
    onScreen && h("span", { class: "badge onair" }, t("on_screen")),
    (q.mine || q.queued) && h("span", { class: "badge yours" }, t("yours")),
    q.queued && h("span", { class: "badge wait" }, t("waiting_to_send")),
    q.status === "pending" && h("span", { class: "badge wait" }, t("awaiting_review")),
    q.status === "dismissed" && h("span", { class: "badge wait" }, t("dismissed_own")),
    q.status === "merged" && mergedBadge(q),
  ];
  fill($(".q-meta", el), 
    h("span", { class: "author" }, q.author_name || t("anonymous")),
    speaker ? h("span", { class: "to" }, "→ " + speaker.name) : null,
    q.created_at ? h("time", { datetime: q.created_at }, ago(q.created_at)) : null,
    ...badges);
  $(".withdraw", el).hidden = !(q.mine && q.status === "pending" && !q.queued) || view.banned;
  const button = $(".vote", el);
  const votable = q.status === "live" || q.status === "answered";
  button.hidden = !votable;
  button.disabled = !store.event.settings.voting_open || view.banned;
  button.setAttribute("aria-pressed", String(Boolean(q.voted)));
  $(".count", button).textContent = String(q.votes ?? 0);
  $(".noun", button).textContent = tn("votes", q.votes ?? 0);
}

/** An own question merged by the moderator: say into which one (when this phone knows it). */
function mergedBadge(q) {
  const target = store.questions.get(q.merged_into);
  return h("span", { class: "badge merged" },
    target ? t("merged_into", { text: target.text }) : t("merged_similar"));
}

// ---------------------------------------------------------------- my questions

/** A question of this device in words: where it stands. */
function statusWords(q) {
  if (q.queued) return t("waiting_to_send");
  if (q.status === "merged") {
    const target = store.questions.get(q.merged_into);
    return target ? t("merged_into", { text: target.text }) : t("merged_similar");
  }
  return t({ pending: "awaiting_review", live: "status_live", answered: "status_answered",
    dismissed: "dismissed_own", withdrawn: "status_withdrawn" }[q.status] || q.status);
}

function createMine(q) {
  return h("li", { class: "q mine-row" },
    h("div", { class: "q-body" }, h("p", { class: "q-text" }), h("p", { class: "q-meta" }),
      h("button", { type: "button", class: "withdraw", hidden: true, onclick: () => withdraw(q.id) }, t("withdraw"))));
}

function updateMine(el, q) {
  const issue = store.issue(q.issue_id);
  el.dataset.status = q.queued ? "queued" : q.status;
  $(".q-text", el).textContent = q.text;
  fill($(".q-meta", el),
    h("span", { class: `badge status st-${el.dataset.status}` }, statusWords(q)),
    issue ? h("span", { class: "issue" }, t("issue_n", { n: issue.position + 1 })) : null,
    q.created_at ? h("time", { datetime: q.created_at }, ago(q.created_at)) : null);
  $(".withdraw", el).hidden = !(q.status === "pending" && !q.queued) || view.banned;
}

const queuedAsks = () => outbox.items.filter((i) => i.kind === "ask")
  .map((i) => ({ id: i.payload.client_id, issue_id: i.payload.issue_id, text: i.payload.text, queued: true }));

function renderMine() {
  const own = [...store.questions.values()].filter((q) => q.mine)
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const rows = [...queuedAsks().reverse(), ...own];
  $("#mine-count").textContent = String(rows.length);
  $("#mine-toggle").setAttribute("aria-expanded", String(view.mine));
  $("#mine").hidden = !view.mine;
  if (!view.mine) return;
  renderList($("#mine-list"), rows, { create: createMine, update: updateMine });
  $("#mine-empty").hidden = rows.length > 0;
}

async function withdraw(id) {
  if (!link) return;
  const ack = await link.call("withdraw", { question_id: id });
  if (ack.ok) {
    store.mergeRow({ ...ack.question, mine: true });
    store.changed();
    say(t("did_withdraw"));
  } else {
    say(errorMessage(ack.error), true);
  }
}

// ---------------------------------------------------------------- actions

function toggleVote(id) {
  const q = store.questions.get(id);
  if (!q || !link) return;
  const up = !q.voted;
  store.patch(id, { voted: up, votes: Math.max(0, (q.votes || 0) + (up ? 1 : -1)) });
  link.send("vote", { question_id: id, up });
}

function ask(event) {
  event.preventDefault();
  const text = $("#ask-text").value.trim();
  const max = store.event?.settings.max_question_length ?? 300;
  if (!text) return say(t("err_empty"), true);
  if (text.length > max) return say(tn("err_too_long", max), true);
  if (!link) return say(t("err_join"), true);
  const name = $("#ask-name").value.trim();
  if (!name && store.event && !store.event.settings.anonymous_allowed) {
    $("#ask").classList.add("open");
    $("#ask-name").focus();
    return say(t("err_name_required"), true);
  }
  const to = $("#ask-to").value;
  const issueId = drafting() ? draft.issueId : view.issueId;
  const payload = { issue_id: issueId, text, client_id: clientId(),
    ...(name ? { author_name: name } : {}), ...(to ? { addressed_to: Number(to) } : {}) };
  $("#ask-text").value = "";
  $("#ask-to").value = "";  // the next question is to all panelists again
  Object.assign(draft, { text: "", issueId: null, to: "" });
  saveDraft();
  updateCounter();
  hideHint();
  say(link.socket.connected ? "" : t("queued"));
  view.issueId = issueId;  // show the question where it went (and offer the current issue)
  if (issueId !== store.event?.current_issue_id) view.missed = true;
  link.send("ask", payload);
  flash(payload.client_id);
}

/** Scroll the question just sent into view and highlight it for a moment. */
function flash(key) {
  const card = document.querySelector(`#questions [data-key="${CSS.escape(String(key))}"]`);
  if (!card) return;
  card.classList.add("just-sent");
  setTimeout(() => card.classList.remove("just-sent"), FLASH_MS);
  const typing = document.activeElement === $("#ask-text") && $("#ask-text").value.trim();
  if (!typing) card.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
}

/** The outcome of something the outbox sent. */
function handleResult(item, ack) {
  if (item.kind === "ask") {
    if (ack.ok) {
      store.mergeRow({ ...ack.question, mine: true });
      store.changed();
      say(ack.question.status === "pending" ? t("sent_review") : t("sent"));
      flash(ack.question.id);
    } else {
      if (!$("#ask-text").value) {
        $("#ask-text").value = item.payload.text;
        draftTyped();
        draft.issueId = item.payload.issue_id;  // back under the issue it was written for
        saveDraft();
        render();
      }
      updateCounter();
      say(errorMessage(ack.error), true);
    }
  } else if (ack.ok) {
    store.patch(ack.question_id, { votes: ack.votes, voted: ack.voted });
  } else {
    const q = store.questions.get(item.payload.question_id);
    if (q) store.patch(q.id, { voted: !item.payload.up, votes: Math.max(0, q.votes + (item.payload.up ? -1 : 1)) });
    say(errorMessage(ack.error), true);
  }
}

function say(text, isError = false) {
  const el = $("#ask-msg");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function updateCounter() {
  const max = store.event?.settings.max_question_length ?? 300;
  const length = $("#ask-text").value.trim().length;
  const counter = $("#counter");
  counter.textContent = `${length} / ${max}`;
  counter.classList.toggle("over", length > max);
  if (length) $("#ask").classList.add("open");
}

// ---------------------------------------------------------------- already asked?

/** While the person types, look for questions already asked (debounced; never blocks sending). */
function scheduleHint() {
  clearTimeout(hint.timer);
  const text = $("#ask-text").value.trim();
  if (view.banned || text.split(/\s+/u).filter(Boolean).length < HINT_WORDS) {
    hideHint();
    return;
  }
  hint.timer = setTimeout(() => lookUp(text), HINT_DELAY_MS);
}

async function lookUp(text) {
  if (!link) return;
  const seq = ++hint.seq;
  const ack = await link.call("similar", { text, ...(view.issueId ? { issue_id: view.issueId } : {}) }, 5000);
  if (seq !== hint.seq || $("#ask-text").value.trim() !== text) return;  // the text changed since
  if (!ack.ok) return hideHint();  // offline, too fast, ...: no hint, and nothing to say
  for (const q of ack.questions) store.mergeRow(q);
  hint.ids = ack.questions.map((q) => q.id);
  store.changed();  // renders, hint included
}

function hideHint() {
  hint.seq += 1;  // an answer still on its way is stale now
  clearTimeout(hint.timer);
  hint.ids = [];
  renderHint();
}

function renderHint() {
  const rows = hint.ids.map((id) => store.questions.get(id))
    .filter((q) => q && (q.status === "live" || q.status === "answered"));
  renderList($("#similar-list"), rows, { create: createCard, update: updateCard });
  $("#similar").hidden = rows.length === 0;
}

// ---------------------------------------------------------------- offline shell

/** Keep this page and its files in the service worker's cache, so a reload works offline. */
async function warmCacheOnce() {
  if (!("serviceWorker" in navigator) || !window.caches) return;
  try {
    await navigator.serviceWorker.register("/sw.js");
    const files = [location.pathname, ...performance.getEntriesByType("resource").map((r) => r.name)
      .filter((url) => url.startsWith(`${location.origin}/static/`))];  // every file it loaded
    const cache = await caches.open(`qa-shell-${document.documentElement.dataset.assets}`);
    await cache.addAll(files.map((url) => new Request(url, { cache: "force-cache" })));  // no second download
    document.documentElement.dataset.offlineReady = "true";
  } catch { /* no offline shell: the page still works online */ }
}

// ---------------------------------------------------------------- wiring

$("#ask").addEventListener("submit", ask);
$("#ask").addEventListener("focusin", () => $("#ask").classList.add("open"));
$("#ask-text").addEventListener("input", () => { draftTyped(); updateCounter(); scheduleHint(); });
$("#ask-text").value = draft.text;
$("#ask-to").addEventListener("change", (e) => { draft.to = e.target.value; saveDraft(); });
$("#now-switch").addEventListener("click", () => {
  view.missed = false;
  pickIssue(store.event.current_issue_id);  // the draft keeps its issue (the form says which)
});
$("#draft-here").addEventListener("click", () => {
  draft.issueId = view.issueId;
  saveDraft();
  render();
});
$("#mine-toggle").addEventListener("click", () => {
  view.mine = !view.mine;
  render();
  if (view.mine) $("#mine").scrollIntoView({ block: "start", behavior: reducedMotion.matches ? "auto" : "smooth" });
});
$("#ask-text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask(e);
});
$("#ask-name").value = localStorage.getItem(keys.name) || "";
$("#ask-name").addEventListener("input", (e) => localStorage.setItem(keys.name, e.target.value.trim()));
for (const button of document.querySelectorAll("[data-sort]")) {
  button.setAttribute("aria-pressed", String(button.dataset.sort === view.sort));
  button.addEventListener("click", () => {
    view.sort = button.dataset.sort;
    localStorage.setItem(keys.sort, view.sort);
    for (const b of document.querySelectorAll("[data-sort]")) b.setAttribute("aria-pressed", String(b === button));
    render();
  });
}
$("#issues").addEventListener("keydown", (e) => {
  const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
  if (!step) return;
  const index = store.issues.findIndex((i) => i.id === view.issueId);
  const next = store.issues[(index + step + store.issues.length) % store.issues.length];
  pickIssue(next.id);
  $(`#tab-${next.id}`).focus();
});
store.addEventListener("change", render);
outbox.addEventListener("change", render);
setInterval(() => document.querySelectorAll(".q time").forEach((el) => { el.textContent = ago(el.getAttribute("datetime")); }), 30000);
start();
