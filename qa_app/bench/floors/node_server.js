// The floor of `qa-app bench --floor` on Node: the join and connection of qa_app's protocol,
// in memory, on Node's http module and the socket.io server. A join keeps the SHA-256 of a
// random token; a connection with auth {event, token} joins the audience's and its own room and
// gets the snapshot (the file given: a phone's snapshot from qa_app). argv: port snapshot.json
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const { Server } = require("socket.io");

const snapshot = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const code = snapshot.event.code;
const joinPath = `/api/v1/events/${code}/participants`;
const participants = new Map(); // token hash -> participant id
const digest = (token) => crypto.createHash("sha256").update(token).digest("hex");

const server = http.createServer((request, response) => {
  if (request.method !== "POST" || request.url !== joinPath) { response.writeHead(404); response.end(); return; }
  let body = "";
  request.on("data", (chunk) => { body += chunk; });
  request.on("end", () => {
    try { JSON.parse(body || "{}"); } catch { response.writeHead(400); response.end(); return; }
    const token = "p." + crypto.randomBytes(24).toString("base64url");
    const id = participants.size + 1;
    participants.set(digest(token), id);
    response.writeHead(201, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ participant_id: id, token }));
  });
});
const io = new Server(server, { transports: ["websocket"] });
io.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  const id = auth.event === code && typeof auth.token === "string" && participants.get(digest(auth.token));
  if (!id) { next(new Error("This token is not valid for this event.")); return; }
  socket.data.id = id;
  next();
});
io.on("connection", (socket) => {
  socket.join("audience");
  socket.join(`participant:${socket.data.id}`);
  socket.emit("snapshot", snapshot);
});
server.listen(Number(process.argv[2]), "127.0.0.1");
