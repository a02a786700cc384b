// Shared by every page: strings, DOM helpers, the socket, the rev-based store, the outbox,
// the connection state and a keyed list renderer with gentle animations.
import { io } from "../vendor/socket.io.esm.min.js";  // relative: same versioned path

// ---------------------------------------------------------------- strings

const STRINGS = JSON.parse(document.getElementById("strings")?.textContent || "{}");

const PLURAL = new Intl.PluralRules(document.documentElement.lang || "en");

/** The translated string for key, with %(name)s placeholders filled from vars. */
export function t(key, vars = {}) {
  const text = STRINGS[key] ?? key;
  if (typeof text === "object") return tn(key, Number(vars.n ?? 0), vars);
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(vars[name] ?? ""));
}

/** The form of a counted string (i18n.Plural) that the page's language uses for n, filled with
 * n as %(n)s and with vars. */
export function tn(key, n, vars = {}) {
  const forms = STRINGS[key];
  if (!forms || typeof forms !== "object") return t(key, { n, ...vars });
  const text = forms[PLURAL.select(n)] ?? forms.other ?? Object.values(forms).at(-1);
  return text.replace(/%\((\w+)\)s/g, (_, name) => String({ n, ...vars }[name] ?? ""));
}

// ---------------------------------------------------------------- DOM helpers

/** Build an element: h("button", {class: "x", onclick: fn}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replace el's children, skipping empty ones (null, undefined, false). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false && c !== ""));
  return el;
}

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

/**
 * Render items into list, keyed by id: reuse elements, update them in place, reorder them,
 * and slide moved ones to their new place (FLIP) so nothing jumps.
 */
export function renderList(list, items, { create, update, key = (item) => item.id }) {
  const old = new Map([...list.children].map((el) => [el.dataset.key, el]));
  const before = new Map();
  for (const [k, el] of old) before.set(k, el.getBoundingClientRect().top);
  const wanted = items.map((item) => {
    const k = String(key(item));
    let el = old.get(k);
    if (!el) {
      el = create(item);
      el.dataset.key = k;
      el.classList.add("entering");
    }
    update(el, item);
    old.delete(k);
    return el;
  });
  for (const el of old.values()) el.remove();
  wanted.forEach((el, index) => {
    if (list.children[index] !== el) list.insertBefore(el, list.children[index] || null);
  });
  if (reducedMotion.matches) return;
  for (const el of wanted) {
    const top = before.get(el.dataset.key);
    if (el.classList.contains("entering")) {
      el.classList.remove("entering");
      el.animate?.([{ opacity: 0, transform: "translateY(-6px)" }, { opacity: 1, transform: "none" }],
        { duration: 260, easing: "ease-out" });
    } else if (top !== undefined) {
      const delta = top - el.getBoundingClientRect().top;
      if (Math.abs(delta) > 1) {
        el.animate?.([{ transform: `translateY(${delta}px)` }, { transform: "none" }],
          { duration: 320, easing: "ease-in-out" });
      }
    }
  }
}

/** A short relative time ("3 min") in the page's language. */
export function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const rtf = new Intl.RelativeTimeFormat(document.documentElement.lang, { numeric: "auto", style: "short" });
  if (seconds < 60) return rtf.format(0, "second");
  if (seconds < 3600) return rtf.format(-Math.floor(seconds / 60), "minute");
  return rtf.format(-Math.floor(seconds / 3600), "hour");
}

// ---------------------------------------------------------------- the store

/** The state of one event as this client may see it; rows merge by rev. */
export class Store extends EventTarget {
  constructor(persistKey = null) {
    super();
    this.persistKey = persistKey;
    this.version = 0;
    this.event = null;
    this.issues = [];
    this.speakers = [];
    this.questions = new Map();
    this.restore();
  }

  /** Apply a snapshot or sync; a full one (since 0) replaces every question. */
  applySnapshot(data, full) {
    if (full) this.questions.clear();
    this.event = data.event;
    this.issues = [...data.issues].sort((a, b) => a.position - b.position);
    this.speakers = data.speakers;
    for (const row of data.questions) this.mergeRow(row);
    this.version = data.version;
    this.changed();
  }

  /** Apply an `update`: merge rows by rev (the version is not advanced by updates). After a
   * programme edit it carries the full lists of issues and speakers, which replace ours. */
  applyUpdate(data) {
    const newer = data.event && (!this.event || data.event.rev > this.event.rev);
    if (newer) this.event = data.event;
    if (newer && data.issues) this.issues = [...data.issues].sort((a, b) => a.position - b.position);
    if (newer && data.speakers) this.speakers = data.speakers;
    for (const row of data.questions) this.mergeRow(row);
    this.changed();
  }

  /** Keep a row only if its rev is higher; keep what only we know (mine, voted). */
  mergeRow(row) {
    const held = this.questions.get(row.id);
    if (held && held.rev >= row.rev) return false;
    if (row.removed) this.questions.delete(row.id);
    else this.questions.set(row.id, { ...held, ...row });
    return true;
  }

  /** Change a row locally (optimistic vote, ack values) without touching its rev. */
  patch(id, values) {
    const held = this.questions.get(id);
    if (!held) return;
    this.questions.set(id, { ...held, ...values });
    this.changed();
    this.save(0);  // a local change must survive an immediate reload
  }

  issue(id) {
    return this.issues.find((issue) => issue.id === id) || null;
  }

  speaker(id) {
    return this.speakers.find((speaker) => speaker.id === id) || null;
  }

  changed() {
    this.dispatchEvent(new Event("change"));
    this.save();
  }

  /** Keep the state on the device (after delay ms), so a reload offline still shows it. */
  save(delay = 200) {
    if (!this.persistKey) return;
    clearTimeout(this.saveTimer);
    const write = () => {
      const data = { version: this.version, event: this.event, issues: this.issues,
        speakers: this.speakers, questions: [...this.questions.values()] };
      try { localStorage.setItem(this.persistKey, JSON.stringify(data)); } catch { /* full */ }
    };
    if (delay) this.saveTimer = setTimeout(write, delay);
    else write();
  }

  restore() {
    if (!this.persistKey) return;
    try {
      const data = JSON.parse(localStorage.getItem(this.persistKey) || "null");
      if (!data || !data.event) return;
      Object.assign(this, { version: data.version, event: data.event, issues: data.issues, speakers: data.speakers });
      for (const row of data.questions) this.questions.set(row.id, row);
    } catch { /* start empty */ }
  }
}

// ---------------------------------------------------------------- the outbox

/** Questions and votes waiting to be sent, kept on the device (survives a reload). */
export class Outbox extends EventTarget {
  constructor(key) {
    super();
    this.key = key;
    try { this.items = JSON.parse(localStorage.getItem(key) || "[]"); } catch { this.items = []; }
  }

  add(item) {
    if (item.kind === "vote") {
      this.items = this.items.filter((i) => !(i.kind === "vote" && i.payload.question_id === item.payload.question_id));
    }
    this.items.push(item);
    this.save();
  }

  remove(item) {
    this.items = this.items.filter((i) => i !== item);
    this.save();
  }

  save() {
    try { localStorage.setItem(this.key, JSON.stringify(this.items)); } catch { /* full */ }
    this.dispatchEvent(new Event("change"));
  }

  get size() {
    return this.items.length;
  }
}

/** A random id for a question, so a resend returns the same question. */
export function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "c-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------- the connection

// The server or the link could not take it now: kept in the outbox and sent again by itself,
// after 1, 2, 4 ... up to 15 s (with jitter, so a hall does not resend all at once).
const RETRYABLE = new Set(["offline", "busy", "unavailable"]);
const INTERNAL_TRIES = 3; // `internal` is a bug: sent this many times, then given up
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15000;

/**
 * Connect to an event. Returns {socket, call, send, state}; `send` goes through the outbox
 * (when one is given) and is flushed on every (re)connection.
 */
export function connect({ code, token, store, outbox = null, onState, onPresence, onAuthError, onResult }) {
  let since = 0;
  let state = "connecting";
  let flushing = false;
  let retryTimer = null;
  let failedRounds = 0; // flushes in a row that ended with "not now"
  let closed = false;   // close() was called: never connect again (a link that is no longer valid)
  const socket = io({
    auth: (cb) => {
      since = store.version;
      cb({ event: code, ...(token ? { token } : {}), since });
    },
    transports: ["websocket", "polling"],
    reconnectionDelayMax: 4000,
  });

  const setState = (next) => {
    state = next;
    onState?.(next);
  };

  socket.on("snapshot", (data) => {
    store.applySnapshot(data, since === 0);
    setState("live");
    failedRounds = 0;
    flush();
  });
  socket.on("update", (data) => store.applyUpdate(data));
  socket.on("presence", (data) => onPresence?.(data));
  socket.on("disconnect", (reason) => {
    setState(navigator.onLine ? "reconnecting" : "offline");
    // the server cut us off (a rotated key, a log-out, a ban): connect once more to hear why
    if (reason === "io server disconnect" && !closed) socket.connect();
  });
  socket.io.on("reconnect_attempt", () => setState(navigator.onLine ? "reconnecting" : "offline"));
  socket.on("connect_error", (err) => {
    if (err?.data?.code) onAuthError?.(err.data);
    else setState(navigator.onLine ? "reconnecting" : "offline");
  });
  window.addEventListener("offline", () => {
    setState("offline");
    socket.disconnect();
  });
  window.addEventListener("online", () => {
    if (closed) return;
    setState("reconnecting");
    socket.connect();
  });
  if (!navigator.onLine) setState("offline");

  /** Emit with an acknowledgement. Without a link it is not sent: {ok: false, error: {code:
   * "offline"}}; sent but unanswered in time: the same with details {reason: "timeout"}
   * (the server may or may not have done it). */
  async function call(name, payload, timeout = 10000) {
    if (!socket.connected) return { ok: false, error: { code: "offline" } };
    try {
      return await socket.timeout(timeout).emitWithAck(name, payload);
    } catch {
      return { ok: false, error: { code: "offline", details: { reason: "timeout" } } };
    }
  }

  /** Disconnect for good (the credential is no longer valid). */
  function close() {
    closed = true;
    clearTimeout(retryTimer);
    socket.disconnect();
  }

  /**
   * Send what waits in the outbox, in order, until it is empty or a refusal says "not now";
   * then try again later by itself. A refusal that will never succeed drops the item and
   * `onResult` tells the person.
   */
  async function flush() {
    if (!outbox || flushing || !socket.connected) return;
    clearTimeout(retryTimer);
    flushing = true;
    let later = false;
    try {
      while (outbox.items.length && !later) {
        const item = outbox.items[0];
        const ack = await call(item.kind, item.payload);
        later = !ack.ok && sendAgain(item, ack.error.code);
        if (!later) {
          outbox.remove(item);
          onResult?.(item, ack);
        }
      }
    } finally {
      flushing = false;
    }
    if (later) retryLater();
    else failedRounds = 0;
  }

  /** Whether a refused item stays for another try (counting the tries of `internal`). */
  function sendAgain(item, code) {
    if (RETRYABLE.has(code)) return true;
    if (code !== "internal") return false;
    item.tries = (item.tries || 0) + 1;
    outbox.save();
    return item.tries < INTERNAL_TRIES;
  }

  /** Flush again after a growing, jittered pause (a reconnection flushes at once anyway). */
  function retryLater() {
    const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failedRounds);
    failedRounds += 1;
    retryTimer = setTimeout(flush, pause * (0.5 + Math.random()));
  }

  /** Queue an ask or a vote and try to send it now. */
  function send(kind, payload) {
    outbox.add({ kind, payload });
    flush();
  }

  return { socket, call, send, flush, close, get state() { return state; } };
}

/** Show the connection state in el (live, reconnecting, offline). */
export function showState(el, state) {
  if (!el) return;
  const shown = state === "connecting" ? "reconnecting" : state;
  el.dataset.state = shown;
  el.textContent = t(shown);
}

// The words for a refusal, by its code and the detail that tells refusals of one code apart
// (docs/protocol.md, "Error codes"): "code/what" or "code/reason" for an object `details`,
// "code/field/problem" or "code/field/type" for a list; else "code" alone. Never by the
// English message. `offline` is the page's own: the link was down, nothing was sent.
export const REFUSALS = {
  "offline": "err_offline",
  "offline/timeout": "err_no_answer",
  "closed/questions": "err_closed",
  "closed/voting": "err_voting_closed",
  "closed": "err_closed_now",
  "invalid/text/too_long": "err_too_long",
  "invalid/text/empty": "err_empty",
  "invalid/author_name/required": "err_name_required",
  "invalid": "err_invalid",
  "not_found/question": "err_not_found",
  "not_found/issue": "err_no_issue",
  "not_found/speaker": "err_no_speaker",
  "not_found/event": "err_no_event",
  "not_found/action": "err_no_action",
  "not_found": "err_gone",
  "conflict/merged": "err_merged",
  "conflict/target_dismissed": "err_target_dismissed",
  "conflict/not_live": "err_not_live",
  "conflict/too_late": "undo_too_late",
  "conflict/undone": "err_undone",
  "conflict/later_action": "err_undo_later",
  "conflict/changed": "err_changed",
  "conflict/not_undoable": "err_not_undoable",
  "conflict/withdrawn": "err_withdrawn",
  "conflict/not_pending": "err_not_pending",
  "conflict/archived": "err_archived",
  "conflict/issue_has_questions": "err_issue_has_questions",
  "conflict/speaker_has_questions": "err_speaker_has_questions",
  "conflict/name_taken": "err_name_taken",
  "invalid/confirm/confirm": "err_delete_confirm",
  "invalid/ends_at/ends_before": "err_ends_before",
  "conflict": "err_conflict",
  "rate_limited": "err_rate_limited",
  "forbidden": "err_forbidden",
  "banned": "err_banned",
  "unauthorized": "err_unauthorized",
  "too_large": "err_too_large",
  "busy": "err_busy",
  "unavailable": "err_not_now",
  "internal": "err_not_saved",
};

/** The REFUSALS entry for a refusal: its code with the most specific detail it has. */
export function refusalKey(error) {
  const code = String(error?.code || "error");
  const details = error?.details;
  const subs = Array.isArray(details)
    ? details.flatMap((d) => [`${d?.field}/${d?.problem}`, `${d?.field}/${d?.type}`])
    : [details?.what, details?.reason];
  const specific = subs.filter(Boolean).map((sub) => `${code}/${sub}`).find((k) => k in REFUSALS);
  return specific || code;
}

/** The message a person should read for a refusal, in the page's language. */
export function errorMessage(error) {
  const key = REFUSALS[refusalKey(error)];
  if (!key) return t("err_generic");
  const tooLong = Array.isArray(error.details) && error.details.find((d) => d?.problem === "too_long");
  return tooLong ? tn(key, Number(tooLong.max)) : t(key);
}
