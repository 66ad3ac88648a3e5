"""Errors of the ``ibmmq:`` component: an MQI call failed.

Rooted in the core tree (``eip.errors.EndpointError``); ``MqConnectionError`` is also the core's
``EndpointNotConnectedError``, so redelivery and ``is_transient`` treat it as an outage. Kept
free of the MQ client library so that they import without it. ``eip.errors`` and ``eip`` still
resolve these names, lazily, for code written before they moved here.
"""

from __future__ import annotations

from eip.errors import EndpointError, EndpointNotConnectedError


class MqError(EndpointError):
    """An MQI call failed: ``comp`` (completion code), ``reason`` (MQRC) and ``reason_name``
    (``MQRC_Q_FULL``); the library's ``MQMIError`` is the ``__cause__``. ``reason`` is None for
    errors of the Python layer itself."""

    def __init__(
        self,
        message: str,
        *,
        uri: str | None = None,
        comp: int | None = None,
        reason: int | None = None,
        reason_name: str | None = None,
    ) -> None:
        self.comp = comp
        self.reason = reason
        self.reason_name = reason_name
        super().__init__(message, uri=uri)


class MqConnectionError(MqError, EndpointNotConnectedError):
    """The connection to the queue manager broke, or it cannot be reached (2009, 2059, 2538...)."""


class MqClientNotInstalledError(MqError):
    """Neither ``ibmmq`` nor ``pymqi`` can be imported: the IBM MQ client library is missing."""
