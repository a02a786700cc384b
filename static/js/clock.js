// The issue clock's arithmetic, shared by the screen and the console. The server sends the
// current issue's slot (event.clock: starts_at, ends_at) in the venue's local time, as the
// programme states its times; a browser in the venue reads them on its own clock.

/** Milliseconds left in the slot now: its whole length before it starts, 0 once it is over. */
export function msLeft(clock, now = Date.now()) {
  return Math.max(0, Date.parse(clock.ends_at) - Math.max(now, Date.parse(clock.starts_at)));
}

/** 1:05:00, 24:00, 0:59 (rounded up: a slot of 24 minutes starts at 24:00). */
export function formatLeft(ms) {
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}
