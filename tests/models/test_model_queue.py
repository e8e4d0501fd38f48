"""The embedded model's queue: callers take turns first come, first served, and are counted."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from langchain_core.messages import HumanMessage

from rag.models.llm_embedded import ModelQueue

WAIT = 30.0  # a generous bound so a broken queue fails the test instead of hanging it


def _until(condition, what: str) -> None:
    """Wait until ``condition()`` holds (threads need a moment to reach the queue)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never saw: {what}")
        time.sleep(0.005)


def _hold_turn(queue: ModelQueue, release: threading.Event, log: list[str], name: str):
    def run() -> None:
        with queue.turn():
            log.append(f"{name} in")
            release.wait(WAIT)
            log.append(f"{name} out")

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_waiting_callers_are_counted_and_served_in_arrival_order():
    queue, log = ModelQueue(), []
    releases = {name: threading.Event() for name in "abcd"}
    threads = []
    for i, name in enumerate("abcd"):
        threads.append(_hold_turn(queue, releases[name], log, name))
        # the next caller arrives only once this one is in the queue: a known arrival order
        _until(lambda i=i: queue.status().ahead == i + 1, f"{name} queued")

    status = queue.status()
    assert (status.serving, status.waiting, status.ahead, status.served) == (1, 3, 4, 1)
    assert log == ["a in"]  # the others wait: never two generations at once
    for name in "abcd":
        releases[name].set()
        _until(lambda name=name: f"{name} out" in log, f"{name} finished")
    for t in threads:
        t.join(WAIT)

    assert log == ["a in", "a out", "b in", "b out", "c in", "c out", "d in", "d out"]
    final = queue.status()
    assert (final.serving, final.waiting, final.served, final.ahead) == (0, 0, 4, 0)
    assert final.waited_seconds > 0  # b, c and d waited for a


def test_many_threads_never_overlap_and_none_is_refused():
    queue, active, most, done = ModelQueue(), [0], [0], []
    counter = threading.Lock()

    def worker(w: int) -> None:
        for _ in range(5):
            with queue.turn():
                with counter:
                    active[0] += 1
                    most[0] = max(most[0], active[0])
                time.sleep(0.001)  # hold the turn long enough for others to pile up
                with counter:
                    active[0] -= 1
        done.append(w)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)

    assert sorted(done) == list(range(16))
    assert most[0] == 1
    assert queue.status().served == 80 and queue.status().ahead == 0


class _GaveUp(Exception):
    pass


def test_a_caller_interrupted_while_waiting_leaves_the_queue_moving():
    queue, log = ModelQueue(), []
    first, last = threading.Event(), threading.Event()
    holder = _hold_turn(queue, first, log, "a")
    _until(lambda: queue.status().serving == 1, "a served")

    def give_up(signum, frame):
        raise _GaveUp

    previous = signal.signal(signal.SIGUSR1, give_up)
    try:
        # The main thread queues behind "a"; a third caller queues behind it; then the main
        # thread is interrupted while it waits, as a stopped session would be.
        def interrupt_when_both_wait() -> None:
            _until(lambda: queue.status().waiting == 1, "main thread waiting")
            third.append(_hold_turn(queue, last, log, "c"))
            _until(lambda: queue.status().waiting == 2, "c waiting behind it")
            os.kill(os.getpid(), signal.SIGUSR1)

        third: list[threading.Thread] = []
        trigger = threading.Thread(target=interrupt_when_both_wait)
        trigger.start()
        with pytest.raises(_GaveUp), queue.turn():
            log.append("main in")  # never reached: interrupted before its turn
        trigger.join(WAIT)
    finally:
        signal.signal(signal.SIGUSR1, previous)

    assert queue.status().waiting == 1  # only "c" still waits; the abandoned ticket is gone
    first.set()
    _until(lambda: "c in" in log, "c served after a")
    last.set()
    holder.join(WAIT)
    third[0].join(WAIT)
    assert log == ["a in", "a out", "c in", "c out"]
    assert queue.status().ahead == 0


@pytest.mark.slow
def test_concurrent_questions_to_the_real_model_queue_and_all_answer():
    from rag.models.llm_embedded import EmbeddedChatModel, find_model_file, queue_status

    model = EmbeddedChatModel(model_path=str(find_model_file()), max_tokens=12, temperature=0.0)
    before = queue_status().served
    answers: dict[int, str] = {}

    def ask(w: int) -> None:
        pieces = []
        for chunk in model.stream([HumanMessage(f"Count from {w} to {w + 3}.")]):
            pieces.append(chunk.text)
        answers[w] = "".join(pieces)

    threads = [threading.Thread(target=ask, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)

    assert sorted(answers) == [0, 1, 2] and all(a.strip() for a in answers.values())
    assert queue_status().served - before == 3
    assert queue_status().ahead == 0
