"""The HTTP server's settings: defaults and ``parse_size``.

Configuration comes from engine properties (or ``EIP_SERVER_...`` environment variables, as
placeholders resolve), read when the server starts:

===========================  =========================================================  ==========
property                     meaning                                                    default
===========================  =========================================================  ==========
``server.host``              address to listen on                                       127.0.0.1
``server.port``              port; 0 picks a free one (``server.port`` after start)     8080
``server.threads``           WSGI worker threads (requests served at once)              8
``server.max_request_body``  largest request body, bytes or ``512KB``/``10MB``/``1GB``  10MB
``server.connection_limit``  connections open at once                                   1000
``server.idle_timeout``      seconds a connection may be idle before it is closed       30
===========================  =========================================================  ==========
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_THREADS = 8
DEFAULT_MAX_REQUEST_BODY = 10 * 1024 * 1024
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_IDLE_TIMEOUT = 30.0

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)


def parse_size(value: Any) -> int:
    """Bytes from an int or a text such as ``1048576``, ``512KB``, ``10MB``, ``1GB`` (1024-based)."""
    if isinstance(value, bool):
        raise TypeError(f"not a size: {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use bytes, or a suffix: 512KB, 10MB, 1GB)")
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
