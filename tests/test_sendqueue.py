"""qa_app/sendqueue.py: each connection's queue under gevent does what engine.io asks of gevent's
(the packets in order; a long-poll's get waits for the next one or times out; a close waits
until everything put was sent), and tells the connection's writer of every put."""

from __future__ import annotations

import functools
import threading
import time

import gevent
import pytest
from gevent.queue import Empty

from qa_app.sendqueue import SendQueue


def own_hub(test):
    """Run a test in a thread of its own, with gevent's hub of that thread: the worker's main
    thread may hold greenlets of an app an earlier test made in gevent mode, which a hub there
    would start running (and this test's would outlive it)."""

    @functools.wraps(test)
    def run():
        failure: list[BaseException] = []

        def body():
            try:
                test()
            except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
                failure.append(exc)
            finally:
                gevent.get_hub().destroy(destroy_loop=True)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the test's greenlets did not finish in 30 s"
        if failure:
            raise failure[0]

    return run


@own_hub
def test_packets_come_out_in_the_order_they_went_in_and_the_writer_hears_of_each():
    queue, kicks = SendQueue(), []
    queue.on_put = lambda: kicks.append(queue.qsize())
    for packet in ("open", "snapshot", "update"):
        queue.put(packet)
    assert kicks == [1, 2, 3] and not queue.empty()
    assert [queue.get(block=False) for _ in range(3)] == ["open", "snapshot", "update"]
    assert queue.empty()
    with pytest.raises(Empty):
        queue.get(block=False)
    with pytest.raises(Empty):
        queue.get_nowait()


@own_hub
def test_a_long_polls_get_waits_for_the_next_packet_or_times_out():
    queue = SendQueue()
    poll = gevent.spawn(queue.get, timeout=5)
    gevent.sleep(0.05)
    assert not poll.ready()  # waiting
    queue.put("update")
    assert poll.get(timeout=1) == "update"

    started = time.monotonic()
    with pytest.raises(Empty):
        queue.get(timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2

    # two polls at once (a client that opened a second one): each packet goes to one of them
    first, second = gevent.spawn(queue.get, timeout=2), gevent.spawn(queue.get, timeout=2)
    gevent.sleep(0.05)
    queue.put("a")
    queue.put("b")
    assert sorted([first.get(timeout=3), second.get(timeout=3)]) == ["a", "b"]


@own_hub
def test_a_closing_connection_waits_until_everything_put_was_sent():
    queue = SendQueue()
    assert queue.join(timeout=0) is True  # nothing put: nothing to wait for
    queue.put("update")
    queue.put(None)  # the end-of-connection mark
    closing = gevent.spawn(queue.join)
    gevent.sleep(0.05)
    assert not closing.ready()
    queue.get(block=False)
    queue.task_done()
    gevent.sleep(0.05)
    assert not closing.ready()  # one still unsent
    queue.get(block=False)
    queue.task_done()
    assert closing.get(timeout=1) is True
    assert queue.join(timeout=0.05) is True
    queue.put("late")
    assert queue.join(timeout=0.05) is False  # put, never taken
    with pytest.raises(ValueError):
        SendQueue().task_done()
