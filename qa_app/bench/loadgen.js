// The load generator of `qa-app bench`: N phones, one moderator and one screen on the official
// socket.io client, driving V votes/s and Q questions/s for T seconds. Reads its plan as JSON on
// argv[2]; prints a progress line on stderr each second and one JSON result on stdout.
//
// The phones are split over `plan.workers` Node processes (one event loop parsing every phone's
// updates would itself add its backlog to the latencies). The primary process only coordinates:
// it starts the phases together, relays each acknowledged vote (its send time) to every worker so
// each can time its own phones' sightings of it, and merges the workers' histograms.
// process.hrtime is the machine's monotonic clock, the same in every process.
"use strict";

const fs = require("fs");
const { fork } = require("child_process");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const MAX_MS = 120000;
const WORKER = process.env.QA_LOADGEN_WORKER === undefined ? null : Number(process.env.QA_LOADGEN_WORKER);
const WORKERS = Math.max(1, plan.workers || 1);
let io = null; // the socket.io client, loaded in the workers only

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
  toJSON() {
    const used = [];
    for (let i = 0; i <= MAX_MS; i++) if (this.buckets[i]) used.push([i, this.buckets[i]]);
    return { used, max: this.max };
  }
  merge(data) { for (const [i, count] of data.used) this.addMany(i, count); this.max = Math.max(this.max, data.max); }
}

const HISTOGRAMS = ["ack", "askAck", "seen", "seenCross", "seenSame", "lag", "join"];
const COUNTERS = ["connected", "refused", "disconnects", "reconnects", "updates", "snapshots", "presence",
  "votesSent", "votesAcked", "votesFailed", "asksSent", "asksAcked", "asksFailed", "joined", "joinsFailed"];
const PHONES = plan.join_storm ? plan.phones : plan.tokens.length;

const now = () => Number(process.hrtime.bigint() / 1000n) / 1000; // ms, the machine's monotonic clock

// The join storm: a phone joins over REST (its own TCP connection, as a phone has) and only then
// opens its socket. Resolves to the participant's token, or null when the join was refused.
function joinOverRest(url) {
  const http = require("http");
  const target = new URL(`${url}/api/v1/events/${plan.code}/participants`);
  const t = now();
  return new Promise((resolve) => {
    const request = http.request(target, { method: "POST", agent: false,
      headers: { "Content-Type": "application/json", "Content-Length": 2 } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => {
        if (response.statusCode !== 201) { stats.joinsFailed += 1; noteError(`join ${response.statusCode}`); resolve(null); return; }
        const done = now();
        stats.joined += 1;
        stats.join.add(done - t);
        joinSpan.first = Math.min(joinSpan.first, t);
        joinSpan.last = Math.max(joinSpan.last, done);
        resolve(JSON.parse(body).token);
      });
    });
    request.setTimeout(60000, () => request.destroy(new Error("join timeout")));
    request.on("error", (err) => { stats.joinsFailed += 1; noteError(String(err.message)); resolve(null); });
    request.end("{}");
  });
}
const joinSpan = { first: Infinity, last: -Infinity };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// A worker: its share of the phones (and, on worker 0, the moderator and the screen).

const stats = {};
for (const name of COUNTERS) stats[name] = 0;
for (const name of HISTOGRAMS) stats[name] = new Histogram();
const errors = {};
const noteError = (code) => { errors[code] = (errors[code] || 0) + 1; };

// Per question: vote count -> {t: send time, server}; counts only go up (phones only upvote).
const sent = new Map();      // qid -> Map(votes -> {t, server})
const pending = new Map();   // qid -> Map(votes -> [[time, server, count]]): seen before the ack
const live = [];             // question ids phones may vote for
const liveSet = new Set();
let issues = [];
let learnedVersion = 0; // every phone gets the same update: learn new questions from the first

function record(time, sendInfo, server, count) {
  const ms = time - sendInfo.t;
  stats.seen.addMany(ms, count);
  (server === sendInfo.server ? stats.seenSame : stats.seenCross).addMany(ms, count);
}

function sawCount(phone, q, time, fromSnapshot) {
  let last = phone.seen.get(q.id);
  if (last === undefined && fromSnapshot) { phone.seen.set(q.id, q.votes); return; }
  if (last === undefined) last = 0; // a question first seen in an update: every vote is new
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

// A vote was acknowledged (here or in another worker): the sightings waiting for it count now.
function acked(qid, votes, info) {
  let bySent = sent.get(qid);
  if (!bySent) { bySent = new Map(); sent.set(qid, bySent); }
  bySent.set(votes, info);
  const waiting = pending.get(qid);
  const list = waiting && waiting.get(votes);
  if (list) {
    for (const [seenAt, server, count] of list) record(seenAt, info, server, count);
    waiting.delete(votes);
  }
}

function learn(questions) {
  for (const q of questions) {
    if (q.status === "live" && !q.removed && !liveSet.has(q.id)) { liveSet.add(q.id); live.push(q.id); }
  }
}

let measuring = false;

function connect(url, token, kind, server) {
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
    if (kind === "phone") for (const q of snap.questions) sawCount(client, q, now(), true);
  });
  socket.on("update", (update) => {
    stats.updates += 1;
    if (kind !== "phone") return;
    const time = now();
    if (update.version > learnedVersion) { learnedVersion = update.version; learn(update.questions); }
    for (const q of update.questions) if (!q.removed) sawCount(client, q, time, false);
  });
  socket.on("presence", () => { stats.presence += 1; });
  socket.on("connect_error", (err) => { if (!client.ready) stats.refused += 1; noteError(String(err.message)); });
  socket.on("disconnect", (reason) => { if (measuring) { stats.disconnects += 1; noteError(reason); } });
  socket.io.on("reconnect", () => { stats.reconnects += 1; });
  return client;
}

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
      acked(qid, ack.votes, info);
      process.send({ type: "acked", qid, votes: ack.votes, info });
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
  const tag = `${process.pid}-${asked}`;
  const payload = { issue_id: issue.id, text: `Bench question ${tag}: how would you scale this?`, client_id: `bench-${tag}` };
  phone.socket.timeout(60000).emit("ask", payload, (err, ack) => {
    if (err || !ack.ok) { stats.asksFailed += 1; noteError(err ? "ask timeout" : ack.error.code); return; }
    stats.asksAcked += 1;
    stats.askAck.add(now() - t);
    learn([ack.question]);
  });
}

function counters() {
  const out = { seen: stats.seen.n };
  for (const name of COUNTERS) out[name] = stats[name];
  return out;
}

async function worker() {
  io = require("socket.io-client").io;
  const urls = plan.urls;
  const clients = [];
  const phones = [];
  const commands = [];
  process.on("message", (message) => {
    if (message.type === "acked") acked(message.qid, message.votes, message.info);
    else commands.push(message);
  });
  const next = async (type) => {
    for (;;) {
      const i = commands.findIndex((c) => c.type === type);
      if (i >= 0) return commands.splice(i, 1)[0];
      await sleep(10);
    }
  };
  const status = setInterval(() => process.send({ type: "status", counters: counters() }), 250);
  const started = now();
  if (WORKER === 0) {
    clients.push(connect(urls[0], plan.moderator_key, "moderator", 0));
    clients.push(connect(urls[urls.length - 1], null, "screen", urls.length - 1));
  }
  const mine = [];
  for (let i = WORKER; i < PHONES; i += WORKERS) mine.push(i);
  let opened = 0;
  let given = 0; // joins that ended without a token: those phones never connect
  const burst = Math.max(1, Math.floor(plan.burst / WORKERS));
  const open = async (index) => {
    const server = index % urls.length;
    const token = plan.join_storm ? await joinOverRest(urls[server]) : plan.tokens[index];
    if (token === null) { given += 1; return; }
    phones.push(connect(urls[server], token, "phone", server));
    clients.push(phones[phones.length - 1]);
  };
  while (opened < mine.length) {
    // keep at most `burst` joins and handshakes in flight, as a hall of phones joining in a rush
    while (opened < mine.length && opened - stats.connected - given < burst) {
      open(mine[opened]);
      opened += 1;
    }
    await sleep(5);
    if (now() - started > plan.connect_timeout_s * 1000) break;
  }
  const expectedClients = () => mine.length - given + (WORKER === 0 ? 2 : 0);
  while (stats.connected < expectedClients() && now() - started < plan.connect_timeout_s * 1000) await sleep(20);
  process.send({ type: "connected", counters: counters() });

  const { count } = await next("seed");
  for (let i = 0; i < count; i++) ask(phones);
  const seedUntil = now() + 10000;
  while (stats.asksAcked + stats.asksFailed < count && now() < seedUntil) await sleep(20);
  process.send({ type: "seeded" });

  const { start } = await next("drive");
  while (now() < start) await sleep(1);
  measuring = true;
  // how late this worker's event loop runs a 10 ms timer: its own share of every latency
  let expectedAt = now() + 10;
  const lagTimer = setInterval(() => { const t = now(); stats.lag.add(t - expectedAt); expectedAt = t + 10; }, 10);
  const votesPerS = plan.votes_per_s / WORKERS, asksPerS = plan.questions_per_s / WORKERS;
  let votesDone = 0, asksDone = 0;
  while (now() - start < plan.duration_s * 1000) {
    const elapsed = (now() - start) / 1000;
    while (votesDone < Math.floor(elapsed * votesPerS)) { vote(phones); votesDone += 1; }
    while (asksDone < Math.floor(elapsed * asksPerS)) { ask(phones); asksDone += 1; }
    await sleep(5);
  }
  clearInterval(lagTimer);
  process.send({ type: "driven", counters: counters() });
  await next("finish");
  measuring = false;
  clearInterval(status);
  const result = { counters: counters(), errors, phones: phones.length, join_span: joinSpan,
    cpu_s: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    rss_mb: Math.round(process.memoryUsage().rss / 1048576) };
  for (const name of HISTOGRAMS) result[name] = stats[name].toJSON();
  process.send({ type: "result", result }, () => {
    for (const c of clients) c.socket.close();
    setTimeout(() => process.exit(0), 200);
  });
}

// ---------------------------------------------------------------------------------------------
// The primary: starts the workers, keeps them in step, merges what they measured.

async function primary() {
  const children = [];
  const latest = [];   // each worker's last counters
  const results = [];
  const events = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(__filename, [process.argv[2]], {
      env: { ...process.env, QA_LOADGEN_WORKER: String(i) },
      execArgv: process.execArgv,
    });
    child.on("message", (message) => {
      if (message.type === "acked") {
        for (const other of children) if (other !== child && other.connected) other.send(message);
        return;
      }
      if (message.counters) latest[i] = message.counters;
      if (message.type === "result") results[i] = message.result;
      else if (message.type !== "status") events.push({ worker: i, type: message.type });
    });
    child.on("exit", (code) => { if (code && !results[i]) { console.error(`load generator worker ${i} failed (${code})`); process.exit(1); } });
    children.push(child);
  }
  const sum = (name) => latest.reduce((total, c) => total + (c ? c[name] : 0), 0);
  const waitFor = async (type, count) => {
    while (events.filter((e) => e.type === type).length < count) await sleep(10);
  };
  const progress = (phase, started) => {
    const s = ((now() - started) / 1000).toFixed(0);
    process.stderr.write(
      `  [${plan.label}] ${phase} ${s}s: connected ${sum("connected")}/${PHONES + 2}` +
      (plan.join_storm ? ` joined ${sum("joined")}` : "") +
      ` votes ${sum("votesAcked")}/${sum("votesSent")} asks ${sum("asksAcked")}` +
      ` updates ${sum("updates")} disconnects ${sum("disconnects")}\n`);
  };
  // the servers' CPU seconds and resident memory, read from /proc (Linux) at phase boundaries
  const serverUsage = () => {
    let cpu = 0, rssKb = 0;
    for (const pid of plan.server_pids || []) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        cpu += (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ: 100 on Linux
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
      } catch { /* not Linux, or the server is gone */ }
    }
    return { cpu, rssKb };
  };
  const usageBefore = serverUsage();
  const startConnect = now();
  let ticker = setInterval(() => progress("connecting", startConnect), 1000);
  await waitFor("connected", WORKERS);
  const connectMs = Math.round(now() - startConnect);
  const usageConnected = serverUsage();
  clearInterval(ticker);
  progress("connected", startConnect);

  children[0].send({ type: "seed", count: plan.seed_questions });
  for (let i = 1; i < WORKERS; i++) children[i].send({ type: "seed", count: 0 });
  await waitFor("seeded", WORKERS);
  await sleep(500);

  const start = now() + 100;
  for (const child of children) child.send({ type: "drive", start });
  ticker = setInterval(() => progress("driving", start), 1000);
  await waitFor("driven", WORKERS);
  clearInterval(ticker);
  // drain: until every acked vote was seen by every connected phone, or the drain timeout
  const drainStart = now();
  const expected = () => sum("votesAcked") * (sum("connected") - 2);
  while (now() - drainStart < plan.drain_s * 1000 &&
         (sum("seen") < expected() || sum("votesAcked") + sum("votesFailed") < sum("votesSent"))) {
    await sleep(50);
  }
  progress("done", start);
  for (const child of children) child.send({ type: "finish" });
  while (results.filter(Boolean).length < WORKERS) await sleep(20);

  const merged = {};
  for (const name of HISTOGRAMS) {
    merged[name] = new Histogram();
    for (const r of results) merged[name].merge(r[name]);
  }
  const total = (name) => results.reduce((t, r) => t + r.counters[name], 0);
  const errors = {};
  for (const r of results) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] || 0) + n;
  const phones = results.reduce((t, r) => t + r.phones, 0);
  const acks = total("votesAcked");
  const spans = results.filter((r) => r.counters.joined).map((r) => r.join_span);
  const result = {
    label: plan.label,
    workers: WORKERS,
    phones,
    connect_ms: connectMs,
    joined: total("joined"), joins_failed: total("joinsFailed"),
    join_ms: merged.join.summary(),
    join_span_ms: total("joined") ? Math.round(Math.max(...spans.map((s) => s.last)) -
      Math.min(...spans.map((s) => s.first))) : null,
    server_connect_cpu_s: Math.round((usageConnected.cpu - usageBefore.cpu) * 100) / 100,
    server_connect_rss_kb: usageConnected.rssKb - usageBefore.rssKb,
    connected: total("connected"),
    refused: total("refused"),
    disconnects: total("disconnects"),
    reconnects: total("reconnects"),
    votes_sent: total("votesSent"), votes_acked: acks, votes_failed: total("votesFailed"),
    asks_sent: total("asksSent"), asks_acked: total("asksAcked"), asks_failed: total("asksFailed"),
    vote_ack_ms: merged.ack.summary(),
    ask_ack_ms: merged.askAck.summary(),
    loadgen_lag_ms: merged.lag.summary(),
    vote_seen_ms: merged.seen.summary(),
    vote_seen_same_process_ms: merged.seenSame.summary(),
    vote_seen_cross_process_ms: merged.seenCross.summary(),
    vote_sightings_expected: acks * phones,
    vote_sightings_missing: Math.max(0, acks * phones - merged.seen.n),
    messages_delivered: total("updates") + total("snapshots") + total("presence"),
    updates_delivered: total("updates"),
    errors,
    loadgen_cpu_s: results.reduce((t, r) => t + r.cpu_s, 0) +
      (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    loadgen_rss_mb: results.reduce((t, r) => t + r.rss_mb, 0),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  setTimeout(() => process.exit(0), 500);
}

setTimeout(() => { process.stderr.write("load generator: hard time limit reached\n"); process.exit(2); },
  (plan.connect_timeout_s + plan.duration_s + plan.drain_s + 60) * 1000).unref();
(WORKER === null ? primary() : worker()).catch((err) => { console.error(err); process.exit(1); });
