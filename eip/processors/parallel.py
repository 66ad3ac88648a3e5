"""A bounded worker pool shared by the parallel EIPs of a route (split, multicast, recipient list).

One pool per route, created when the route is compiled, its threads started with the route
and stopped with it (``shared_pool(ctx)``). Work is submitted in batches: the caller waits
for its batch and, while it waits, runs the batch's tasks that no worker has picked up yet.
So nested parallel EIPs (a parallel split inside a parallel multicast) cannot deadlock the
bounded pool, and a stopped pool still finishes the work (on the caller's thread).

What a crash loses: tasks are in memory only; the exchanges they work on belong to a caller
that is still waiting for them, so its source has not been acknowledged yet.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.compiler import CompileContext

log = logging.getLogger("eip.processors.parallel")

#: Worker threads of a route's pool (Camel's default thread pool profile has 10 core threads).
DEFAULT_POOL_SIZE = 10

PENDING, RUNNING, DONE, SKIPPED = 0, 1, 2, 3


class Task:
    """One unit of work of a batch; ``state`` is PENDING, RUNNING, DONE or SKIPPED."""

    __slots__ = ("fn", "state")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn: Callable[[], Any] | None = fn
        self.state = PENDING


class Batch:
    """Tasks one caller submits and waits for. Task functions should not raise (an exception
    that escapes one is logged and the task counts as done)."""

    __slots__ = ("_cond", "_open", "_pending", "_pool", "cancelled")

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[Task] = deque()  # submitted, maybe not yet started (pruned lazily)
        self._open = 0  # tasks pending or running
        self.cancelled = False

    def submit(self, fn: Callable[[], Any]) -> Task:
        task = Task(fn)
        with self._cond:
            pending = self._pending
            while pending and pending[0].state != PENDING:
                pending.popleft()
            pending.append(task)
            self._open += 1
        self._pool.offer(self, task)
        return task

    def run(self, task: Task) -> None:
        """Run ``task`` unless someone else already did (or the batch was cancelled)."""
        with self._cond:
            if task.state != PENDING:
                return
            task.state = RUNNING
        fn = task.fn
        task.fn = None
        try:
            fn()  # type: ignore[misc]
        except BaseException:  # a worker thread must survive anything
            log.exception("parallel task failed")
        finally:
            with self._cond:
                task.state = DONE
                self._open -= 1
                self._cond.notify_all()

    def cancel(self) -> None:
        """Tasks not started yet will not run (they become SKIPPED)."""
        with self._cond:
            self.cancelled = True
            for task in self._pending:
                if task.state == PENDING:
                    task.state = SKIPPED
                    task.fn = None
                    self._open -= 1
            self._pending.clear()
            self._cond.notify_all()

    def _next_pending(self) -> Task | None:
        with self._cond:
            pending = self._pending
            while pending:
                task = pending.popleft()
                if task.state == PENDING:
                    return task
        return None

    def wait(self, deadline: float | None = None) -> bool:
        """Wait until every task ran; False when ``deadline`` (``time.monotonic()``) passed
        first, in which case the tasks not started are cancelled and running ones abandoned.

        Without a deadline the caller runs the tasks no worker took yet."""
        if deadline is None or not self._pool.running:
            while True:
                task = self._next_pending()
                if task is None:
                    break
                self.run(task)
        with self._cond:
            while self._open > 0:
                if deadline is None:
                    self._cond.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            finished = self._open == 0
        if not finished:
            self.cancel()
        return finished

    def wait_below(self, limit: int, deadline: float | None = None) -> bool:
        """Block until fewer than ``limit`` tasks are open (running one inline if none of
        them started yet); False when ``deadline`` passed first."""
        while True:
            with self._cond:
                if self._open < limit:
                    return True
            if deadline is None or not self._pool.running:
                task = self._next_pending()
                if task is not None:
                    self.run(task)
                    continue
            with self._cond:
                if self._open < limit:
                    return True
                if deadline is None:
                    self._cond.wait(0.5)
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)


class WorkerPool:
    """A fixed number of daemon worker threads fed by one queue; started and stopped with
    the route (register it with ``ctx.add_service``; ``shared_pool`` does)."""

    def __init__(self, name: str, size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.name = name
        self.size = size
        self.running = False
        self._queue: queue.SimpleQueue[tuple[Batch, Task] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def batch(self) -> Batch:
        return Batch(self)

    def offer(self, batch: Batch, task: Task) -> None:
        if self.running:
            self._queue.put((batch, task))
        # else: the waiting caller runs it

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._queue = queue.SimpleQueue()
            self._threads = [
                threading.Thread(target=self._work, args=(self._queue,), name=f"{self.name}-{i + 1}", daemon=True)
                for i in range(self.size)
            ]
            self.running = True
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers once the queued tasks ran; waiting callers run what is left."""
        with self._lock:
            if not self.running:
                return
            self.running = False
            threads, work = self._threads, self._queue
            self._threads = []
            for _ in threads:
                work.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    @staticmethod
    def _work(work: queue.SimpleQueue[tuple[Batch, Task] | None]) -> None:
        while True:
            item = work.get()
            if item is None:
                return
            batch, task = item
            batch.run(task)

    def __repr__(self) -> str:
        return f"WorkerPool({self.name}, size={self.size}, running={self.running})"


def shared_pool(ctx: CompileContext) -> WorkerPool:
    """The route's worker pool, created (and registered as a route service) on first use."""
    for service in ctx.services:
        if isinstance(service, WorkerPool):
            return service
    return ctx.add_service(WorkerPool(f"eip-{ctx.route_id}-parallel"))
