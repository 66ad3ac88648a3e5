"""waitress's TCP server as the engine runs it: idle eviction at the connection limit and the
liveness fast path on the I/O thread.

Idle connections cannot lock the server out (nor its health probes): at the connection limit a
new connection is still accepted, and the connection idle the longest (no request in progress,
nothing left to write; one that never sent a whole request counts as idle) is closed to make
room. Only when every connection has a request in progress do new ones wait in the listen
backlog. Connections idle for ``idle_timeout`` are closed anyway (checked every few seconds).

Liveness never waits for a worker thread. When every worker is busy (slow routes), waitress
queues new requests, and a liveness probe with a 1 s timeout would fail and restart a process
that is merely busy. So a complete ``GET`` or ``HEAD`` request for exactly ``LIVENESS_PATH``
(``/health/live``; a query string is allowed, a body is not) is served on the server's I/O thread
as soon as it is parsed, through the same WSGI dispatch, so its answer is the same. That happens
only while a mounted app has reserved the path (the management API does; its liveness answer
does no I/O, takes no lock and needs no credentials), so no ``http:`` route can serve it and no
route's code ever runs on the I/O thread. The work is bounded: the probes of one read (at most
8 KB of pipelined requests), and a connection reads no more until its answers are written.
Every other request, readiness included (it checks datasources), waits for a worker as before;
requests on one connection are still answered in order.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.http_server.server import HttpServer

log = logging.getLogger("eip.http_server")


@functools.cache
def _server_class() -> type:
    """waitress's TCP server, except that at the connection limit it closes the connection idle
    the longest to take a new one instead of no longer accepting, and that it serves liveness
    probes on its I/O thread (see the module docstring).
    Made on first use, so importing this module does not import waitress."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        """Serves a liveness probe right after parsing it, on the I/O thread (``received`` runs
        there) instead of queueing it for a worker; see the module docstring."""

        receiving = 0  # the id of the thread inside ``received``, 0 outside it
        serve_now = False  # set by the server's add_task: the request at the head is served here

        def received(self, data: bytes) -> bool:
            self.receiving = threading.get_ident()
            try:
                result = super().received(data)
                # waitress queues a channel only when the request at its head has none before it
                # (and after each one served, for the next): responses stay in order. Serving
                # pops the request; a pipelined next one comes back through add_task.
                while self.serve_now:
                    self.serve_now = False
                    self.service()
                return bool(result)
            finally:
                self.receiving = 0

    class EvictingServer(TcpWSGIServer):
        channel_class = Channel
        overflowing = False
        next_channel_cleanup: float
        eip_server: HttpServer

        def add_task(self, channel: Any) -> None:
            # Called with the channel's requests_lock held: only mark it; Channel.received serves it.
            if channel.receiving == threading.get_ident() and self.eip_server.serves_on_io_thread(channel.requests[0]):
                channel.serve_now = True
            else:
                super().add_task(channel)

        def readable(self) -> bool:
            now = time.time()
            if now >= self.next_channel_cleanup:
                self.next_channel_cleanup = now + self.adj.cleanup_interval
                self.maintenance(now)
            if not self.accepting:
                return False
            if len(self._map) < self.adj.connection_limit:
                self.overflowing = False
                return True
            if not self.overflowing:
                self.overflowing = True
                log.warning(
                    "HTTP server: %d connections open, the limit (server.connection_limit): closing the "
                    "longest idle connection for each new one",
                    len(self.active_channels),
                )
            return self._longest_idle() is not None  # else every connection is busy: leave new ones queued

        def handle_accept(self) -> None:
            if len(self._map) >= self.adj.connection_limit:
                idle = self._longest_idle()
                if idle is None:
                    return
                idle.handle_close()
            super().handle_accept()

        def _longest_idle(self) -> Any:
            chosen = None
            for channel in self.active_channels.values():
                if channel.requests or channel.total_outbufs_len or channel.will_close:
                    continue
                if chosen is None or channel.last_activity < chosen.last_activity:
                    chosen = channel
            return chosen

    return EvictingServer
