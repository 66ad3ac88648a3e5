"""``amqp:`` - RabbitMQ (AMQP 0-9-1) through pika, with at-least-once delivery.

* ``amqp:queue:NAME`` consumes from, or publishes to (through the default exchange), a queue;
* ``amqp:exchange:NAME?routing_key=KEY`` publishes to an exchange, and as a consumer binds a
  queue (``queue=...``, or a server-named one) to it.

A delivery is acknowledged only after its exchange completed its route, including every publish
downstream confirmed by the broker (``consumer.py``, ``producer.py``); an unhandled failure
rejects it so the broker dead-letters it. Connections reconnect by themselves (``session.py``).
Bodies and headers map as ``mapping.py`` says; topology is declared only with ``declare=true``
(``topology.py``). Options: ``eip doc amqp``.
"""

from components.amqp.endpoint import DEFAULT_URL, AmqpComponent, AmqpEndpoint

__all__ = ["DEFAULT_URL", "AmqpComponent", "AmqpEndpoint"]
