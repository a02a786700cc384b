"""The Socket.IO rooms of an event, and which of this process's sockets are in them.

Every phone and screen of an event is in its audience room; moderators are in its moderator
room; each participant's sockets are also in a room of their own (their hidden questions go
there). python-socketio's manager keeps the members (`rooms`, a private attribute checked by
tests/test_private_hooks.py).
"""

from __future__ import annotations

from .extensions import socketio


def audience_room(event_id: int) -> str:
    """The room of the audience and screens of an event."""
    return f"event:{event_id}"


def moderator_room(event_id: int) -> str:
    """The room of the moderators of an event."""
    return f"event:{event_id}:mod"


def participant_room(participant_id: int) -> str:
    """The room of one participant's sockets (its own hidden questions go there)."""
    return f"participant:{participant_id}"


def connected(room: str) -> int:
    """How many sockets of this process are in a room."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return len(rooms.get(room, ()))


def local_events() -> set[int]:
    """The events this process has sockets of."""
    rooms = socketio.server.manager.rooms.get("/", {})
    found = set()
    for room, members in list(rooms.items()):
        if isinstance(room, str) and room.startswith("event:") and members:
            found.add(int(room.split(":")[1]))
    return found
