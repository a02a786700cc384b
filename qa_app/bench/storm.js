// The join storm of `qa-app bench --floor`: N phones each POST .../participants (a connection
// of its own, as a phone has), then open a socket.io WebSocket with auth {event, token} and wait
// for their "snapshot"; at most `burst` joins and handshakes in flight, over `workers` Node
// processes. Prints one JSON line once every phone is in (or refused) and keeps every socket
// open until its standard input closes, so that the server's memory can be read with them all.
// argv: url code phones burst workers
"use strict";

const http = require("http");
const { fork } = require("child_process");

const [URL_, CODE] = process.argv.slice(2, 4);
const [PHONES, BURST, WORKERS] = process.argv.slice(4, 7).map(Number);
const WORKER = process.env.QA_STORM_WORKER === undefined ? null : Number(process.env.QA_STORM_WORKER);
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000; // ms, the machine's monotonic clock
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function join() {
  return new Promise((resolve) => {
    const request = http.request(`${URL_}/api/v1/events/${CODE}/participants`, { method: "POST",
      agent: false, headers: { "Content-Type": "application/json", "Content-Length": 2 } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => resolve(response.statusCode === 201 ? JSON.parse(body).token : null));
    });
    request.setTimeout(60000, () => request.destroy(new Error("join timeout")));
    request.on("error", () => resolve(null));
    request.end("{}");
  });
}

async function worker() {
  const io = require("socket.io-client");
  const mine = Math.floor(PHONES / WORKERS) + (WORKER < PHONES % WORKERS ? 1 : 0);
  const burst = Math.max(1, Math.floor(BURST / WORKERS));
  const s = { joined: 0, connected: 0, failed: 0, firstJoin: Infinity, lastJoin: 0, lastConnected: 0 };
  const sockets = [];
  let inFlight = 0;
  const phone = async () => {
    s.firstJoin = Math.min(s.firstJoin, now());
    const token = await join();
    if (token === null) { s.failed += 1; inFlight -= 1; return; }
    s.joined += 1;
    s.lastJoin = Math.max(s.lastJoin, now());
    const socket = io(URL_, { transports: ["websocket"], auth: { event: CODE, token }, forceNew: true,
      reconnection: false, timeout: 60000 });
    sockets.push(socket);
    socket.once("snapshot", () => { s.connected += 1; s.lastConnected = now(); inFlight -= 1; });
    socket.once("connect_error", () => { s.failed += 1; inFlight -= 1; });
  };
  for (let opened = 0; opened < mine;) {
    while (opened < mine && inFlight < burst) { inFlight += 1; opened += 1; phone(); }
    await sleep(2);
  }
  while (s.connected + s.failed < mine) await sleep(10);
  const cpu = process.cpuUsage();
  process.send({ ...s, cpu_s: (cpu.user + cpu.system) / 1e6 });
  process.on("message", () => { for (const socket of sockets) socket.close(); process.exit(0); });
}

function primary() {
  const results = [];
  const children = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(__filename, process.argv.slice(2), { env: { ...process.env, QA_STORM_WORKER: String(i) } });
    child.on("message", (result) => {
      results.push(result);
      if (results.length < WORKERS) return;
      const sum = (name) => results.reduce((total, r) => total + r[name], 0);
      const first = Math.min(...results.map((r) => r.firstJoin));
      const lastJoin = Math.max(...results.map((r) => r.lastJoin));
      console.log(JSON.stringify({ joined: sum("joined"), connected: sum("connected"), failed: sum("failed"),
        join_span_ms: lastJoin - first, connect_ms: Math.max(...results.map((r) => r.lastConnected)) - first,
        loadgen_cpu_s: sum("cpu_s") }));
    });
    children.push(child);
  }
  process.stdin.resume();
  process.stdin.on("end", () => { for (const child of children) child.send("close"); });
}

if (WORKER === null) primary(); else worker();
