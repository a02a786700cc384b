// The moderator's console: triage with the keyboard, merge, ban, undo, set the current issue,
// drive the screen and the event's switches.
import { $, fill, Store, ago, connect, errorMessage, h, renderList, showState, t, tn } from "./live.js";
import { initScreenControls } from "./screen-controls.js";
import { initTeam } from "./team.js";

const app = $("#app");
const code = app.dataset.code;
const organiser = app.dataset.organiser || "";
const tokenKey = `qa:mod:${code}`;
const notDupKey = `qa:notdup:${code}`;
const store = new Store();
const VIEWS = ["pending", "live", "answered", "dismissed"];
const SETTINGS = ["pre_moderation", "questions_open", "voting_open", "anonymous_allowed"];
const UNDO_MS = Number(app.dataset.undoSeconds) * 1000;  // the server's QA_UNDO_SECONDS
const CONFIRM_MS = 3000;
const view = {
  status: null, issue: null, sort: "votes", search: "", selected: null, index: 0, editing: null,
  asker: null, openAsker: null,
};
const marked = new Set();                 // questions picked for a merge
let notDuplicate = new Set(JSON.parse(localStorage.getItem(notDupKey) || "[]"));
let blocklist = { phrases: [], builtin: [] };
let armed = null;                         // {id, at}: a pending question pressed once for the screen
let undoable = null;                      // {action_id, until}
let link = null;
let team = null;                          // who else moderates, who edits what (team.js)

// ---------------------------------------------------------------- the moderator session

/** Trade the key in the URL fragment for a session token; drop the key from the URL. */
async function moderatorToken() {
  const key = new URLSearchParams(location.hash.slice(1)).get("key");
  if (key) {
    const res = await fetch(`/api/v1/events/${code}/moderator-session`, {
      method: "POST", headers: { Authorization: `Bearer ${key}` },
    });
    // only a clear answer about the key settles it; the server not able to answer now is not
    // a bad link (the key stays in the URL for the next try)
    if (!res.ok && res.status !== 401) throw new Error(`moderator-session: ${res.status}`);
    history.replaceState(null, "", location.pathname + location.search);
    if (res.ok) localStorage.setItem(tokenKey, (await res.json()).token);
    else localStorage.removeItem(tokenKey);
  }
  return localStorage.getItem(tokenKey);
}

async function start() {
  let token = null;
  if (!organiser) {  // a logged-in organiser connects with the session cookie, no token
    try {
      token = await moderatorToken();
    } catch {  // offline or the server not answering: try again, do not call the link bad
      token = localStorage.getItem(tokenKey);
      if (!token) {
        showState($("#conn"), "offline");
        setTimeout(start, 3000);
        return;
      }
    }
    if (!token) return badLink();
  }
  link = connect({
    code, token, store,
    onState: (state) => showState($("#conn"), state),
    onPresence: showPresence,
    onAuthError: () => {
      if (!organiser) localStorage.removeItem(tokenKey);
      badLink();
    },
  });
  const keepBlocklist = (data) => { if (data.blocklist) blocklist = data.blocklist; };
  link.socket.on("snapshot", keepBlocklist);
  link.socket.on("update", keepBlocklist);  // another moderator or /admin changed it
  team = initTeam({ link, store, el: $("#team") });
  initScreenControls({ link, store, fail: (error) => toast(errorMessage(error), 4000, false, true) });
}

// ---------------------------------------------------------------- the report

/** The Report button posts this console's moderator session (an organiser's login cookie needs
 * none): the report opens in a new tab with a cookie of its own, for the report only. */
$("#report-form")?.addEventListener("submit", () => {
  $("#report-token").value = organiser ? "" : (localStorage.getItem(tokenKey) || "");
});

let linkGone = false;

/** The link (or the organiser's session) is not valid: the whole page says so and what to do,
 * instead of an empty console under an "Offline" badge. */
function badLink() {
  if (linkGone) return;
  linkGone = true;
  link?.close();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  const langs = $(".langs");
  document.body.replaceChildren(
    h("header", { class: "topbar" }, langs),
    h("main", { class: "narrow bad-link", id: "bad-link" },
      h("h1", {}, t("bad_link_title")),
      h("p", { role: "alert" }, t("err_mod_link")),
      h("p", {}, h("a", { href: "/admin/login" }, t("bad_link_organiser")))));
}

/** A moderator action was refused: say why, in the page's language (offline: it was not
 * done; a link that stopped working: the whole page says so). */
function refused(error) {
  if (error?.code === "unauthorized") return badLink();
  toast(errorMessage(error), 5000, false, true);
}

// ---------------------------------------------------------------- several moderators

function showPresence(p) {
  $("#presence").textContent = tn("connected", p.audience);
}

/** Tell the other moderators which question this console edits (null: none). */
function sendEditing(questionId) {
  team?.editing(questionId);
}

// ---------------------------------------------------------------- what to show

/** The issue shown: the one picked, else the current issue (followed as it changes), else all. */
function shownIssue() {
  if (view.issue !== null) return view.issue;
  return store.event?.current_issue_id ?? "all";
}

const inIssue = (q) => view.asker !== null || shownIssue() === "all" || q.issue_id === shownIssue();

/** The view a question is listed in: a question its asker withdrew is under Dismissed. */
const listedIn = (q) => (q.status === "withdrawn" ? "dismissed" : q.status);

function visible() {
  const words = view.search.trim().toLowerCase();
  const items = [...store.questions.values()].filter((q) =>
    listedIn(q) === view.status && inIssue(q)
    && (view.asker === null || q.asker === view.asker)
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
  for (const q of store.questions.values()) if (filter(q) && listedIn(q) in n) n[listedIn(q)] += 1;
  return n;
}

/** The asker's questions (not merged away), newest first. */
function askerQuestions(asker) {
  if (!asker) return [];
  return [...store.questions.values()].filter((q) => q.asker === asker && q.status !== "merged")
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

/** The first suggested duplicate of q still worth merging into (not hidden by "not a duplicate"). */
function suggestion(q) {
  for (const id of q.similar_to || []) {
    const other = store.questions.get(id);
    if (other && other.id !== q.id && ["pending", "live", "answered"].includes(other.status)
      && !notDuplicate.has(`${q.id}:${id}`)) return other;
  }
  return null;
}

function render() {
  if (!store.event || linkGone) return;
  if (!view.status) view.status = store.event.settings.pre_moderation ? "pending" : "live";
  for (const id of marked) if (!["pending", "live", "answered", "dismissed"].includes(store.questions.get(id)?.status)) marked.delete(id);
  renderSwitches();
  renderIssues();
  renderOnScreen();
  renderTools();
  const n = counts((q) => inIssue(q) && (view.asker === null || q.asker === view.asker));
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

function renderSwitches() {
  for (const box of document.querySelectorAll("[data-setting]")) {
    box.disabled = false;
    if (!box.dataset.busy) box.checked = Boolean(store.event.settings[box.dataset.setting]);
  }
}

function renderTools() {
  const issue = shownIssue();
  const label = issue === "all" ? t("all_issues") : t("issue_n", { n: (store.issue(issue)?.position ?? 0) + 1 });
  $("#view-issue").textContent = view.asker !== null ? "" : (view.issue === null && issue !== "all" ? `${label} · ${t("current")}` : label);
  const chip = $("#asker-filter");
  chip.hidden = view.asker === null;
  if (view.asker !== null) chip.textContent = `${t("only_asker")} ✕`;
  $("#marked").hidden = marked.size === 0;
  $("#marked-n").textContent = tn("n_selected", marked.size);
}

function renderIssues() {
  const current = store.event.current_issue_id;
  const shown = shownIssue();
  const entries = [{ id: "all", title: t("all_issues") }, ...store.issues];
  renderList($("#issue-list"), entries, {
    create: (issue) => h("li", { class: "issue-item" },
      h("button", { type: "button", class: "pick", onclick: () => pickIssue(issue.id) }),
      issue.id === "all" ? null : h("button", { type: "button", class: "small make-current", onclick: () => setIssue(issue.id) }, t("make_current"))),
    update: (el, issue) => {
      const n = counts((q) => issue.id === "all" || q.issue_id === issue.id);
      const pick = $(".pick", el);
      pick.setAttribute("aria-pressed", String(shown === issue.id));
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

/** Show one issue (or all); picking the current issue follows it again. */
function pickIssue(id) {
  view.issue = id === store.event?.current_issue_id ? null : id;
  view.asker = null;
  view.index = 0;
  view.selected = null;
  render();
}

function renderOnScreen() {
  const q = store.questions.get(store.event.on_screen_question_id);
  $("#onscreen").textContent = q ? q.text : t("nothing_on_screen");
  $("#clear-screen").hidden = !q;
}

// ---------------------------------------------------------------- a question row

function createRow(q) {
  const el = h("li", {
    class: "q", tabindex: "-1",
    onclick: (e) => {
      if (e.target.closest("button,select,textarea,input,a")) return;
      if (e.shiftKey) { e.preventDefault(); toggleMark(q.id); } else select(q.id, false);
    },
    onmouseenter: () => ensureActions(el, store.questions.get(q.id)),
  },
  h("input", { type: "checkbox", class: "mark", "aria-label": t("select_for_merge"), onchange: () => toggleMark(q.id) }),
  h("div", { class: "votes" }),
  h("div", { class: "q-body" }, h("p", { class: "q-text" }), h("p", { class: "q-notes" })),
  h("p", { class: "q-meta" }),
  h("div", { class: "actions" }),
  h("div", { class: "details" }));
  return el;
}


// The issues' and speakers' ids and names, as one string: a row's actions (the "move to issue"
// and addressee menus) are redrawn when the programme is edited, not only when it grows.
let programmeCache = { issues: null, speakers: null, key: "" };
function programmeKey() {
  if (programmeCache.issues !== store.issues || programmeCache.speakers !== store.speakers) {
    const key = [...store.issues.map((i) => `${i.id}:${i.title}`), ...store.speakers.map((sp) => `${sp.id}:${sp.name}`)];
    programmeCache = { issues: store.issues, speakers: store.speakers, key: key.join("\u0001") };
  }
  return programmeCache.key;
}

function updateRow(el, q) {
  const onScreen = store.event.on_screen_question_id === q.id;
  const issue = store.issue(q.issue_id);
  const speaker = q.addressed_to ? store.speaker(q.addressed_to) : null;
  const selected = q.id === view.selected;
  el.classList.toggle("selected", selected);
  el.classList.toggle("onscreen", onScreen);
  el.classList.toggle("marked", marked.has(q.id));
  el.setAttribute("aria-current", selected ? "true" : "false");
  $(".mark", el).checked = marked.has(q.id);
  fill($(".votes", el), String(q.votes), h("small", {}, tn("votes", q.votes)));
  fill($(".q-meta", el),
    h("span", { class: "author" }, q.author_name || t("anonymous")),
    speaker ? h("span", { class: "to" }, "→ " + speaker.name) : null,
    issue && shownIssue() === "all" || issue && view.asker !== null || issue && q.issue_id !== shownIssue() ? h("span", {}, t("issue_n", { n: issue.position + 1 })) : null,
    h("span", { class: "qid" }, `#${q.id}`),
    h("time", { datetime: q.created_at }, ago(q.created_at)),
    onScreen ? h("span", { class: "badge onair" }, t("on_screen")) : null);
  const dup = suggestion(q);
  fill($(".q-notes", el),
    q.status === "withdrawn" ? h("span", { class: "badge held" }, t("withdrawn_by_asker")) : null,
    q.held_reason ? h("span", { class: "badge held" }, t("held", { reason: q.held_reason })) : null,
    dup ? h("span", { class: "badge dup" }, t("possible_duplicate", { id: dup.id, text: clip(dup.text, 60) })) : null);
  team?.markRow(el, q.id);
  const editing = view.editing === q.id;
  if (!editing) $(".q-text", el).textContent = q.text;
  const sig = [q.status, onScreen, editing, q.issue_id, q.addressed_to, programmeKey(),
    dup?.id, armed?.id === q.id, askerQuestions(q.asker).length, view.openAsker === q.id, view.asker].join("|");
  if (selected || el.dataset.sig) {
    if (el.dataset.sig !== sig) {
      el.dataset.sig = sig;
      fill($(".actions", el), ...actionsFor(q, onScreen, dup));
      fill($(".details", el), ...detailsFor(q));
      if (editing) openEditor(el, q);
    }
  }
}

/** Build the actions of a row the first time the pointer comes over it. */
function ensureActions(el, q) {
  if (!q || el.dataset.sig) return;
  el.dataset.sig = "-";
  updateRow(el, q);
}

const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

function actionsFor(q, onScreen, dup) {
  if (q.status === "withdrawn") return [];  // the asker took it back: nothing to do with it
  const act = (label, fn, keyHint, cls = "small") => h("button", { type: "button", class: cls, "aria-keyshortcuts": keyHint, onclick: () => { select(q.id, false); fn(q); } }, label);
  const move = h("select", { class: "move", "aria-label": t("move_to"), onchange: (e) => moveTo(q, Number(e.target.value)) },
    ...store.issues.map((issue) => h("option", { value: issue.id, selected: issue.id === q.issue_id }, `${issue.position + 1}. ${clip(issue.title, 28)}`)));
  const panelists = store.speakers.filter((s) => s.role === "panelist");
  const to = h("select", { class: "to", "aria-label": t("addressed_to"), onchange: (e) => readdress(q, e.target.value ? Number(e.target.value) : null) },
    h("option", { value: "", selected: !q.addressed_to }, t("all_panelists")),
    ...panelists.map((s) => h("option", { value: s.id, selected: s.id === q.addressed_to }, s.name)));
  const screenLabel = onScreen ? t("hide") : (armed?.id === q.id ? t("press_again_short") : t("show"));
  return [
    q.status !== "live" && q.status !== "answered" && act(t("approve"), approve, "a", "small quick"),
    q.status !== "dismissed" && act(t("dismiss"), dismiss, "d", "small quick"),
    q.status === "live" && act(t("mark_answered"), answered, "x", "small quick"),
    q.status === "answered" && act(t("reopen"), approve, "a", "small quick"),
    act(t("edit"), edit, "e"),
    q.status !== "dismissed" && act(screenLabel, toggleScreen, "s", "small quick"),
    dup && act(t("merge_into_n", { id: dup.id }), mergeIntoSuggestion, "Shift+M"),
    dup && act(t("not_duplicate"), notADuplicate, "n"),
    act(t("merge_into"), openMerge, "m"),
    move, to,
    q.asker && act(t("ban_asker"), banAsker, "b", "small danger"),
  ].filter(Boolean);
}

function detailsFor(q) {
  const theirs = askerQuestions(q.asker);
  if (!q.asker || q.id !== view.selected) return [];
  const open = view.openAsker === q.id;
  return [
    h("button", { type: "button", class: "link asker-count", "aria-expanded": String(open),
      onclick: () => { view.openAsker = open ? null : q.id; render(); } }, tn("this_asker", theirs.length)),
    h("button", { type: "button", class: "link", "aria-keyshortcuts": "f", onclick: () => filterAsker(q) },
      view.asker === q.asker ? t("everyones_questions") : t("only_these")),
    open ? h("ol", { class: "asker-list" }, ...theirs.map((other) => h("li", {},
      h("span", { class: `badge st-${other.status}` }, t(other.status === "withdrawn" ? "withdrawn_by_asker" : other.status)), " ", other.text))) : null,
  ];
}

function openEditor(el, q) {
  const area = h("textarea", { "aria-label": t("edit") });
  area.value = q.text;
  const close = () => { view.editing = null; sendEditing(null); };
  const save = () => { close(); moderate(q, { text: area.value.trim() }, t("did_edit")); render(); };
  const cancel = () => { close(); el.dataset.sig = ""; render(); focusSelected(); };
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

/** Send a change; on success apply it and offer to undo it under `label`. */
async function moderate(q, change, label) {
  const ack = await link.call("moderate", { question_id: q.id, ...change });
  if (ack.ok) {
    store.mergeRow(ack.question);
    store.changed();
    if (label) offerUndo(label, ack.action_id);
  } else refused(ack.error);
  return ack;
}

const approve = (q) => moderate(q, { status: "live" }, q.status === "answered" ? t("did_reopen") : t("did_approve"));
const dismiss = (q) => moderate(q, { status: "dismissed" }, t("did_dismiss"));
const answered = (q) => (q.status === "answered"
  ? moderate(q, { status: "live" }, t("did_reopen"))
  : moderate(q, { status: "answered" }, t("did_answer")));
const edit = (q) => { view.editing = q.id; sendEditing(q.id); render(); };
const readdress = (q, speakerId) => moderate(q, { addressed_to: speakerId }, t("did_readdress"));

async function moveTo(q, issueId) {
  if (!store.issue(issueId) || issueId === q.issue_id) return;
  await moderate(q, { issue_id: issueId }, t("moved", { n: store.issue(issueId).position + 1 }));
}

async function toggleScreen(q) {
  const id = store.event.on_screen_question_id === q.id ? null : q.id;
  if (id !== null && q.status === "pending") {
    if (!armed || armed.id !== q.id || Date.now() - armed.at > CONFIRM_MS) {
      armed = { id: q.id, at: Date.now() };
      toast(t("press_again"), CONFIRM_MS);
      setTimeout(() => { if (armed?.id === q.id && Date.now() - armed.at >= CONFIRM_MS) { armed = null; render(); } }, CONFIRM_MS + 50);
      render();
      return;
    }
  }
  armed = null;
  await show(id);
}

async function show(id) {
  const ack = await link.call("show", { question_id: id });
  if (!ack.ok) return refused(ack.error);
  store.event = { ...store.event, on_screen_question_id: id };
  store.changed();
  offerUndo(id === null ? t("did_hide") : t("did_show"), ack.action_id);
}

async function setIssue(issueId) {
  const ack = await link.call("set_issue", { issue_id: issueId });
  if (!ack.ok) return refused(ack.error);
  store.event = { ...store.event, current_issue_id: issueId };
  if (view.issue === issueId) view.issue = null;
  store.changed();
}

// merging

/** The questions a merge would take: the marked ones, or else the selected one. */
function mergeSources() {
  if (marked.size) return [...marked];
  return view.selected === null ? [] : [view.selected];
}

function openMerge() {
  const sources = mergeSources();
  if (!sources.length) return;
  const sel = store.questions.get(view.selected);
  // the target: the selected row when it is not itself merged, else a suggestion, else the top question
  const candidates = [...store.questions.values()]
    .filter((q) => ["pending", "live", "answered"].includes(q.status))
    .sort((a, b) => b.votes - a.votes);
  let target = sel && (marked.size > 1 || !sources.includes(sel.id)) ? sel : null;
  if (!target) {
    const first = store.questions.get(sources[0]);
    target = (first && suggestion(first)) || candidates.find((q) => !sources.includes(q.id) && q.issue_id === first?.issue_id) || null;
  }
  const options = candidates.filter((q) => !sources.includes(q.id) || q.id === target?.id);
  if (!options.length) return toast(t("nothing_to_merge_into"));
  fill($("#merge-target"), ...options.map((q) => h("option", { value: q.id, selected: q.id === target?.id },
    `#${q.id} · ${q.votes} · ${clip(q.text, 90)}`)));
  const others = sources.filter((id) => id !== Number($("#merge-target").value));
  $("#merge-what").textContent = tn("merge_what", others.length);
  $("#merge-dialog").showModal();
  $("#merge-target").focus();
}

async function mergeInto(sources, into) {
  const ids = sources.filter((id) => id !== into);
  if (!ids.length) return;
  const ack = await link.call("merge", ids.length === 1 ? { question_id: ids[0], into } : { question_ids: ids, into });
  if (!ack.ok) return refused(ack.error);
  store.mergeRow(ack.question);
  for (const id of ack.merged || ids) {
    const q = store.questions.get(id);
    if (q && q.status !== "merged") store.questions.set(id, { ...q, status: "merged", merged_into: into });
    marked.delete(id);
  }
  marked.delete(into);
  view.selected = into;
  store.changed();
  offerUndo(tn("did_merge", ids.length), ack.action_id);
}

function mergeIntoSuggestion(q) {
  const dup = suggestion(q);
  if (dup) mergeInto([q.id], dup.id);
}

function notADuplicate(q) {
  const dup = suggestion(q);
  if (!dup) return;
  notDuplicate.add(`${q.id}:${dup.id}`);
  localStorage.setItem(notDupKey, JSON.stringify([...notDuplicate].slice(-500)));
  render();
}

function toggleMark(id) {
  if (marked.has(id)) marked.delete(id); else marked.add(id);
  render();
}

// bans

async function banAsker(q) {
  if (!q.asker) return;
  const ok = await confirmDialog(tn("ban_confirm", askerQuestions(q.asker).length), t("ban_asker"));
  if (!ok) return;
  const ack = await link.call("ban", { question_id: q.id });
  if (!ack.ok) return refused(ack.error);
  for (const id of ack.dismissed || []) {
    const row = store.questions.get(id);
    if (row && row.status === "pending") store.questions.set(id, { ...row, status: "dismissed" });
  }
  store.changed();
  offerUndo(t("did_ban"), ack.action_id);
}

async function openBans() {
  $("#bans-dialog").showModal();
  const ack = await link.call("bans", {});
  if (!ack.ok) return fill($("#bans-list"), h("li", { class: "error" }, errorMessage(ack.error)));
  $("#bans-empty").hidden = ack.banned.length > 0;
  fill($("#bans-list"), ...ack.banned.map((b) => h("li", {},
    h("span", { class: "who" }, b.name || t("anonymous")), " ",
    h("span", { class: "muted" }, clip(b.text || "", 80)), " ",
    h("button", { type: "button", class: "small", onclick: async (e) => {
      const answer = await link.call("unban", { question_id: b.question_id });
      if (!answer.ok) return refused(answer.error);
      e.target.closest("li").remove();
      $("#bans-empty").hidden = $("#bans-list").children.length > 0;
      toast(t("did_unban"));
    } }, t("unban")))));
}

function filterAsker(q) {
  view.asker = view.asker === null && q?.asker ? q.asker : null;
  view.index = 0;
  render();
}

// the blocklist

async function openBlocklist() {
  if (link) {
    const ack = await link.call("sync", { since: store.version });
    if (ack.ok && ack.blocklist) blocklist = ack.blocklist;
  }
  $("#blocklist-phrases").value = (blocklist.phrases || []).join("\n");
  for (const box of document.querySelectorAll("[data-builtin]")) box.checked = (blocklist.builtin || []).includes(box.dataset.builtin);
  $("#blocklist-dialog").showModal();
}

async function saveBlocklist() {
  const phrases = $("#blocklist-phrases").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const builtin = [...document.querySelectorAll("[data-builtin]")].filter((b) => b.checked).map((b) => b.dataset.builtin);
  const ack = await link.call("set_blocklist", { phrases, builtin });
  if (!ack.ok) return refused(ack.error);
  blocklist = ack.blocklist;
  toast(t("saved"));
}

// the event's switches

async function changeSetting(box) {
  const value = box.checked;
  box.dataset.busy = "1";
  const ack = await link.call("settings", { [box.dataset.setting]: value });
  delete box.dataset.busy;
  if (!ack.ok) {
    box.checked = !value;
    return refused(ack.error);
  }
  if (ack.event && (!store.event || ack.event.rev >= store.event.rev)) store.event = ack.event;
  else store.event = { ...store.event, settings: { ...store.event.settings, [box.dataset.setting]: value } };
  store.changed();
}

// undo and the toast

function offerUndo(label, actionId) {
  if (!actionId) return toast(label);
  undoable = { action_id: actionId, until: Date.now() + UNDO_MS };
  toast(t("undo_toast", { what: label }), UNDO_MS, true);
}

async function undo() {
  if (!undoable) return;
  const { action_id: actionId } = undoable;
  undoable = null;
  const ack = await link.call("undo", { action_id: actionId });
  if (ack.ok) toast(t("undone"));
  else refused(ack.error);
}

function toast(text, ms = 3000, withUndo = false, isError = false) {
  const el = $("#toast");
  $("#toast-text").textContent = text;
  $("#toast-undo").hidden = !withUndo;
  el.classList.toggle("bad", isError);
  el.hidden = false;
  if (!withUndo) undoable = null;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; if (withUndo) undoable = null; }, ms);
}

/** A yes/no question in a dialog; resolves true when confirmed. */
function confirmDialog(text, okLabel) {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-ok").focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
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
  " ": (q) => q && toggleMark(q.id),
  m: () => openMerge(), M: (q) => q && mergeIntoSuggestion(q), n: (q) => q && notADuplicate(q),
  z: () => undo(), b: (q) => q && banAsker(q), f: (q) => filterAsker(q),
  c: () => { view.issue = null; view.asker = null; view.index = 0; },
  v: () => { view.status = VIEWS[(VIEWS.indexOf(view.status) + 1) % VIEWS.length]; view.index = 0; render(); },
  "/": () => $("#search").focus(),
  "?": () => $("#keys").showModal(),
  Escape: () => { if (marked.size) marked.clear(); else if (view.asker !== null) view.asker = null; },
};

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]")) return;
  const box = e.target.matches?.("input[type=checkbox]");
  if (box && (e.key === " " || e.key === "Enter")) return;  // the checkbox's own keys
  if (!box && e.target.closest("input, textarea, select")) {
    if (e.key === "Escape" && e.target.id === "search") { e.target.blur(); focusSelected(); }
    return;
  }
  const q = store.questions.get(view.selected);
  const digit = /^Digit([0-9])$/.exec(e.code);
  if (digit && e.shiftKey) {
    const issue = store.issues[Number(digit[1]) - 1];
    pickIssue(issue ? issue.id : "all");
  } else if (digit && digit[1] !== "0") {
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
for (const box of document.querySelectorAll("[data-setting]")) box.addEventListener("change", () => changeSetting(box));
$("#sort").addEventListener("change", (e) => { view.sort = e.target.value; render(); });
$("#search").addEventListener("input", (e) => { view.search = e.target.value; render(); });
$("#help").addEventListener("click", () => $("#keys").showModal());
$("#open-bans").addEventListener("click", openBans);
$("#open-blocklist").addEventListener("click", openBlocklist);
$("#blocklist-dialog").addEventListener("close", () => { if ($("#blocklist-dialog").returnValue === "save") saveBlocklist(); });
$("#merge-marked").addEventListener("click", openMerge);
$("#unmark").addEventListener("click", () => { marked.clear(); render(); });
$("#asker-filter").addEventListener("click", () => filterAsker(null));
$("#toast-undo").addEventListener("click", undo);
$("#merge-target").addEventListener("change", () => {
  const n = mergeSources().filter((id) => id !== Number($("#merge-target").value)).length;
  $("#merge-what").textContent = tn("merge_what", n);
});
$("#merge-target").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); $("#merge-dialog").close("merge"); }
});
$("#merge-dialog").addEventListener("close", () => {
  if ($("#merge-dialog").returnValue === "merge") mergeInto(mergeSources(), Number($("#merge-target").value));
  $("#merge-dialog").returnValue = "";
  focusSelected();
});
$("#clear-screen").addEventListener("click", () => show(null));
store.addEventListener("change", render);
setInterval(() => document.querySelectorAll(".q time").forEach((el) => { el.textContent = ago(el.getAttribute("datetime")); }), 30000);
start();
