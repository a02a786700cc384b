// The organiser's pages: the list creates events (programme text with a preview to correct,
// form, JSON file; creating the same programme twice warns first, whichever way); an event's
// page copies links, adds, rotates and revokes moderator seats, changes settings and the
// blocklist, edits the programme, archives and deletes.
import { $, errorMessage, fill, h, refusalKey, t } from "./live.js";

const csrf = $("#admin").dataset.csrf;

/** Call the JSON API with the session cookie and the CSRF token; returns [ok, body]. */
async function api(method, path, body, type = "application/json") {
  const res = await fetch(path, {
    method, body: type === "application/json" && body !== undefined ? JSON.stringify(body) : body,
    headers: { "Content-Type": type, "X-CSRFToken": csrf },
  });
  const data = await res.json().catch(() => ({}));
  return [res.ok, data];
}

/** The words for a refusal, in the page's language, from its code and details (REFUSALS in
 * live.js), never the server's English message. An event refused for its fields (the event file,
 * the form, the corrected preview) also lists them as the details name them ("issue 2: must not
 * be empty"), so the organiser knows what to correct. */
function problem(data) {
  const error = data?.error;
  if (!error) return t("err_generic");
  const places = Array.isArray(error.details) ? error.details.filter((d) => d?.where && d?.problem) : [];
  if (refusalKey(error) === "invalid" && places.length) {
    return t("err_event_invalid", { problems: places.slice(0, 5).map((d) => `${d.where}: ${d.problem}`).join("; ") });
  }
  return errorMessage(error);
}

// ---------------------------------------------------------------- creating

function showCreated(data) {
  $("#create-error").textContent = "";
  const box = $("#created");
  box.hidden = false;
  fill(box, h("p", {}, h("strong", {}, t("created", { title: data.event.title, code: data.code }))),
    linkRows(data.code, data.urls),
    h("p", {}, h("a", { href: `/admin/events/${data.code}`, class: "manage" }, t("manage"))));
}

function linkRows(code, urls) {
  return h("div", { class: "links" }, ...["audience", "screen", "moderator"].map((key) => {
    const id = `new-${key}-${code}`;
    return h("div", { class: "link" }, h("label", { for: id, class: "muted link-label" }, t(`${key}_link`)),
      h("input", { id, value: urls[key], readonly: true }),
      h("button", { type: "button", class: "small", "data-copy": id }, t("copy")));
  }));
}

async function create(ok, data) {
  if (ok) {
    warned = "";  // created: the same programme once more warns again
    showCreated(data);
  } else $("#create-error").textContent = problem(data);
}

/** A stored wall-clock time ("2017-01-12T15:30:00") as a person reads it, in the page's
 * language and in the list's order: "Thu 12 Jan 2017, 15:30" (never shifted to another zone). */
function readable(iso, timeOnly = false) {
  if (!iso) return "";
  const moment = new Date(iso.slice(0, 19));  // the wall-clock time, read and shown as local
  const options = { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const parts = Object.fromEntries(new Intl.DateTimeFormat(document.documentElement.lang || "en", options)
    .formatToParts(moment).map((part) => [part.type, part.value]));
  const time = `${parts.hour}:${parts.minute}`;
  return timeOnly ? time : `${parts.weekday} ${parts.day} ${parts.month} ${parts.year}, ${time}`;
}

function readableSpan(starts, ends) {
  if (!starts) return "—";
  if (!ends) return readable(starts);
  const sameDay = starts.slice(0, 10) === ends.slice(0, 10);
  return `${readable(starts)}–${readable(ends, sameDay)}`;
}

const wallClock = (iso) => (iso ? iso.slice(0, 16) : "");  // a datetime-local field's value

/** The dry run's event as a form to correct before Create. */
function describe(event) {
  const field = (id, label, input) => h("div", {}, h("label", { for: id }, label), input);
  const moderator = event.speakers.find((s) => s.role === "moderator");
  const panelists = event.speakers.filter((s) => s !== moderator)
    .map((s) => `${s.name}${s.affiliation ? ", " + s.affiliation : ""}`);
  return [h("p", {}, t("understood")),
    h("p", { class: "when-readable" }, `${t("when")}: `, h("strong", { id: "u-when" }, readableSpan(event.starts_at, event.ends_at))),
    h("form", { id: "understood-form", class: "correct" },
      field("u-title", t("title"), h("input", { id: "u-title", name: "title", required: true, value: event.title })),
      h("div", { class: "grid2" },
        field("u-starts", t("starts"), h("input", { id: "u-starts", name: "starts_at", type: "datetime-local", value: wallClock(event.starts_at) })),
        field("u-ends", t("ends"), h("input", { id: "u-ends", name: "ends_at", type: "datetime-local", value: wallClock(event.ends_at) })),
        "time_zone" in event ? field("u-zone", t("time_zone"), h("input", { id: "u-zone", name: "time_zone", value: event.time_zone || "" })) : null,
        field("u-venue", t("where"), h("input", { id: "u-venue", name: "venue", value: event.venue || "" }))),
      field("u-issues", t("issues_lines"), h("textarea", { id: "u-issues", name: "issues", rows: Math.max(3, event.issues.length) }, event.issues.join("\n"))),
      h("div", { class: "grid2" },
        field("u-moderator", t("moderator_role"), h("input", { id: "u-moderator", name: "moderator", value: moderator?.name || "" })),
        field("u-panelists", t("panelists_lines"), h("textarea", { id: "u-panelists", name: "panelists", rows: Math.max(3, panelists.length) }, panelists.join("\n")))))];
}

/** The speakers of a form: its moderator field, then one panelist per line ("Name, affiliation"). */
function speakersOf(form, moderatorAffiliation = null) {
  const lines = String(form.get("panelists") || "").split("\n").map((s) => s.trim()).filter(Boolean);
  const name = String(form.get("moderator") || "").trim();
  return [
    ...(name ? [{ name, role: "moderator", affiliation: moderatorAffiliation }] : []),
    ...lines.map((line) => {
      const [first, ...rest] = line.split(",");
      return { name: first.trim(), role: "panelist", affiliation: rest.join(",").trim() || null };
    }),
  ];
}

const linesOf = (form, name) => String(form.get(name) || "").split("\n").map((s) => s.trim()).filter(Boolean);

let understood = null;  // the dry run's event, corrected by the form before Create
let warned = "";  // the title and start the organiser was warned about: a second click creates

/** Warn of the existing events like this one, once per key: true when Create should wait (the
 * organiser's next click on Create creates). */
function warnOnce(key, duplicates) {
  if (warned === key || !duplicates?.length) return false;
  warned = key;
  $("#create-error").textContent = t("duplicate", { code: duplicates.map((d) => d.code).join(", ") });
  return true;
}

/** Existing events with this title and start; warn once: true when Create should wait. */
async function warnsOfDuplicate(body) {
  const key = JSON.stringify([body.title.trim().toLowerCase(), body.starts_at]);
  if (warned === key) return false;
  const query = new URLSearchParams({ title: body.title, ...(body.starts_at ? { starts_at: body.starts_at } : {}),
    ...(body.time_zone ? { time_zone: body.time_zone } : {}) });
  const [ok, data] = await api("GET", `/api/v1/events/duplicates?${query}`);
  return ok && warnOnce(key, data.duplicates);
}

function correctedEvent() {
  const form = new FormData($("#understood-form"));
  const moderator = understood.speakers.find((s) => s.role === "moderator");
  const body = { ...understood, title: String(form.get("title")).trim(), issues: linesOf(form, "issues"),
    speakers: speakersOf(form, moderator?.affiliation ?? null),
    starts_at: form.get("starts_at") || null, ends_at: form.get("ends_at") || null,
    venue: String(form.get("venue") || "").trim() || null };
  if (form.has("time_zone")) body.time_zone = String(form.get("time_zone")).trim() || null;
  return body;
}

if ($("#new")) {
  $("#preview").addEventListener("click", async () => {
    const [ok, data] = await api("POST", "/api/v1/events/import?dry_run=1", $("#programme").value, "text/plain");
    $("#create-text").disabled = !ok;
    $("#understood").hidden = !ok;
    $("#create-error").textContent = ok ? "" : problem(data);
    warned = "";
    if (!ok) return;
    understood = data.event;
    fill($("#understood"), ...describe(data.event));
    for (const id of ["u-starts", "u-ends"]) {
      $(`#${id}`).addEventListener("input", () => {
        $("#u-when").textContent = readableSpan($("#u-starts").value, $("#u-ends").value);
      });
    }
    if (data.duplicates?.length) {
      $("#create-error").textContent = t("duplicate", { code: data.duplicates.map((d) => d.code).join(", ") });
    }
  });
  $("#programme").addEventListener("input", () => { $("#create-text").disabled = true; });
  $("#create-text").addEventListener("click", async () => {
    const body = correctedEvent();
    if (await warnsOfDuplicate(body)) return;
    create(...await api("POST", "/api/v1/events", body));
  });

  $("#pane-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const body = { title: form.get("title"), issues: linesOf(form, "issues"), speakers: speakersOf(form), language: form.get("language"),
      venue: form.get("venue") || null, description: form.get("description") || null,
      starts_at: form.get("starts_at") || null, ends_at: form.get("ends_at") || null,
      settings: { pre_moderation: form.get("pre_moderation") === "on" } };
    if (await warnsOfDuplicate(body)) return;
    create(...await api("POST", "/api/v1/events", body));
  });

  $("#create-json").addEventListener("click", async () => {
    const file = $("#json-file").files[0];
    if (!file) return;
    const text = await file.text();
    try { JSON.parse(text); } catch { $("#create-error").textContent = t("bad_json"); return; }
    // the server reads the file as `qa-app create-event` does (docs/event-format.md): a dry run
    // first names a fault, and warns of an event with the same title and start, as a pasted
    // programme's preview does
    const [checked, dry] = await api("POST", "/api/v1/events/import?dry_run=1", text, "text/plain");
    if (!checked) { $("#create-error").textContent = problem(dry); return; }
    const key = JSON.stringify(["file", dry.event.title.trim().toLowerCase(), dry.event.starts_at]);
    if (warnOnce(key, dry.duplicates)) return;
    create(...await api("POST", "/api/v1/events/import", text, "text/plain"));
  });
}

// ---------------------------------------------------------------- tabs

const tabs = [...document.querySelectorAll('#new [role="tab"]')];
function choose(tab) {
  for (const other of tabs) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    $(`#${other.getAttribute("aria-controls")}`).hidden = !chosen;
  }
  tab.focus();
}
for (const tab of tabs) {
  tab.addEventListener("click", () => choose(tab));
  tab.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step) choose(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]);
  });
}

// ---------------------------------------------------------------- each event

document.addEventListener("click", async (e) => {
  const copy = e.target.closest("[data-copy]");
  if (copy) {
    const input = document.getElementById(copy.dataset.copy);
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand?.("copy"); }
    copy.textContent = t("copied");
    setTimeout(() => { copy.textContent = t("copy"); }, 1500);
  }
  const rotate = e.target.closest("[data-rotate]");
  if (rotate && confirm(t("rotate_seat_confirm", { name: seatName(rotate) }))) {
    const [ok, data] = await api("POST", `/api/v1/seats/${rotate.dataset.rotate}/key`);
    if (!ok) return alert(problem(data));
    const row = rotate.closest("[data-code]");
    rotate.closest("[data-seat]").replaceWith(seatItem(data.seat));
    showLink(row, data);
  }
  const revoke = e.target.closest("[data-revoke]");
  if (revoke && confirm(t("revoke_confirm", { name: seatName(revoke) }))) {
    const [ok, data] = await api("DELETE", `/api/v1/seats/${revoke.dataset.revoke}`);
    if (!ok) return alert(problem(data));
    const row = revoke.closest("[data-code]");
    revoke.closest("[data-seat]").remove();
    $(".no-seats", row).hidden = $(".seat-list", row).children.length > 0;
    $(".moderator-link", row).hidden = true;
  }
});

// ---------------------------------------------------------------- moderator seats

function seatName(button) {
  return $(".seat-name", button.closest("[data-seat]")).textContent;
}

/** A seat's row, as the page renders it. */
function seatItem(seat) {
  const created = new Date(seat.created_at);
  const since = `${created.toISOString().slice(0, 10)} ${created.toISOString().slice(11, 16)}`;
  return h("li", { class: "seat", "data-seat": seat.id }, h("span", { class: "seat-name" }, seat.name), " ",
    h("span", { class: "muted" }, `${t("since")} `, h("time", { datetime: seat.created_at }, since)), " ",
    h("button", { type: "button", class: "small", "data-rotate": seat.id }, t("rotate")), " ",
    h("button", { type: "button", class: "small", "data-revoke": seat.id }, t("revoke")));
}

/** Show a seat's new link once, with its Copy button. */
function showLink(row, data) {
  const box = $(".moderator-link", row);
  box.hidden = false;
  $(".seat-for", box).textContent = data.seat.name;
  $("input", box).value = data.link;
}

for (const form of document.querySelectorAll("[data-add-seat]")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const row = form.closest("[data-code]");
    const [ok, data] = await api("POST", `/api/v1/events/${row.dataset.code}/seats`, { name: form.name.value });
    $(".msg", form).textContent = ok ? t("seat_added", { name: data?.seat?.name }) : problem(data);
    if (!ok) return;
    form.reset();
    $(".seat-list", row).append(seatItem(data.seat));
    $(".no-seats", row).hidden = true;
    showLink(row, data);
  });
}

for (const form of document.querySelectorAll("[data-settings]")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = form.closest("[data-code]").dataset.code;
    const values = Object.fromEntries([...form.querySelectorAll("input[type=checkbox]")].map((i) => [i.name, i.checked]));
    values.max_question_length = Number(form.max_question_length.value);
    const [ok, data] = await api("PATCH", `/api/v1/events/${code}/settings`, values);
    $(".msg", form).textContent = ok ? t("saved") : problem(data);
  });
}

for (const form of document.querySelectorAll("[data-blocklist]")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = form.closest("[data-code]").dataset.code;
    const phrases = form.phrases.value.split("\n").map((s) => s.trim()).filter(Boolean);
    const builtin = [...form.querySelectorAll("input[name=builtin]:checked")].map((i) => i.value);
    const [ok, data] = await api("PUT", `/api/v1/events/${code}/blocklist`, { phrases, builtin });
    if (ok) form.phrases.value = data.blocklist.phrases.join("\n");  // as stored: trimmed, once each
    const msg = $(".msg", form);
    msg.textContent = ok ? t("saved") : problem(data);
    msg.classList.toggle("error", !ok);
  });
}

// ---------------------------------------------------------------- the programme (event page)

const programme = $("[data-programme]");
if (programme) {
  const code = programme.closest("[data-code]").dataset.code;
  programme.addEventListener("click", (e) => {
    const add = e.target.closest("[data-add]");
    if (add) {
      const template = $(add.dataset.add === "issues" ? "#new-issue" : "#new-speaker");
      const row = template.content.firstElementChild.cloneNode(true);
      $(`[data-list="${add.dataset.add}"]`, programme).append(row);
      $("input", row).focus();
    }
    const move = e.target.closest("[data-move]");
    if (move) {
      const row = move.closest("li");
      const other = Number(move.dataset.move) < 0 ? row.previousElementSibling : row.nextElementSibling;
      if (other) other[Number(move.dataset.move) < 0 ? "before" : "after"](row);
      move.focus();
    }
    const remove = e.target.closest("[data-remove]");
    if (remove) remove.closest("li").remove();
  });
  programme.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = (li) => (li.dataset.id ? { id: Number(li.dataset.id) } : {});
    const rows = (list) => [...$(`[data-list="${list}"]`, programme).children];
    const text = (name) => programme.elements[name].value.trim() || null;
    const body = {
      title: programme.elements.title.value.trim(), venue: text("venue"), description: text("description"),
      time_zone: text("time_zone"), starts_at: text("starts_at"), ends_at: text("ends_at"),
      issues: rows("issues").map((li) => ({ ...id(li), title: $("input", li).value.trim() })),
      speakers: rows("speakers").map((li) => ({ ...id(li), name: $("[name=name]", li).value.trim(),
        role: $("[name=role]", li).value, affiliation: $("[name=affiliation]", li).value.trim() || null })),
    };
    const [ok, data] = await api("PATCH", `/api/v1/events/${code}/programme`, body);
    const msg = $(".row .msg", programme);
    msg.textContent = ok ? t("saved") : problem(data);
    msg.classList.toggle("error", !ok);
    if (!ok) return;
    // new rows now have ids: name them so the next save keeps them
    rows("issues").forEach((li, i) => { li.dataset.id = data.issues[i].id; });
    rows("speakers").forEach((li, i) => { li.dataset.id = data.speakers[i].id; });
    $(".event-title").textContent = data.event.title;
  });
}

// ---------------------------------------------------------------- archive and delete

document.addEventListener("click", async (e) => {
  const button = e.target.closest("[data-archive]");
  if (!button) return;
  const code = button.closest("[data-code]").dataset.code;
  const [ok, data] = await api("PUT", `/api/v1/events/${code}/archive`, { archived: button.dataset.archive === "true" });
  if (ok) location.reload();
  else $("#archive-msg").textContent = problem(data);
});

const deleting = $("[data-delete]");
if (deleting) {
  deleting.addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = deleting.closest("[data-code]").dataset.code;
    const [ok, data] = await api("DELETE", `/api/v1/events/${code}`, { confirm: deleting.confirm.value.trim() });
    if (ok) location.assign(`/admin/?deleted=${encodeURIComponent(data.deleted)}`);
    else $(".msg", deleting).textContent = problem(data);
  });
}
