"""Errors of the ``amqp:`` component: the broker refused an operation.

Rooted in the core tree (``eip.errors.EndpointError``); an unreachable broker is the core's
``EndpointNotConnectedError``, not one of these. ``eip.errors`` and ``eip`` still resolve these
names, lazily, for code written before they moved here.
"""

from __future__ import annotations

from eip.errors import EndpointError


class AmqpError(EndpointError):
    """The AMQP broker refused an operation (a channel closed with ``reply_code`` and
    ``reply_text``: 404 no such queue or exchange, 406 arguments that differ, 403 access refused)."""

    def __init__(
        self, message: str, *, uri: str | None = None, reply_code: int | None = None, reply_text: str | None = None
    ) -> None:
        self.reply_code = reply_code
        self.reply_text = reply_text
        super().__init__(message, uri=uri)


class MessageUnroutableError(AmqpError):
    """A message published with ``mandatory=true`` matched no queue; the broker returned it."""


class MessageNackedError(AmqpError):
    """The broker could not take a published message (a negative publisher confirm)."""
