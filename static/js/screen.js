// The screen, for a projector: the current issue, the question on screen, the top questions.
import { $, fill, Store, connect, h, renderList, showState, t, tn } from "./live.js";

const code = $("#app").dataset.code;
const store = new Store();
const TOP = 5;
let shownKey = null;

function render() {
  if (!store.event) return;
  const issue = store.issue(store.event.current_issue_id);
  fill($("#issue"), issue ? h("span", { class: "label" }, t("issue_n", { n: issue.position + 1 })) : "",
    issue ? issue.title : "");
  renderStage(issue);
  const top = [...store.questions.values()]
    .filter((q) => q.status === "live" && q.issue_id === issue?.id)
    .sort((a, b) => b.votes - a.votes || Date.parse(a.created_at) - Date.parse(b.created_at))
    .slice(0, TOP);
  renderList($("#top"), top, {
    create: () => h("li", {}, h("span", { class: "n" }), h("span", { class: "text" })),
    update: (el, q) => {
      el.classList.toggle("onscreen", q.id === store.event.on_screen_question_id);
      fill($(".n", el), String(q.votes), h("small", {}, tn("votes", q.votes)));
      $(".text", el).textContent = q.text;
    },
  });
  $("#top-empty").hidden = top.length > 0;
}

/** The question on screen in large type (or the issue when there is none), fitted to its box. */
function renderStage(issue) {
  const q = store.questions.get(store.event.on_screen_question_id);
  const key = q ? `${q.id}:${q.rev}` : `issue:${issue?.id}`;
  if (key === shownKey) return;
  const first = shownKey === null;
  shownKey = key;
  const stage = $("#stage");
  const quote = $("#quote");
  const apply = () => {
    stage.classList.toggle("idle", !q);
    if (q) quote.textContent = q.text;
    else fill(quote, h("span", { class: "hint" }, t("ask_to_see")), h("br"), h("strong", {}, $("#app").dataset.join));
    const speaker = q?.addressed_to ? store.speaker(q.addressed_to) : null;
    fill($("#by"), ...(q ? [h("span", {}, "— " + (q.author_name || t("anonymous"))),
      speaker ? h("span", { class: "to" }, t("to", { name: speaker.name })) : null].filter(Boolean) : []));
    fit(quote, stage);
    quote.style.opacity = 1;
  };
  if (first) return apply();
  quote.style.opacity = 0;
  setTimeout(apply, 350);
}

/** The largest font size (in vh) at which text fits its stage without overflowing. */
function fit(quote, stage) {
  const room = stage.clientHeight - $("#by").offsetHeight - parseFloat(getComputedStyle(stage).paddingTop) * 2 - 24;
  let size = 8;
  quote.style.fontSize = `${size}vh`;
  while (size > 2 && (quote.scrollHeight > room || quote.scrollWidth > quote.clientWidth)) {
    size -= 0.25;
    quote.style.fontSize = `${size}vh`;
  }
}

store.addEventListener("change", render);
window.addEventListener("resize", () => { shownKey = null; render(); });
connect({ code, token: null, store, onState: (state) => showState($("#conn"), state) });
