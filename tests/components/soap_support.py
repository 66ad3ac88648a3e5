"""An independent SOAP server for the soap tests and benchmark: spyne (not written here) serving
a small quotes service in-process on loopback, under waitress, on a free port.

Paths: ``/`` SOAP 1.1, ``/soap12/`` SOAP 1.2, ``/secure/`` SOAP 1.1 behind HTTP basic
authentication (``alice``/``s3cret``, a tiny WSGI wrapper), ``/unavailable`` always 503 without
an envelope; any other path is the SOAP 1.1 service too. spyne builds each application's WSDL
once, with the address of the first ``?wsdl`` request it answered. ``server.posts`` counts POSTed requests per path and ``server.wsdl_gets`` the WSDL
downloads, so tests can tell how often a call really went out.

The service (namespace ``urn:example:quotes``):

* ``GetQuote(symbol) -> double``: ``BAD`` raises a Client fault ``Client.UnknownSymbol`` with
  detail ``{"symbol": "BAD"}``; ``BOOM`` raises a RuntimeError (spyne answers a Server fault);
* ``PlaceOrder(order: {symbol, qty}) -> {order_id, total}``;
* ``Slow(seconds) -> "done"`` after waiting (cut short when the server closes);
* ``WhoAmI() -> str``: the WS-Security ``UsernameToken`` the request carried, as
  ``user|password type`` (``|`` when there was none).

spyne 2.14 imports ``cgi`` (deprecated in 3.11, removed in 3.13): the DeprecationWarning is
filtered here, for these tests only.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from spyne import (
        Application,
        ComplexModel,
        Double,
        Fault,
        Integer,
        ServiceBase,
        Unicode,
        rpc,
    )
    from spyne.protocol.soap import Soap11, Soap12
    from spyne.server.wsgi import WsgiApplication

TNS = "urn:example:quotes"
USER, PASSWORD = "alice", "s3cret"
PRICES = {"IBM": 123.45, "ACME": 7.5}
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_closing = threading.Event()


class Order(ComplexModel):
    __namespace__ = TNS
    symbol = Unicode(min_occurs=1)
    qty = Integer


class Confirmation(ComplexModel):
    __namespace__ = TNS
    order_id = Unicode
    total = Double


class QuoteService(ServiceBase):
    @rpc(Unicode, _returns=Double)
    def GetQuote(ctx, symbol):
        if symbol == "BAD":
            raise Fault(faultcode="Client.UnknownSymbol", faultstring="Unknown symbol: BAD",
                        detail={"symbol": "BAD"})
        if symbol == "BOOM":
            raise RuntimeError("database password is hunter2")  # spyne hides it: 'Internal Error'
        return PRICES.get(symbol, 1.0)

    @rpc(Order, _returns=Confirmation)
    def PlaceOrder(ctx, order):
        return Confirmation(order_id=f"{order.symbol}-1", total=(order.qty or 0) * PRICES.get(order.symbol, 1.0))

    @rpc(Double, _returns=Unicode)
    def Slow(ctx, seconds):
        _closing.wait(seconds)
        return "done"

    @rpc(_returns=Unicode)
    def WhoAmI(ctx):
        token = ctx.in_document.find(f".//{{{_WSSE}}}UsernameToken")
        if token is None:
            return "|"
        password = token.find(f"{{{_WSSE}}}Password")
        kind = (password.get("Type") or "").rpartition("#")[2] if password is not None else ""
        return f"{token.findtext(f'{{{_WSSE}}}Username')}|{kind}"


def _application(protocol: Any, name: str) -> WsgiApplication:
    app = Application([QuoteService], tns=TNS, name=name, in_protocol=protocol(validator="lxml"),
                      out_protocol=protocol())
    return WsgiApplication(app)


class SpyneServer:
    """The spyne service on ``127.0.0.1`` and a free port, served by waitress threads."""

    def __init__(self, threads: int = 6) -> None:
        from waitress.server import create_server

        self.posts: dict[str, int] = {}
        self.wsdl_gets = 0
        self._lock = threading.Lock()
        self._soap11 = _application(Soap11, "Quotes")
        self._soap12 = _application(Soap12, "Quotes12")
        self._secure = _application(Soap11, "Quotes")  # spyne keeps the address of its first ?wsdl
        for name in ("spyne", "spyne.application"):  # spyne logs every fault with a traceback
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        _closing.clear()
        self._server = create_server(self._route, host="127.0.0.1", port=0, threads=threads,
                                     ident="spyne-test", channel_timeout=30)
        self.port = int(self._server.effective_port)
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="spyne-server", daemon=True)
        self._thread.start()

    def _route(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "/")
        with self._lock:
            if environ["REQUEST_METHOD"] == "POST":
                self.posts[path] = self.posts.get(path, 0) + 1
            elif "wsdl" in environ.get("QUERY_STRING", ""):
                self.wsdl_gets += 1
        if path.startswith("/unavailable"):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down for maintenance"]
        if path.startswith("/secure"):
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if environ.get("HTTP_AUTHORIZATION") != expected:
                start_response("401 Unauthorized", [("Content-Type", "text/html"),
                                                    ("WWW-Authenticate", 'Basic realm="quotes"')])
                return [b"<html><body>401 Unauthorized</body></html>"]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            if path.startswith("/soap12"):
                return self._soap12(environ, start_response)
            if path.startswith("/secure"):
                return self._secure(environ, start_response)
            return self._soap11(environ, start_response)

    def post_count(self, path: str = "/") -> int:
        with self._lock:
            return self.posts.get(path, 0)

    def _serve(self) -> None:
        from waitress import wasyncore

        server = self._server
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            wasyncore.close_all(server._map, ignore_all=True)  # in the loop's own thread: no race

    def close(self) -> None:
        _closing.set()
        self._stopping.set()
        self._thread.join(5)
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def __enter__(self) -> SpyneServer:  # noqa: PYI034
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
