// The moderator's console: triage with the keyboard, set the current issue, drive the screen.
import { $, fill, Store, ago, connect, errorMessage, h, renderList, showState, t } from "./live.js";

const app = $("#app");
const code = app.dataset.code;
const tokenKey = `qa:mod:${code}`;
const store = new Store();
const VIEWS = ["pending", "live", "answered", "dismissed"];
const view = { status: null, issue: "all", sort: "votes", search: "", selected: null, index: 0, editing: null };
let link = null;

// ---------------------------------------------------------------- the moderator session

/** Trade the key in the URL fragment for a session token; drop the key from the URL. */
async function moderatorToken() {
  const key = new URLSearchParams(location.hash.slice(1)).get("key");
  if (key) {
    history.replaceState(null, "", location.pathname + location.search);
    const res = await fetch(`/api/v1/events/${code}/moderator-session`, {
      method: "POST", headers: { Authorization: `Bearer ${key}` },
    });
    if (res.ok) localStorage.setItem(tokenKey, (await res.json()).token);
    else localStorage.removeItem(tokenKey);
  }
  return localStorage.getItem(tokenKey);
}

async function start() {
  let token = null;
  try { token = await moderatorToken(); } catch { /* offline: below */ }
  if (!token) return fail(t("err_mod_link"));
  link = connect({
    code, token, store,
    onState: (state) => showState($("#conn"), state),
    onPresence: (p) => { $("#presence").textContent = t("connected", { n: p.audience }); },
    onAuthError: () => { localStorage.removeItem(tokenKey); link.socket.disconnect(); fail(t("err_mod_link")); },
  });
}

function fail(message) {
  const el = $("#mod-error");
  el.textContent = message;
  el.hidden = false;
  showState($("#conn"), "offline");
}

// ---------------------------------------------------------------- what to show

function visible() {
  const words = view.search.trim().toLowerCase();
  const items = [...store.questions.values()].filter((q) =>
    q.status === view.status
    && (view.issue === "all" || q.issue_id === view.issue)
    && (!words || `${q.text} ${q.author_name || ""}`.toLowerCase().includes(words)));
  const age = (q) => Date.parse(q.created_at);
  const order = {
    votes: (a, b) => b.votes - a.votes || age(a) - age(b),
    time: (a, b) => age(a) - age(b),
    newest: (a, b) => age(b) - age(a),
  }[view.sort];
  return items.sort(order);
}

function counts(filter) {
  const n = Object.fromEntries(VIEWS.map((s) => [s, 0]));
  for (const q of store.questions.values()) if (filter(q) && q.status in n) n[q.status] += 1;
  return n;
}

function render() {
  if (!store.event) return;
  if (!view.status) view.status = store.event.settings.pre_moderation ? "pending" : "live";
  renderIssues();
  renderOnScreen();
  const n = counts((q) => view.issue === "all" || q.issue_id === view.issue);
  for (const button of document.querySelectorAll("[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view.status));
    $(".n", button).textContent = `(${n[button.dataset.view]})`;
  }
  const items = visible();
  if (!items.some((q) => q.id === view.selected)) {
    view.selected = items[Math.min(view.index, items.length - 1)]?.id ?? null;
  }
  view.index = Math.max(0, items.findIndex((q) => q.id === view.selected));
  const hadFocus = document.activeElement === document.body || $("#queue").contains(document.activeElement);
  renderList($("#queue"), items, { create: createRow, update: updateRow });
  $("#empty").hidden = items.length > 0;
  if (hadFocus && view.editing === null) focusSelected(false);
}

function renderIssues() {
  const current = store.event.current_issue_id;
  const entries = [{ id: "all", title: t("all_issues") }, ...store.issues];
  renderList($("#issue-list"), entries, {
    create: (issue) => h("li", { class: "issue-item" },
      h("button", { type: "button", class: "pick", onclick: () => { view.issue = issue.id; render(); } }),
      issue.id === "all" ? null : h("button", { type: "button", class: "small make-current", onclick: () => setIssue(issue.id) }, t("make_current"))),
    update: (el, issue) => {
      const n = counts((q) => issue.id === "all" || q.issue_id === issue.id);
      const pick = $(".pick", el);
      pick.setAttribute("aria-pressed", String(view.issue === issue.id));
      el.classList.toggle("current", issue.id === current);
      fill(pick, 
        h("span", { class: "title" }, issue.id === current ? h("span", { class: "badge now" }, t("current")) : null,
          issue.position !== undefined ? `${issue.position + 1}. ${issue.title}` : issue.title),
        h("span", { class: "counts" }, ...["pending", "live", "answered"].map((s) => h("span", {}, `${t(s)} ${n[s]}`))));
      const make = $(".make-current", el);
      if (make) make.hidden = issue.id === current;
    },
  });
}

function renderOnScreen() {
  const q = store.questions.get(store.event.on_screen_question_id);
  $("#onscreen").textContent = q ? q.text : t("nothing_on_screen");
  $("#clear-screen").hidden = !q;
}

// ---------------------------------------------------------------- a question row

function createRow(q) {
  const el = h("li", { class: "q", tabindex: "-1", onclick: (e) => { if (e.target === el || !e.target.closest("button,select,textarea")) select(q.id, false); } },
    h("div", { class: "votes" }), h("div", { class: "q-body" }, h("p", { class: "q-text" }), h("p", { class: "q-meta" })),
    h("div", { class: "actions" }));
  return el;
}

function updateRow(el, q) {
  const onScreen = store.event.on_screen_question_id === q.id;
  const issue = store.issue(q.issue_id);
  const speaker = q.addressed_to ? store.speaker(q.addressed_to) : null;
  el.classList.toggle("selected", q.id === view.selected);
  el.classList.toggle("onscreen", onScreen);
  el.setAttribute("aria-current", q.id === view.selected ? "true" : "false");
  fill($(".votes", el), String(q.votes), h("small", {}, t("votes")));
  fill($(".q-meta", el), 
    h("span", { class: "author" }, q.author_name || t("anonymous")),
    speaker ? h("span", {}, "→ " + speaker.name) : null,
    issue ? h("span", {}, t("issue_n", { n: issue.position + 1 })) : null,
    h("time", { datetime: q.created_at }, ago(q.created_at)),
    onScreen ? h("span", { class: "badge onair" }, t("on_screen")) : null);
  const editing = view.editing === q.id;
  const sig = `${q.status}|${onScreen}|${editing}|${q.issue_id}|${store.issues.length}`;
  if (!editing) $(".q-text", el).textContent = q.text;
  if (el.dataset.sig !== sig) {
    el.dataset.sig = sig;
    fill($(".actions", el), ...actionsFor(q, onScreen));
    if (editing) openEditor(el, q);
  }
}

function actionsFor(q, onScreen) {
  const act = (label, fn, keyHint) => h("button", { type: "button", class: "small", "aria-keyshortcuts": keyHint, onclick: () => { select(q.id, false); fn(q); } }, label);
  const move = h("select", { "aria-label": t("move_to"), onchange: (e) => moveTo(q, Number(e.target.value)) },
    ...store.issues.map((issue) => h("option", { value: issue.id, selected: issue.id === q.issue_id }, `${issue.position + 1}. ${issue.title.slice(0, 40)}`)));
  return [
    q.status !== "live" && q.status !== "answered" && act(t("approve"), approve, "a"),
    q.status !== "dismissed" && act(t("dismiss"), dismiss, "d"),
    q.status === "live" && act(t("mark_answered"), answered, "x"),
    q.status === "answered" && act(t("reopen"), approve, "a"),
    act(t("edit"), edit, "e"),
    q.status !== "dismissed" && act(onScreen ? t("hide") : t("show"), toggleScreen, "s"),
    move,
  ].filter(Boolean);
}

function openEditor(el, q) {
  const area = h("textarea", { "aria-label": t("edit") });
  area.value = q.text;
  const save = () => { view.editing = null; moderate(q, { text: area.value.trim() }); render(); };
  const cancel = () => { view.editing = null; el.dataset.sig = ""; render(); focusSelected(); };
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); save(); }
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); cancel(); }
  });
  fill($(".q-text", el), h("span", { class: "edit-box" }, area,
    h("span", { class: "row" }, h("button", { type: "button", class: "small primary", onclick: save }, t("save")),
      h("button", { type: "button", class: "small", onclick: cancel }, t("cancel")))));
  area.focus();
}

// ---------------------------------------------------------------- actions

async function moderate(q, change) {
  const ack = await link.call("moderate", { question_id: q.id, ...change });
  if (ack.ok) { store.mergeRow(ack.question); store.changed(); } else toast(errorMessage(ack.error));
  return ack;
}

const approve = (q) => moderate(q, { status: "live" });
const dismiss = (q) => moderate(q, { status: "dismissed" });
const answered = (q) => moderate(q, { status: q.status === "answered" ? "live" : "answered" });
const edit = (q) => { view.editing = q.id; render(); };

async function moveTo(q, issueId) {
  if (!store.issue(issueId) || issueId === q.issue_id) return;
  const ack = await moderate(q, { issue_id: issueId });
  if (ack.ok) toast(t("moved", { n: store.issue(issueId).position + 1 }));
}

async function toggleScreen(q) {
  const id = store.event.on_screen_question_id === q.id ? null : q.id;
  const ack = await link.call("show", { question_id: id });
  if (!ack.ok) return toast(errorMessage(ack.error));
  store.event = { ...store.event, on_screen_question_id: id };
  store.changed();
}

async function setIssue(issueId) {
  const ack = await link.call("set_issue", { issue_id: issueId });
  if (!ack.ok) return toast(errorMessage(ack.error));
  store.event = { ...store.event, current_issue_id: issueId };
  store.changed();
}

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.textContent = ""; }, 3000);
}

// ---------------------------------------------------------------- the keyboard

function select(id, focus = true) {
  view.selected = id;
  render();
  if (focus) focusSelected();
}

function focusSelected(scroll = true) {
  const el = $(`#queue [data-key="${view.selected}"]`);
  if (!el) return;
  if (document.activeElement !== el) el.focus({ preventScroll: !scroll });
  if (scroll) el.scrollIntoView({ block: "nearest" });
}

function step(delta) {
  const items = visible();
  if (!items.length) return;
  const index = items.findIndex((q) => q.id === view.selected);
  const next = items[Math.min(items.length - 1, Math.max(0, index + delta))];
  select(next.id);
}

const KEYS = {
  j: () => step(1), ArrowDown: () => step(1), k: () => step(-1), ArrowUp: () => step(-1),
  a: (q) => q && approve(q), d: (q) => q && dismiss(q), x: (q) => q && answered(q),
  e: (q) => q && edit(q), s: (q) => q && toggleScreen(q),
  v: () => { view.status = VIEWS[(VIEWS.indexOf(view.status) + 1) % VIEWS.length]; view.index = 0; render(); },
  "/": () => $("#search").focus(),
  "?": () => $("#keys").showModal(),
};

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || $("#keys").open) return;
  if (e.target.closest("input, textarea, select")) {
    if (e.key === "Escape" && e.target.id === "search") { e.target.blur(); focusSelected(); }
    return;
  }
  const q = store.questions.get(view.selected);
  const digit = /^Digit([1-9])$/.exec(e.code);
  if (digit && e.shiftKey) {
    view.issue = store.issues[Number(digit[1]) - 1]?.id ?? "all";
  } else if (digit) {
    if (q && store.issues[Number(digit[1]) - 1]) moveTo(q, store.issues[Number(digit[1]) - 1].id);
  } else if (KEYS[e.key]) {
    KEYS[e.key](q);
  } else return;
  e.preventDefault();
  render();
}

// ---------------------------------------------------------------- wiring

document.addEventListener("keydown", onKey);
for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => { view.status = button.dataset.view; view.index = 0; render(); });
}
$("#sort").addEventListener("change", (e) => { view.sort = e.target.value; render(); });
$("#search").addEventListener("input", (e) => { view.search = e.target.value; render(); });
$("#help").addEventListener("click", () => $("#keys").showModal());
$("#clear-screen").addEventListener("click", async () => {
  const ack = await link.call("show", { question_id: null });
  if (!ack.ok) return toast(errorMessage(ack.error));
  store.event = { ...store.event, on_screen_question_id: null };
  store.changed();
});
store.addEventListener("change", render);
setInterval(() => document.querySelectorAll(".q time").forEach((el) => { el.textContent = ago(el.getAttribute("datetime")); }), 30000);
start();
