"""The floors of `qa-app bench --floor` in Python: the join and connection of qa_app's protocol,
in memory, under gevent, with no application code around them. `flask-socketio` is the card's
stack as it comes (Flask, Flask-SocketIO, python-socketio, engine.io and simple-websocket on
gevent's pywsgi, started with `socketio.run`); `python-socketio` is the same without Flask (a
WSGI function for the join, python-socketio's WSGIApp for the sockets). A join keeps the SHA-256
of a random token; a connection with auth {event, token} joins the audience's and its own room
and gets the snapshot (the file given: a phone's snapshot from qa_app). The garbage collector
is set as qa_app's server sets it (GC_THRESHOLD: young collections every so many allocations,
after a first full pass whose survivors are frozen), so that the floors differ from qa_app in
their code, not in their collector.

Run as a script (gevent patches the standard library before anything else is imported):
python_server.py flask-socketio|python-socketio PORT SNAPSHOT.json GC_THRESHOLD
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402

STACK, PORT, SNAPSHOT, GC_THRESHOLD = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(SNAPSHOT, encoding="utf-8") as file:
    snapshot = json.load(file)
code = snapshot["event"]["code"]
JOIN_PATH = f"/api/v1/events/{code}/participants"
participants: dict[str, int] = {}  # token hash -> participant id


def digest(token: str) -> str:
    """The token as it is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_participant() -> dict:
    """A join: a new participant and its token."""
    token = "p." + secrets.token_urlsafe(24)
    participants[digest(token)] = participant_id = len(participants) + 1
    return {"participant_id": participant_id, "token": token}


def tune_gc() -> None:
    """The collector as qa_app's server sets it (qa_app/serving.py's _tune_gc)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)


def participant_of(auth: object) -> int | None:
    """The participant a connection's auth names, if its token is valid for the event."""
    if not isinstance(auth, dict) or auth.get("event") != code:
        return None
    token = auth.get("token")
    return participants.get(digest(token)) if isinstance(token, str) else None


def flask_socketio() -> None:
    """Flask and Flask-SocketIO."""
    from flask import Flask, jsonify, request
    from flask_socketio import SocketIO, emit, join_room

    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    socketio = SocketIO(app, async_mode="gevent")

    @app.post(JOIN_PATH)
    def join():
        request.get_json(silent=True)
        return jsonify(new_participant()), 201

    @socketio.on("connect")
    def connect(auth=None):
        participant_id = participant_of(auth)
        if participant_id is None:
            raise ConnectionRefusedError("This token is not valid for this event.")
        join_room("audience")
        join_room(f"participant:{participant_id}")
        emit("snapshot", snapshot)

    tune_gc()
    socketio.run(app, host="127.0.0.1", port=PORT, log_output=False)


def python_socketio() -> None:
    """python-socketio's WSGIApp and a WSGI function for the join, without Flask."""
    import socketio
    from gevent import pywsgi

    server = socketio.Server(async_mode="gevent")

    def rest(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != JOIN_PATH:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        json.loads(environ["wsgi.input"].read(length) or b"{}")
        body = json.dumps(new_participant()).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("201 Created", headers)
        return [body]

    @server.on("connect")
    def connect(sid, environ, auth=None):
        participant_id = participant_of(auth)
        if participant_id is None:
            raise ConnectionRefusedError("This token is not valid for this event.")
        server.enter_room(sid, "audience")
        server.enter_room(sid, f"participant:{participant_id}")
        server.emit("snapshot", snapshot, to=sid)

    app = socketio.WSGIApp(server, rest)
    tune_gc()
    pywsgi.WSGIServer(("127.0.0.1", PORT), app, log=None).serve_forever()


if __name__ == "__main__":
    {"flask-socketio": flask_socketio, "python-socketio": python_socketio}[STACK]()
