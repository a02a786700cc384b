// The load generator of `qa-app bench`: N phones, one moderator and one screen on the official
// socket.io client, driving V votes/s and Q questions/s for T seconds. Reads its plan as JSON on
// argv[2]; prints a progress line on stderr each second and one JSON result on stdout.
"use strict";

const fs = require("fs");
const { io } = require("socket.io-client");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const MAX_MS = 120000;

class Histogram {
  constructor() { this.buckets = new Float64Array(MAX_MS + 1); this.n = 0; this.max = 0; }
  add(ms) {
    const b = Math.min(MAX_MS, Math.max(0, Math.round(ms)));
    this.buckets[b] += 1; this.n += 1; if (ms > this.max) this.max = ms;
  }
  addMany(ms, count) {
    const b = Math.min(MAX_MS, Math.max(0, Math.round(ms)));
    this.buckets[b] += count; this.n += count; if (ms > this.max) this.max = ms;
  }
  pct(p) {
    if (!this.n) return null;
    const goal = Math.ceil(this.n * p);
    let seen = 0;
    for (let i = 0; i <= MAX_MS; i++) { seen += this.buckets[i]; if (seen >= goal) return i; }
    return MAX_MS;
  }
  summary() { return { n: this.n, p50: this.pct(0.5), p99: this.pct(0.99), max: Math.round(this.max) }; }
}

const now = () => Number(process.hrtime.bigint() / 1000n) / 1000; // ms
const stats = {
  connectMs: null, connected: 0, refused: 0, disconnects: 0, reconnects: 0,
  updates: 0, snapshots: 0, presence: 0,
  votesSent: 0, votesAcked: 0, votesFailed: 0, asksSent: 0, asksAcked: 0, asksFailed: 0,
  ack: new Histogram(), askAck: new Histogram(),
  seen: new Histogram(), seenCross: new Histogram(), seenSame: new Histogram(),
};
const errors = {};
const noteError = (code) => { errors[code] = (errors[code] || 0) + 1; };

// Per question: vote count -> {t: send time, server}; counts only go up (phones only upvote).
const sent = new Map();      // qid -> Map(votes -> {t, server})
const pending = new Map();   // qid -> Map(votes -> [[time, server, count]]): seen before the ack
const live = [];             // question ids phones may vote for
const liveSet = new Set();
let issues = [];

function record(time, sendInfo, server, count) {
  const ms = time - sendInfo.t;
  stats.seen.addMany(ms, count);
  (server === sendInfo.server ? stats.seenSame : stats.seenCross).addMany(ms, count);
}

function sawCount(phone, q, time) {
  const last = phone.seen.get(q.id);
  if (last === undefined) { phone.seen.set(q.id, q.votes); return; }
  if (q.votes <= last) return;
  phone.seen.set(q.id, q.votes);
  const bySent = sent.get(q.id) || new Map();
  for (let v = last + 1; v <= q.votes; v++) {
    const info = bySent.get(v);
    if (info) { record(time, info, phone.server, 1); continue; }
    let waiting = pending.get(q.id);
    if (!waiting) { waiting = new Map(); pending.set(q.id, waiting); }
    const list = waiting.get(v);
    const last2 = list && list[list.length - 1];
    if (last2 && last2[0] === time && last2[1] === phone.server) last2[2] += 1;
    else if (list) list.push([time, phone.server, 1]);
    else waiting.set(v, [[time, phone.server, 1]]);
  }
}

function learn(questions) {
  for (const q of questions) {
    if (q.status === "live" && !q.removed && !liveSet.has(q.id)) { liveSet.add(q.id); live.push(q.id); }
  }
}

function connect(i, url, token, kind, server) {
  const client = { kind, server, socket: null, seen: new Map(), voted: new Set(), ready: false };
  const auth = { event: plan.code };
  if (token) auth.token = token;
  const socket = io(url, {
    transports: ["websocket"], auth, reconnection: true, reconnectionDelay: 1000,
    reconnectionDelayMax: 5000, timeout: 60000, forceNew: true,
  });
  client.socket = socket;
  socket.on("snapshot", (snap) => {
    stats.snapshots += 1;
    if (!client.ready) { client.ready = true; stats.connected += 1; }
    if (!issues.length) issues = snap.issues;
    learn(snap.questions);
    if (kind === "phone") for (const q of snap.questions) sawCount(client, q, now());
  });
  socket.on("update", (update) => {
    stats.updates += 1;
    if (kind !== "phone") return;
    const time = now();
    learn(update.questions);
    for (const q of update.questions) if (!q.removed) sawCount(client, q, time);
  });
  socket.on("presence", () => { stats.presence += 1; });
  socket.on("connect_error", (err) => { if (!client.ready) stats.refused += 1; noteError(String(err.message)); });
  socket.on("disconnect", (reason) => { if (measuring) { stats.disconnects += 1; noteError(reason); } });
  socket.io.on("reconnect", () => { stats.reconnects += 1; });
  return client;
}

let measuring = false;
const clients = [];

function vote(phones) {
  if (!live.length) return;
  for (let tries = 0; tries < 20; tries++) {
    const phone = phones[Math.floor(Math.random() * phones.length)];
    const qid = live[Math.floor(Math.random() * live.length)];
    if (phone.voted.has(qid) || !phone.socket.connected) continue;
    phone.voted.add(qid);
    const t = now();
    stats.votesSent += 1;
    phone.socket.timeout(60000).emit("vote", { question_id: qid, up: true }, (err, ack) => {
      const time = now();
      if (err || !ack.ok) { stats.votesFailed += 1; noteError(err ? "vote timeout" : ack.error.code); return; }
      stats.votesAcked += 1;
      stats.ack.add(time - t);
      const info = { t, server: phone.server };
      let bySent = sent.get(qid);
      if (!bySent) { bySent = new Map(); sent.set(qid, bySent); }
      bySent.set(ack.votes, info);
      const waiting = pending.get(qid);
      const list = waiting && waiting.get(ack.votes);
      if (list) {
        for (const [seenAt, server, count] of list) record(seenAt, info, server, count);
        waiting.delete(ack.votes);
      }
    });
    return;
  }
}

let asked = 0;
function ask(phones) {
  const phone = phones[Math.floor(Math.random() * phones.length)];
  if (!phone.socket.connected || !issues.length) return;
  const issue = issues[asked % issues.length];
  asked += 1;
  const t = now();
  stats.asksSent += 1;
  const payload = { issue_id: issue.id, text: `Bench question ${asked}: how would you scale this?`, client_id: `bench-${process.pid}-${asked}` };
  phone.socket.timeout(60000).emit("ask", payload, (err, ack) => {
    if (err || !ack.ok) { stats.asksFailed += 1; noteError(err ? "ask timeout" : ack.error.code); return; }
    stats.asksAcked += 1;
    stats.askAck.add(now() - t);
    learn([ack.question]);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function progress(phase, started) {
  const s = ((now() - started) / 1000).toFixed(0);
  const ack = stats.ack.summary(), seen = stats.seen.summary();
  process.stderr.write(
    `  [${plan.label}] ${phase} ${s}s: connected ${stats.connected}/${plan.tokens.length + 2}` +
    ` votes ${stats.votesAcked}/${stats.votesSent} asks ${stats.asksAcked}` +
    ` updates ${stats.updates} ack p99 ${ack.p99 ?? "-"}ms seen p99 ${seen.p99 ?? "-"}ms` +
    ` disconnects ${stats.disconnects}\n`);
}

async function main() {
  const urls = plan.urls;
  const startConnect = now();
  const ticker = setInterval(() => progress("connecting", startConnect), 1000);
  clients.push(connect(-1, urls[0], plan.moderator_key, "moderator", 0));
  clients.push(connect(-2, urls[urls.length - 1], null, "screen", urls.length - 1));
  const phones = [];
  let opened = 0;
  while (opened < plan.tokens.length) {
    // keep at most `burst` handshakes in flight, as a hall of phones joining in a rush would
    while (opened < plan.tokens.length && opened - stats.connected < plan.burst) {
      const server = opened % urls.length;
      phones.push(connect(opened, urls[server], plan.tokens[opened], "phone", server));
      clients.push(phones[phones.length - 1]);
      opened += 1;
    }
    await sleep(5);
    if (now() - startConnect > plan.connect_timeout_s * 1000) break;
  }
  while (stats.connected < clients.length && now() - startConnect < plan.connect_timeout_s * 1000) {
    await sleep(20);
  }
  stats.connectMs = Math.round(now() - startConnect);
  clearInterval(ticker);
  progress("connected", startConnect);

  // seed questions to vote for
  for (let i = 0; i < plan.seed_questions; i++) ask(phones);
  const seedUntil = now() + 10000;
  while (stats.asksAcked + stats.asksFailed < plan.seed_questions && now() < seedUntil) await sleep(20);
  await sleep(500);

  measuring = true;
  const start = now();
  const drive = setInterval(() => progress("driving", start), 1000);
  let votesDone = 0, asksDone = 0;
  while (now() - start < plan.duration_s * 1000) {
    const elapsed = (now() - start) / 1000;
    while (votesDone < Math.floor(elapsed * plan.votes_per_s)) { vote(phones); votesDone += 1; }
    while (asksDone < Math.floor(elapsed * plan.questions_per_s)) { ask(phones); asksDone += 1; }
    await sleep(5);
  }
  clearInterval(drive);
  // drain: wait until every acked vote was seen by every connected phone, or the drain timeout
  const drainStart = now();
  const expected = () => stats.votesAcked * phones.length;
  while (now() - drainStart < plan.drain_s * 1000 &&
         (stats.seen.n < expected() || stats.votesAcked + stats.votesFailed < stats.votesSent)) {
    await sleep(50);
  }
  measuring = false;
  progress("done", start);
  const result = {
    label: plan.label,
    phones: phones.length,
    connect_ms: stats.connectMs,
    connected: stats.connected,
    refused: stats.refused,
    disconnects: stats.disconnects,
    reconnects: stats.reconnects,
    votes_sent: stats.votesSent, votes_acked: stats.votesAcked, votes_failed: stats.votesFailed,
    asks_sent: stats.asksSent, asks_acked: stats.asksAcked, asks_failed: stats.asksFailed,
    vote_ack_ms: stats.ack.summary(),
    ask_ack_ms: stats.askAck.summary(),
    vote_seen_ms: stats.seen.summary(),
    vote_seen_same_process_ms: stats.seenSame.summary(),
    vote_seen_cross_process_ms: stats.seenCross.summary(),
    vote_sightings_expected: expected(),
    vote_sightings_missing: Math.max(0, expected() - stats.seen.n),
    messages_delivered: stats.updates + stats.snapshots + stats.presence,
    updates_delivered: stats.updates,
    errors,
    loadgen_cpu_s: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    loadgen_rss_mb: Math.round(process.memoryUsage().rss / 1048576),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  for (const c of clients) c.socket.close();
  setTimeout(() => process.exit(0), 200);
}

setTimeout(() => { process.stderr.write("load generator: hard time limit reached\n"); process.exit(2); },
  (plan.connect_timeout_s + plan.duration_s + plan.drain_s + 60) * 1000).unref();
main().catch((err) => { console.error(err); process.exit(1); });
