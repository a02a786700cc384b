// The organiser's switch "Share the report with panelists" (templates/admin/_report_share.html):
// PUT /api/v1/events/<code>/report-share turns sharing on with a new link (any earlier link
// stops working), DELETE turns it off; the link is shown to copy.

/** Ask the API; the new state {shared, url}, or null when it refused. */
async function share(section, method) {
  try {
    const res = await fetch(`/api/v1/events/${section.dataset.reportShare}/report-share`, {
      method, headers: { "X-CSRFToken": section.dataset.csrf },
    });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** Show the state: the switch, and the link while sharing is on. */
function show(section, state) {
  section.querySelector("[data-share-switch]").checked = state.shared;
  section.querySelector("[data-share-link]").hidden = !state.shared;
  section.querySelector(".link input").value = state.url || "";
}

async function change(section, method) {
  const msg = section.querySelector("[data-share-msg]");
  const state = await share(section, method);
  msg.textContent = state ? "" : section.dataset.failed;
  msg.classList.toggle("error", !state);
  if (state) show(section, state);
  else section.querySelector("[data-share-switch]").checked = method === "DELETE";
}

for (const section of document.querySelectorAll("[data-report-share]")) {
  if (section.dataset.ready) continue;  // the module runs once, whatever includes it
  section.dataset.ready = "1";
  section.querySelector("[data-share-switch]").addEventListener("change", (e) => {
    change(section, e.target.checked ? "PUT" : "DELETE");
  });
  section.querySelector("[data-share-new]").addEventListener("click", () => change(section, "PUT"));
  section.querySelector("[data-share-copy]").addEventListener("click", async (e) => {
    const input = section.querySelector(".link input");
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand?.("copy"); }
    const label = e.target.textContent;
    e.target.textContent = section.dataset.copied;
    setTimeout(() => { e.target.textContent = label; }, 1500);
  });
}
