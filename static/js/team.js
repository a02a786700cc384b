// Several moderators in the console: who else is moderating now (from `presence`), and which
// question another moderator is editing (the `editing` soft lock). Nothing here blocks anyone:
// it shows "Anna is editing" on the row so two people do not edit one question at once.
//
//   const team = initTeam({ link, store, el: $("#team") });
//   team.editing(q.id) / team.editing(null)   -- when this console opens / closes an editor
//   team.markRow(rowEl, q.id)                 -- at the end of the console's row update
import { fill, h, t } from "./live.js";

/** Listen on the console's socket; render the team into el and the marks onto #queue's rows. */
export function initTeam({ link, store = null, el, queue = document.getElementById("queue") }) {
  let you = null; // {seat_id, name}: this console's seat (or the organiser), from the snapshot
  let moderating = [];
  const editors = new Map(); // who (seat id or organiser's name) -> {seat_id, name, question_id}
  let mine = null; // the question this console says it is editing

  const whoKey = (entry) => (entry.seat_id === null ? `admin:${entry.name}` : `seat:${entry.seat_id}`);
  const isYou = (entry) => you !== null && whoKey(entry) === whoKey(you);

  function render() {
    if (!el) return;
    const others = moderating.filter((entry) => !isYou(entry));
    if (!others.length) {
      fill(el, h("span", { class: "muted" }, t("team_alone")));
      return;
    }
    fill(el, h("span", { class: "muted" }, t("team_moderating")), " ",
      ...moderating.map((entry) => h("span", { class: "who", "data-seat": entry.seat_id ?? "organiser" },
        isYou(entry) ? t("team_you", { name: entry.name }) : entry.name)));
  }

  /** The other moderators editing a question now. */
  function editorsOf(questionId) {
    return [...editors.values()].filter((entry) => entry.question_id === questionId);
  }

  /** Show (or clear) "Anna is editing" on one row of the list. */
  function markRow(row, questionId) {
    if (!row) return;
    const names = editorsOf(questionId).map((entry) => entry.name);
    row.classList.toggle("being-edited", names.length > 0);
    let mark = row.querySelector(".editing-mark");
    if (!names.length) {
      mark?.remove();
      return;
    }
    if (!mark) {
      mark = h("span", { class: "editing-mark", role: "status" });
      (row.querySelector(".q-meta") || row).append(mark);
    }
    mark.textContent = t("team_editing", { name: names.join(", ") });
  }

  function markAll() {
    if (!queue) return;
    for (const row of queue.children) markRow(row, Number(row.dataset.key));
  }

  /** Tell the other moderators which question this console is editing (null: none). */
  async function editing(questionId) {
    if (questionId === mine) return { ok: true };
    mine = questionId;
    return link.call("editing", { question_id: questionId });
  }

  const socket = link.socket;
  socket.on("snapshot", (data) => {
    if (data.you) you = data.you;
    editors.clear(); // marks from before a reconnection may be stale; live ones come again
    if (mine !== null) { const again = mine; mine = null; editing(again); }
    render();
    markAll();
  });
  socket.on("presence", (data) => {
    moderating = data.moderating || [];
    // someone who left is editing nothing any more
    const present = new Set(moderating.map(whoKey));
    for (const key of [...editors.keys()]) if (!present.has(key)) editors.delete(key);
    render();
    markAll();
  });
  socket.on("editing", (data) => {
    if (data.question_id === null) editors.delete(whoKey(data));
    else editors.set(whoKey(data), data);
    markAll();
  });
  socket.on("disconnect", () => { editors.clear(); markAll(); });
  store?.addEventListener("change", markAll); // after the console re-renders its rows
  render();

  return { editing, editorsOf, markRow, markAll, get moderating() { return moderating; }, get you() { return you; } };
}
