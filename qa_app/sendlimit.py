"""What may wait in the server for one client: a bounded number of bytes, then a disconnect.

engine.io keeps each connection's outgoing packets in a queue (`socket.queue`) until its
WebSocket writer or its next long-poll takes them, and nothing bounds that queue: a phone that
stops reading while the hall votes would hold every update in the server's memory for as long
as it answers pings. Here each queue counts the bytes waiting in it, and a message for a
connection that already has more than `QA_SEND_BUFFER` bytes waiting, not counting the largest
waiting message, disconnects it instead of being queued. Neither the new message nor the
largest one counts, so one message larger than the bound (a moderator's snapshot can be
hundreds of KB, with the small packets around it) still goes out whole. The client reconnects
and catches up from its last version (`since`, docs/protocol.md). The kernel's share is bounded
by each connection's `SO_SNDBUF` (`QA_SOCKET_SNDBUF`, qa_app/httpserver.py).

Private hooks (tests/test_private_hooks.py): engine.io's `Server._async['queue']`, its Socket's
`queue`, and the `queue` of waiting items inside eventlet's queue and qa_app/sendqueue.py's
(which replaces gevent's). Upstream-style, not done
yet: a `max_queued_bytes` (or `queue_class`) option of engine.io's Server would replace both the
queue subclass and the wrapped `send_packet` (a public method, wrapped on the instance because
Flask-SocketIO builds the Server).
"""

from __future__ import annotations

import logging

from engineio import packet

log = logging.getLogger(__name__)


def size(item: packet.Packet | None) -> int:
    """The bytes item takes on the wire (its text as UTF-8), computed once per packet object.

    A broadcast queues one packet object for every recipient, so the count is shared too.
    """
    if item is None:  # the queue's end-of-connection mark
        return 0
    try:
        return item.qa_size
    except AttributeError:
        data = item.encode()
        counted = len(data) if isinstance(data, bytes) or data.isascii() else len(data.encode())
        item.qa_size = counted
        return counted


def counting(queue_class: type) -> type:
    """A subclass of the async server's queue that counts the bytes waiting in it."""

    class CountingQueue(queue_class):
        __slots__ = ("waiting",)  # a hall has thousands of these: no __dict__ for each

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.waiting = 0  # bytes put and not yet taken

        def put(self, item, *args, **kwargs):
            """Queue item, counting its bytes."""
            self.waiting += size(item)
            return super().put(item, *args, **kwargs)

        def get(self, *args, **kwargs):
            """Take an item; its bytes no longer wait."""
            item = super().get(*args, **kwargs)
            self.waiting -= size(item)
            return item

        def over(self, limit: int) -> bool:
            """Whether more than limit bytes wait, not counting the largest message."""
            if self.waiting <= limit:  # the usual case: no need to look at each message
                return False
            waiting = self.queue  # the items under SendQueue and eventlet's queue alike
            return self.waiting - max(map(size, waiting)) > limit

    return CountingQueue


def install(server, limit: int) -> bool:
    """Bound the bytes waiting for each connection of a gevent or eventlet Socket.IO server.

    Every message python-socketio sends (broadcasts, acknowledgements, snapshots) goes through
    engine.io's `send_packet`; engine.io's own pings are a few bytes and are only counted.
    """
    eio = server.eio
    if eio.async_mode not in ("gevent", "eventlet"):
        return False
    eio._async = dict(eio._async, queue=counting(eio._async["queue"]))  # each socket's queue
    send_packet = eio.send_packet

    def bounded_send_packet(sid, pkt):
        socket = eio.sockets.get(sid)
        if socket is not None and (socket.__dict__.get("qa_cut") or socket.queue.over(limit)):
            cut(eio, socket)
            return
        send_packet(sid, pkt)

    eio.send_packet = bounded_send_packet
    return True


def cut(eio, socket) -> None:
    """Disconnect a client that does not take what is sent to it; drop what would follow.

    A WebSocket's connection is shut down, so that its reader sees the end and its writer,
    blocked on a full kernel buffer, fails at once: engine.io then closes the socket on its
    usual path. A long-polling socket is closed in the background (not inside a broadcast).
    """
    if socket.__dict__.get("qa_cut"):
        return
    socket.qa_cut = True
    log.warning(
        "disconnecting %s: %d bytes waiting for a client that is not reading",
        socket.sid,
        socket.queue.waiting,
    )
    websocket = socket.__dict__.get("qa_websocket")
    if websocket is not None:
        websocket.cut()
    else:
        eio.start_background_task(
            socket.close, wait=False, abort=True, reason=eio.reason.TRANSPORT_ERROR
        )
