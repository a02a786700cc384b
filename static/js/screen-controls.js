// The console's projector controls: the join slide on every screen, and the issue clock (on/off,
// five minutes more or less for the current issue, the time left). The server keeps the
// current issue's end (event.clock); this only shows it and asks for changes.
import { $, t } from "./live.js";
import { formatLeft, msLeft } from "./clock.js";

const STEP = 5;

/** Wire the header's controls to the socket (link) and the event (store); say a refusal with
 * fail(error). */
export function initScreenControls({ link, store, fail }) {
  const slide = $("#join-slide");
  const clockOn = $("#clock-on");
  const less = $("#clock-less");
  const more = $("#clock-more");

  async function send(name, payload, box = null) {
    if (box) box.dataset.busy = "1";
    const ack = await link.call(name, payload);
    if (box) delete box.dataset.busy;
    if (!ack.ok) {
      render();
      return fail(ack.error);
    }
    if (ack.event && (!store.event || ack.event.rev >= store.event.rev)) {
      store.event = ack.event;
      store.changed();
    }
  }

  function render() {
    const event = store.event;
    if (!event) return;
    const clock = event.clock || { available: false, on: false };
    slide.disabled = false;
    if (!slide.dataset.busy) slide.checked = event.screen_mode === "join";
    clockOn.disabled = !clock.available;
    if (!clockOn.dataset.busy) clockOn.checked = Boolean(clock.on && clock.available);
    less.disabled = more.disabled = !clock.available;
    less.hidden = more.hidden = !clock.available;
    $("#clock-none").hidden = clock.available;
    tick();
  }

  function tick() {
    const clock = store.event?.clock;
    const el = $("#clock-left");
    el.hidden = !clock?.available;
    if (el.hidden) return;
    const left = msLeft(clock);
    el.textContent = left ? t("clock_left", { time: formatLeft(left) }) : t("time_up");
    el.setAttribute("datetime", `PT${Math.ceil(left / 1000)}S`);
    el.classList.toggle("off", !clock.on);
  }

  slide.addEventListener("change", () => send("screen_mode", { mode: slide.checked ? "join" : "questions" }, slide));
  clockOn.addEventListener("change", () => send("clock", { on: clockOn.checked }, clockOn));
  less.addEventListener("click", () => send("clock", { add_minutes: -STEP }));
  more.addEventListener("click", () => send("clock", { add_minutes: STEP }));
  store.addEventListener("change", render);
  setInterval(tick, 1000);
  render();
}
