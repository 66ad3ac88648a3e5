"""The component SPI: Component -> Endpoint -> Producer / Consumer.

A component handles one URI scheme. It creates endpoints from parsed URIs; each endpoint
class declares its options once (``options = OptionSpec(...)``), which parses URIs, rejects
typos with a suggestion and prints ``eip doc``. Endpoints are shared by every route of an
engine that names the same ``scheme:path``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from eip.constants import INBOUND_HEADERS
from eip.errors import EndpointOptionError
from eip.exchange import Exchange, ExchangePattern
from eip.header_filter import Inbound
from eip.options import OptionSpec
from eip.unit_of_work import UnitOfWork
from eip.uri import Uri, mask_uri

if TYPE_CHECKING:
    from eip.engine import Engine

log = logging.getLogger("eip.component")


class Processor(Protocol):
    """Anything that processes an exchange in place; raises to signal failure."""

    def process(self, exchange: Exchange) -> None: ...


class Producer:
    """Sends exchanges to an endpoint. ``process`` raises when the send failed."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def process(self, exchange: Exchange) -> None:
        raise NotImplementedError


class Consumer:
    """Receives messages from an endpoint and hands each exchange to ``processor``.

    ``processor`` is the route's entry: it never raises; after it returns the exchange's
    ``exception`` says whether it failed, and the unit of work has been completed."""

    def __init__(self, endpoint: Endpoint, processor: Processor) -> None:
        self.endpoint = endpoint
        self.processor = processor

    def start(self) -> None:
        pass

    def stop(self) -> None:
        """Stop taking new work. Must return promptly; in-flight exchanges are the route's business."""

    def pending_exchanges(self) -> int:
        """Exchanges accepted but not finished that the route's in-flight count does not show yet
        (an in-memory queue still draining after ``stop()``); graceful stop waits for them too."""
        return 0

    def suspend(self) -> None:
        self.stop()

    def resume(self) -> None:
        self.start()

    def create_exchange(
        self,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        pattern: ExchangePattern = ExchangePattern.IN_ONLY,
    ) -> Exchange:
        """A new exchange with its own unit of work, ready for callbacks (ack, commit, move)."""
        exchange = Exchange(body, headers, pattern=pattern)
        exchange.from_endpoint = self.endpoint.uri
        exchange.unit_of_work = UnitOfWork()
        protocol = self.endpoint.inbound_protocol
        if protocol is not None and headers is not None:  # received headers are data (eip.header_filter)
            exchange.properties[INBOUND_HEADERS] = Inbound(protocol, headers)
        return exchange


class Endpoint:
    """One configured address. Subclasses set ``options`` and implement producer/consumer."""

    options: ClassVar[OptionSpec] = OptionSpec()
    #: Set to False on endpoints that can only be consumed from (or only produced to).
    supports_producer: ClassVar[bool] = True
    supports_consumer: ClassVar[bool] = True
    #: Set on transports whose consumers make headers from what they receive: ``create_exchange``
    #: records them as received over this protocol (``eip.header_filter``).
    inbound_protocol: ClassVar[str | None] = None

    def __init__(self, component: Component, uri: Uri, values: dict[str, Any], given: dict[str, Any]) -> None:
        self.component = component
        self.parsed = uri
        self.values = values  # every option, typed, defaults filled in
        self.given = given  # only the options the URIs named
        self.uri = mask_uri(uri.key if not given else uri.text, self.options.secrets())

    @property
    def engine(self) -> Engine:
        return self.component.engine

    @property
    def key(self) -> str:
        return self.parsed.key

    def option(self, name: str) -> Any:
        return self.values[name]

    def merge_options(self, uri: Uri, given: dict[str, Any]) -> None:
        """Another URI names this endpoint: accept options it adds, reject ones that conflict."""
        for name, value in given.items():
            if name in self.given and self.given[name] != value:
                raise EndpointOptionError(
                    f"endpoint '{self.key}': option '{name}' is {self.given[name]!r} in one URI and "
                    f"{value!r} in {mask_uri(uri.text, self.options.secrets())!r}"
                )
        if given:
            self.given.update(given)
            self.values.update(given)
            self.uri = mask_uri(uri.text, self.options.secrets()) if len(given) >= len(self.given) else self.uri

    def validate(self) -> None:
        """Check option combinations; raise ConfigurationError. Called before anything starts."""

    def create_producer(self) -> Producer:
        raise EndpointOptionError(f"endpoint '{self.uri}' cannot be sent to")

    def create_consumer(self, processor: Processor) -> Consumer:
        raise EndpointOptionError(f"endpoint '{self.uri}' cannot be consumed from")

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri})"


class Component:
    """Creates the endpoints of one scheme. One instance per engine and scheme."""

    endpoint_class: ClassVar[type[Endpoint]] = Endpoint
    #: One line for ``eip doc``.
    summary: ClassVar[str] = ""

    def __init__(self, engine: Engine, scheme: str) -> None:
        self.engine = engine
        self.scheme = scheme
        self.lock = threading.Lock()

    #: True when the URI path is code that the component runs (``sql:``'s statement): dynamic
    #: sends then refuse to put exchange values into it (see ``eip.producer_cache``).
    path_is_code: ClassVar[bool] = False

    #: True when every distinct option set is its own endpoint (as Camel's file/http), instead of
    #: URIs of one ``scheme:path`` sharing one endpoint and merging their options (direct, seda).
    options_identify_endpoint: ClassVar[bool] = False

    def endpoint_key(self, uri: Uri) -> str:
        """What identifies an endpoint: URIs with the same key share one (and must agree on
        options). ``scheme:path``, or with every option when ``options_identify_endpoint``; a
        component may add only the options that name a different destination (amqp's routing key)."""
        return uri.key_with_options if self.options_identify_endpoint else uri.key

    def create_endpoint(self, uri: Uri) -> Endpoint:
        """A new endpoint for ``uri``; raises EndpointOptionError for bad options."""
        spec = self.endpoint_class.options
        given = spec.parse_given(uri.query, mask_uri(uri.text, spec.secrets()))
        values = {o.name: o.default for o in spec.options}
        values.update(given)
        return self.endpoint_class(self, uri, values, given)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    @classmethod
    def documentation(cls) -> str:
        doc = (cls.__doc__ or cls.summary or "").strip()
        return f"{doc}\n\n{cls.endpoint_class.options.describe()}"
