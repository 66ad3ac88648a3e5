"""The ``http:`` options, endpoint and component.

One scheme, two forms, told apart by the path:

* ``http:/orders/{id}?methods=GET`` (one slash): a consumer on the engine's HTTP server;
* ``http://host:port/path`` or ``https://...`` (two slashes): a producer calling that URL.

Query options of a producer URI that are not endpoint options are the HTTP query string
(``http://api/search?q=x&read_timeout=5s`` sends ``?q=x`` with a 5 s read timeout), as in
Camel; a name that looks like a misspelt option (``read_timout``, ``throwExceptionOnFailure``,
``timeout``) is still refused with a suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from components.http.shared import LazyResource, refuse_options
from eip.component import Component, Consumer, Endpoint, Processor, Producer
from eip.errors import EndpointOptionError
from eip.header_filter import FORWARD_HEADERS_OPTION
from eip.http_server import ALL_METHODS, PathTemplate
from eip.options import Option, OptionSpec
from eip.uri import Uri

_REMOTE = re.compile(r"^\s*https?://", re.IGNORECASE)
_CAMEL_CASE = re.compile(r"(?<=[a-z0-9])([A-Z])")
#: Names people coming from Camel or other clients write; refused rather than sent as a query.
_LOOKALIKES = {
    "timeout": "read_timeout",
    "socket_timeout": "read_timeout",
    "http_method": "method",
    "bridge_endpoint": "forward_request_headers",
    "http_method_restrict": "methods",
}


class _HttpOptionSpec(OptionSpec):
    """Producer URIs pass unknown query parameters through as the HTTP query (see module doc)."""

    def parse_given(self, raw: Mapping[str, Any], uri: str) -> dict[str, Any]:
        if _REMOTE.match(uri):
            raw = {name: value for name, value in raw.items() if not _is_query_parameter(name, self.by_name)}
        return super().parse_given(raw, uri)


def _is_query_parameter(name: str, options: Mapping[str, Option]) -> bool:
    if name in options:
        return False
    snake = _CAMEL_CASE.sub(r"_\1", name).lower()
    if snake in options or snake in _LOOKALIKES:
        if snake in _LOOKALIKES and snake not in options:
            raise EndpointOptionError(
                f"http endpoint: '{name}' is not an option; did you mean "
                f"'{_LOOKALIKES[snake]}'? (write a query parameter of that name "
                "in the CamelHttpQuery header)"
            )
        return False
    return not difflib.get_close_matches(snake, list(options), n=1, cutoff=0.8)


CONSUMER_OPTIONS = frozenset({"methods", "match_on_uri_prefix"})
PRODUCER_OPTIONS = frozenset(
    {
        "method",
        "connect_timeout",
        "read_timeout",
        "throw_exception_on_failure",
        "ok_status_code_range",
        "follow_redirects",
        "forward_request_headers",
        "forward_headers",
        "max_connections",
        "username",
        "password",
        "ssl_verify",
        "ca_bundle",
    }
)


class HttpEndpoint(Endpoint):
    """``http:/path`` (consumer on the engine's server) or ``http(s)://host/path`` (producer)."""

    inbound_protocol = "http"  # the consumer's request headers are data (eip.header_filter)
    options = _HttpOptionSpec(
        (
            Option(
                "methods",
                "str",
                None,
                "Consumer: HTTP methods served, comma-separated (GET,POST); default every method.",
            ),
            Option("match_on_uri_prefix", "bool", False, "Consumer: also serve every path below this one."),
            Option("parse_body", "bool", True, "Parse JSON/XML/text bodies by content type; false keeps bytes."),
            Option(
                "method",
                "str",
                None,
                "Producer: the HTTP method; default the CamelHttpMethod header, else POST with a body and GET without.",
            ),
            Option("connect_timeout", "duration", 10.0, "Producer: seconds to establish the connection."),
            Option("read_timeout", "duration", 30.0, "Producer: seconds to wait for the response."),
            Option(
                "throw_exception_on_failure",
                "bool",
                True,
                "Producer: raise HttpOperationFailedError for a status outside ok_status_code_range.",
            ),
            Option(
                "ok_status_code_range",
                "str",
                "200-299",
                "Producer: statuses that are a success (200-299, or a list: 200-299,304).",
            ),
            Option("follow_redirects", "bool", False, "Producer: follow 3xx redirects (else a 3xx is a failure)."),
            Option(
                "forward_request_headers",
                "bool",
                False,
                "Producer: also send the headers of the HTTP "
                "request an http consumer received (a bridge; "
                "never its credentials).",
            ),
            FORWARD_HEADERS_OPTION,
            Option("max_connections", "int", 20, "Producer: pooled connections kept per host."),
            Option("username", "str", None, "Producer: basic authentication user (or user:pass@ in the URL)."),
            Option("password", "str", None, "Producer: basic authentication password.", secret=True),
            Option("ssl_verify", "bool", True, "Producer: verify the server's TLS certificate."),
            Option("ca_bundle", "str", None, "Producer: a CA bundle file to verify TLS certificates with."),
        )
    )

    def __init__(self, component: Component, uri: Uri, values: dict[str, Any], given: dict[str, Any]) -> None:
        super().__init__(component, uri, values, given)
        self.remote = uri.path.startswith("//")
        # Instance attributes shadow the class flags: one form consumes, the other produces.
        self.supports_consumer = not self.remote  # type: ignore[misc]
        self.supports_producer = self.remote  # type: ignore[misc]
        self.url = f"{uri.scheme}:{uri.path}"
        self.query = urlencode([(name, value) for name, value in uri.options if name not in self.options.by_name])
        self._session: LazyResource[Any] = LazyResource(lambda: _new_session(self.values))
        self.ok_ranges: tuple[tuple[int, int], ...] = ()
        self.methods: frozenset[str] | None = None
        self.template: PathTemplate | None = None

    def validate(self) -> None:
        given = set(self.given)
        if self.remote:
            refuse_options(self.uri, given, CONSUMER_OPTIONS, "a consumer (http:/path on the engine's server)")
            host = self.parsed.path[2:].split("/", 1)[0].rpartition("@")[2]
            if not host:
                raise EndpointOptionError(f"endpoint '{self.uri}' names no host (http://host:port/path)")
            method = self.values["method"]
            if method is not None:
                method = method.strip().upper()
                if method not in ALL_METHODS:
                    raise EndpointOptionError(
                        f"endpoint '{self.uri}': option 'method' must be one of "
                        f"{', '.join(ALL_METHODS)}, got {self.values['method']!r}"
                    )
                self.values["method"] = method
            self.ok_ranges = _status_ranges(self.values["ok_status_code_range"], self.uri)
            if self.values["max_connections"] < 1:
                raise EndpointOptionError(f"endpoint '{self.uri}': max_connections must be at least 1")
            return
        if self.parsed.scheme != "http":
            raise EndpointOptionError(
                f"endpoint '{self.uri}': the engine's server speaks plain HTTP; consume "
                "with http:/path (terminate TLS in a reverse proxy in front of it)"
            )
        if not self.parsed.path.startswith("/"):
            raise EndpointOptionError(
                f"endpoint '{self.uri}': a consumer path starts with '/' "
                "(http:/orders); to call a server write http://host/path"
            )
        refuse_options(self.uri, given, PRODUCER_OPTIONS, "a producer (http://host/path)")
        from eip.errors import ConfigurationError
        from eip.http_server import _methods

        try:
            self.template = PathTemplate(self.parsed.path, self.values["match_on_uri_prefix"])
            self.methods = _methods(self.values["methods"])
        except ConfigurationError as exc:
            raise EndpointOptionError(f"endpoint '{self.uri}': {exc}") from None
        # Two consumers of one path and method would collide when they start: say so now.
        for other in self.engine.endpoints():
            if (
                isinstance(other, HttpEndpoint)
                and other is not self
                and other.template is not None
                and other.template.regex.pattern == self.template.regex.pattern
                and (self.methods is None or other.methods is None or self.methods & other.methods)
            ):
                raise EndpointOptionError(
                    f"endpoint '{self.uri}': '{other.uri}' already serves this path with a method in common"
                )

    # -- producer side ------------------------------------------------------------------------------
    def session(self) -> Any:
        """This endpoint's pooled ``requests.Session`` (made on first use, closed at stop)."""
        return self._session.get()

    def stop(self) -> None:
        self._session.close()

    def create_producer(self) -> Producer:
        if not self.remote:
            raise EndpointOptionError(
                f"endpoint '{self.uri}' is a consumer path; to call a server write http://host/path"
            )
        from components.http.producer import HttpProducer

        return HttpProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        if self.remote:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': consume with http:/path (the engine's own "
                "server, engine properties server.host and server.port)"
            )
        from components.http.consumer import HttpConsumer

        return HttpConsumer(self, processor)


def _status_ranges(text: str, uri: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in str(text).split(","):
        low, _, high = part.strip().partition("-")
        try:
            lo, hi = int(low), int(high or low)
        except ValueError:
            raise EndpointOptionError(
                f"endpoint '{uri}': ok_status_code_range {text!r} is not like 200-299 or 200-299,304"
            ) from None
        if not 100 <= lo <= hi <= 599:
            raise EndpointOptionError(f"endpoint '{uri}': ok_status_code_range {text!r} is outside 100-599")
        ranges.append((lo, hi))
    return tuple(ranges)


def _new_session(values: dict[str, Any]) -> Any:
    import http.cookiejar

    import requests
    from requests.adapters import HTTPAdapter

    class _NoCookies(http.cookiejar.DefaultCookiePolicy):
        # One session serves every exchange: a cookie one response set must never ride along
        # with another message's request.
        def set_ok(self, cookie: Any, request: Any) -> bool:
            return False

        def return_ok(self, cookie: Any, request: Any) -> bool:
            return False

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=values["max_connections"], max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies.set_policy(_NoCookies())
    session.verify = values["ca_bundle"] or values["ssl_verify"]
    session.headers["User-Agent"] = "eip-http"
    if values["username"] is not None:
        session.auth = (values["username"], values["password"] or "")
    return session


class HttpComponent(Component):
    """http: - serve routes on the engine's HTTP server (http:/path) or call HTTP servers
    (http://host/path, https://host/path) with a pooled client. See components.http."""

    endpoint_class = HttpEndpoint
    summary = "HTTP consumer on the engine's server (http:/path) and HTTP/HTTPS client (http://host/path)"

    # GET and POST consumers of one path, or producers with different methods or timeouts,
    # must not be merged into one endpoint.
    options_identify_endpoint = True
