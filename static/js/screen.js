// The screen, for a projector: the current issue, the question on screen, the top questions, the
// join card (or, switched on from the console, the full-screen join slide) and the issue clock.
// Sizes are for a 20 m hall (README, "The projector"): the question and the top questions are set
// at the back-row size (CSS --back-row). The top list shows fewer (up to three, as many as fit),
// each clamped to two lines. The question on screen is never cut: too long for its room, it takes
// the column (the top list and the header give way, the issue's number stays), then shrinks step
// by step down to the middle-of-the-hall size (CSS --middle-hall), then shows a screenful at a
// time with "1/3".
import { $, fill, Store, connect, h, renderList, showState, t, tn } from "./live.js";
import { formatLeft, msLeft } from "./clock.js";

const app = $("#app");
const code = app.dataset.code;
const store = new Store();
const TOP = 3;                // the top questions shown at most (fewer when they do not fit)
const ANSWERED_MS = 6000;     // an answered question stays this long, marked, as it leaves
const STEP_VH = 0.2;          // the question shrinks by this much at a time
const PAGE_MS = 8000;         // a screenful of a long question stays at least this long,
const PAGE_CHARS_S = 15;      // and long enough to read it out (15 characters a second)
let paging = null;            // the timer that turns the pages of a long question
let shownKey = null;
let shownLayout = null;       // the screen's mode and issue when the question was fitted
let onScreenId = null;        // the question the event put on screen last
let leaving = null;           // {question, until}: the answered question on its way out

function render() {
  if (!store.event) return;
  app.classList.toggle("mode-join", store.event.screen_mode === "join");
  app.classList.toggle("mode-questions", store.event.screen_mode !== "join");
  for (const el of document.querySelectorAll("p.event, .join-title")) el.textContent = store.event.title;
  const issue = store.issue(store.event.current_issue_id);
  // fit the question again (at once) when the room it had changes: under the join slide it had
  // none, and the issue's title above it may take one line or two
  const layout = `${store.event.screen_mode}:${issue?.id}:${issue?.title}`;
  if (layout !== shownLayout) {
    shownLayout = layout;
    shownKey = null;
  }
  const label = issue ? t("issue_n", { n: issue.position + 1 }) : "";
  fill($("#issue"), issue ? h("span", { class: "label" }, label) : "", issue ? issue.title : "");
  $("#stage-issue").textContent = label;  // in the stage's corner when the header gives way
  noteAnswered();
  renderStage();
  renderTop(issue);
  renderClock();
}

/** When the question on screen leaves it because it was answered, keep it for a few seconds
 * with an "Answered" mark (docs/protocol.md: answering takes it off screen). */
function noteAnswered() {
  const now = store.event.on_screen_question_id;
  if (now === onScreenId) return;
  const was = store.questions.get(onScreenId);
  onScreenId = now;
  leaving = null;
  if (now === null && was?.status === "answered") {
    leaving = { question: was, until: Date.now() + ANSWERED_MS };
    setTimeout(() => { leaving = null; render(); }, ANSWERED_MS + 20);
  }
}

/** The question on screen in large type; none: the stage gives its room to the top list. */
function renderStage() {
  const q = leaving?.question ?? store.questions.get(store.event.on_screen_question_id);
  const key = q ? `${q.id}:${q.rev}:${leaving ? "answered" : ""}` : "idle";
  if (key === shownKey) return;
  const first = shownKey === null;
  shownKey = key;
  const stage = $("#stage");
  const quote = $("#quote");
  const apply = () => {
    stage.classList.toggle("idle", !q);
    stage.classList.toggle("answered", Boolean(leaving));
    $("#answered-mark").hidden = !leaving;
    quote.textContent = q ? q.text : "";
    const speaker = q?.addressed_to ? store.speaker(q.addressed_to) : null;
    fill($("#by"), ...(q ? [h("span", {}, "— " + (q.author_name || t("anonymous"))),
      speaker ? h("span", { class: "to" }, t("to", { name: speaker.name })) : null].filter(Boolean) : []));
    fitStage();
    fitTop();
    quote.style.opacity = 1;
  };
  if (first) return apply();
  quote.style.opacity = 0;
  setTimeout(apply, 350);
}

function renderTop(issue) {
  const top = [...store.questions.values()]
    .filter((q) => q.status === "live" && q.issue_id === issue?.id && q.id !== store.event.on_screen_question_id)
    .sort((a, b) => b.votes - a.votes || Date.parse(a.created_at) - Date.parse(b.created_at))
    .slice(0, TOP);
  renderList($("#top"), top, {
    create: () => h("li", {}, h("span", { class: "n" }), h("span", { class: "text" })),
    update: (el, q) => {
      fill($(".n", el), String(q.votes), h("small", {}, tn("votes", q.votes)));
      $(".text", el).textContent = q.text;
    },
  });
  fitTop();
}

/** A size of the screen's CSS (--back-row, --middle-hall), in vh. */
function sizeVh(name) {
  return parseFloat(getComputedStyle(app).getPropertyValue(name));
}

/** The question on screen, whole: at the back-row size if it fits; if not, the top list and the
 * header (the event's and the issue's titles) give it the column; still too long, it shrinks step
 * by step, not below the middle-of-the-hall size; still too long, it shows a screenful at a time.
 * Nothing is ever cut off. */
function fitStage() {
  const stage = $("#stage");
  const quote = $("#quote");
  stopPaging();
  app.classList.remove("roomy");
  quote.style.fontSize = "";
  const room = () => {  // the column, less the header when it shows
    const column = $(".main-col");
    const head = $(".screen-head").offsetHeight;
    const gap = head ? parseFloat(getComputedStyle(column).rowGap) || 0 : 0;
    stage.style.maxHeight = `${column.clientHeight - head - gap}px`;
  };
  const over = () => stage.scrollHeight > stage.clientHeight + 1
    || quote.scrollWidth > quote.clientWidth + 1;
  room();
  if (stage.classList.contains("idle") || !over()) return;
  app.classList.add("roomy");
  room();
  const smallest = sizeVh("--middle-hall");
  for (let size = sizeVh("--back-row"); over() && size > smallest;) {
    size = Math.max(smallest, size - STEP_VH);
    quote.style.fontSize = `${size}vh`;
  }
  if (over()) startPaging();
}

/** Show the question a screenful at a time: the window over it holds whole lines only, as many
 * on each page as the pages need (a last page of a few lines is spread over the others), and
 * moves on by a page when it has been up long enough to read it out (8 s at least), round and
 * round, with "1/3" in the corner. */
function startPaging() {
  const stage = $("#stage");
  const quote = $("#quote");
  const win = $("#quote-window");
  const pages = $("#pages");
  stage.classList.add("paged");
  const line = parseFloat(getComputedStyle(quote).lineHeight);
  const room = Math.max(1, Math.floor((win.clientHeight + 1) / line));
  const lines = Math.round(quote.getBoundingClientRect().height / line);
  const count = Math.ceil(lines / room);
  const perPage = Math.ceil(lines / count);
  const height = perPage * line;
  win.style.flex = `0 0 ${height}px`;
  let page = 0;
  const show = () => {
    quote.style.transform = page ? `translateY(${-page * height}px)` : "";
    pages.textContent = `${page + 1}/${count}`;
    const chars = (quote.textContent.length * Math.min(perPage, lines - page * perPage)) / lines;
    paging = setTimeout(() => { page = (page + 1) % count; show(); },
      Math.max(PAGE_MS, (chars / PAGE_CHARS_S) * 1000));
  };
  pages.hidden = false;
  show();
}

function stopPaging() {
  clearTimeout(paging);
  paging = null;
  $("#stage").classList.remove("paged");
  $("#quote-window").style.flex = "";
  $("#quote").style.transform = "";
  $("#pages").hidden = true;
}

/** Show as many of the top questions as fit whole below the stage at the back-row size, each
 * clamped to two lines with an ellipsis (CSS: they are reminders): fewer rather than smaller, none
 * when the question on screen needs the room; "no questions yet" only when nothing is on screen
 * either. */
function fitTop() {
  const box = $("#top-box");
  if (app.classList.contains("roomy")) {  // the question on screen needs the column
    box.hidden = true;
    return;
  }
  const items = [...$("#top").children];
  const onStage = !$("#stage").classList.contains("idle");
  $("#top-empty").hidden = items.length > 0 || onStage;
  box.hidden = false;
  for (const li of items) li.hidden = false;
  let n = items.length;
  while (n > 0 && box.scrollHeight > box.clientHeight + 1) items[--n].hidden = true;
  const tooBig = box.scrollHeight > box.clientHeight + 1;
  box.hidden = tooBig || (n === 0 && (items.length > 0 || onStage));
}

// ---------------------------------------------------------------- the clock

/** The time left for the current issue: the server sets its end (event.clock), the screen counts
 * down to it on its own clock, which shows the venue's time as the programme does. */
function renderClock() {
  const clock = store.event.clock;
  const box = $("#clock");
  box.hidden = !(clock?.on && clock.available) || store.event.screen_mode === "join";
  if (box.hidden) return;
  const left = msLeft(clock);
  const time = $("#clock-time");
  time.textContent = formatLeft(left);
  time.setAttribute("datetime", `PT${Math.ceil(left / 1000)}S`);
  box.classList.toggle("over", left === 0);
  box.classList.toggle("soon", left > 0 && left <= 120000);
  $("#clock-label").textContent = left === 0 ? t("time_up") : t("time_left");
}

store.addEventListener("change", render);
window.addEventListener("resize", () => { shownKey = null; render(); });
setInterval(() => { if (store.event) renderClock(); }, 1000);
connect({ code, token: null, store, onState: (state) => showState($("#conn"), state) });
