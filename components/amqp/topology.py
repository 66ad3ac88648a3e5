"""What an AMQP endpoint declares on the broker, and the steps that declare it.

Topology is declared only when an endpoint asks (``declare=true``), plus the one thing an
exchange consumer cannot do without: its binding (and its server-named queue when it names
none). Declarations run again after every reconnect, so non-durable topology comes back after
a broker restart.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

#: One asynchronous broker call: ``op(callback)`` starts it; pika calls ``callback(result)``.
Op = Callable[[Callable[[Any], None]], Any]
Steps = Generator[Op, Any, Any]


@dataclass(frozen=True)
class Topology:
    """Exchange, queue and binding to declare; ``queue=""`` asks the broker to name the queue."""

    exchange: str | None = None
    exchange_type: str = "direct"
    queue: str | None = None
    declare_queue: bool = False
    durable: bool = True
    exclusive: bool = False
    auto_delete: bool = False
    arguments: tuple[tuple[str, Any], ...] = ()
    bind_exchange: str | None = None
    bind_routing_key: str = ""

    @property
    def empty(self) -> bool:
        return self.exchange is None and not self.declare_queue and self.bind_exchange is None

    def steps(self, channel: Any) -> Steps:
        """Declare on ``channel``, one broker round trip at a time; returns the queue name."""
        if self.exchange is not None:
            yield lambda cb: channel.exchange_declare(
                exchange=self.exchange,
                exchange_type=self.exchange_type,
                durable=self.durable,
                auto_delete=self.auto_delete,
                callback=cb,
            )
        queue = self.queue
        if self.declare_queue:
            server_named = not queue
            frame = yield lambda cb: channel.queue_declare(
                queue=queue or "",
                durable=self.durable and not server_named,
                exclusive=self.exclusive or server_named,
                auto_delete=self.auto_delete or server_named,
                arguments=dict(self.arguments) or None,
                callback=cb,
            )
            queue = frame.method.queue
        if self.bind_exchange is not None:
            yield lambda cb: channel.queue_bind(
                queue=queue, exchange=self.bind_exchange, routing_key=self.bind_routing_key, callback=cb
            )
        return queue


def drive(steps: Steps, on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> None:
    """Run ``steps`` on the I/O loop: each yielded op's result is sent back into the generator.

    A step the broker refuses closes the channel; the channel's close callback reports that
    (the generator then simply never resumes)."""

    def step(value: Any = None) -> None:
        try:
            op = steps.send(value)
        except StopIteration as stop:
            on_done(stop.value)
            return
        except Exception as exc:  # noqa: BLE001 - reported to the session
            on_error(exc)
            return
        try:
            op(step)
        except Exception as exc:  # noqa: BLE001
            on_error(exc)

    step()
