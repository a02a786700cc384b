// The organiser's page: create events (programme text with preview, form, JSON), copy links,
// add, rotate and revoke moderator seats, change settings, edit the blocklist.
import { $, fill, h, t } from "./live.js";

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

function problem(data) {
  return data?.error?.message || t("err_generic");
}

// ---------------------------------------------------------------- creating

function showCreated(data) {
  $("#create-error").textContent = "";
  const box = $("#created");
  box.hidden = false;
  fill(box, h("p", {}, h("strong", {}, t("created", { title: data.event.title, code: data.code }))),
    linkRows(data.code, data.urls));
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
  if (ok) showCreated(data);
  else $("#create-error").textContent = problem(data);
}

function describe(event) {
  const speakers = event.speakers.map((s) => `${s.name}${s.affiliation ? ", " + s.affiliation : ""}${s.role === "moderator" ? ` (${t("moderator_role")})` : ""}`);
  return [h("p", {}, t("understood")), h("h3", {}, event.title),
    h("p", {}, `${t("when")}: ${event.starts_at || "—"} – ${event.ends_at || "—"}`),
    h("p", {}, `${t("where")}: ${event.venue || "—"}`),
    h("ol", {}, ...event.issues.map((i) => h("li", {}, i))),
    h("p", {}, h("strong", {}, t("speakers"))), h("ul", {}, ...speakers.map((s) => h("li", {}, s)))];
}

$("#preview").addEventListener("click", async () => {
  const [ok, data] = await api("POST", "/api/v1/events/import?dry_run=1", $("#programme").value, "text/plain");
  $("#create-text").disabled = !ok;
  $("#understood").hidden = !ok;
  $("#create-error").textContent = ok ? "" : problem(data);
  if (ok) fill($("#understood"), ...describe(data.event));
});
$("#programme").addEventListener("input", () => { $("#create-text").disabled = true; });
$("#create-text").addEventListener("click", async () => {
  create(...await api("POST", "/api/v1/events/import", $("#programme").value, "text/plain"));
});

$("#pane-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const lines = (name) => String(form.get(name) || "").split("\n").map((s) => s.trim()).filter(Boolean);
  const speakers = [
    ...(form.get("moderator") ? [{ name: form.get("moderator").trim(), role: "moderator" }] : []),
    ...lines("panelists").map((line) => {
      const [name, ...rest] = line.split(",");
      return { name: name.trim(), role: "panelist", affiliation: rest.join(",").trim() || null };
    }),
  ];
  const body = { title: form.get("title"), issues: lines("issues"), speakers, language: form.get("language"),
    venue: form.get("venue") || null, description: form.get("description") || null,
    starts_at: form.get("starts_at") || null, ends_at: form.get("ends_at") || null,
    settings: { pre_moderation: form.get("pre_moderation") === "on" } };
  create(...await api("POST", "/api/v1/events", body));
});

$("#create-json").addEventListener("click", async () => {
  const file = $("#json-file").files[0];
  if (!file) return;
  const text = await file.text();
  try { JSON.parse(text); } catch { $("#create-error").textContent = t("bad_json"); return; }
  // the server reads the file as `qa-app create-event` does (docs/event-format.md)
  create(...await api("POST", "/api/v1/events/import", text, "text/plain"));
});

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
