"""``http:`` - REST and HTTP endpoints: serve routes on the engine's HTTP server, call HTTP servers.

* ``http:/orders/{id}?methods=GET`` consumes: each request is an InOut exchange whose reply is
  the body after the route (``consumer.py``), served by the engine's one waitress server
  (``eip.http_server``); path parameters, query parameters and HTTP headers become headers.
* ``http://host:port/path`` / ``https://...`` produces: one call per exchange through a pooled
  ``requests.Session`` per endpoint, non-2xx raising ``HttpOperationFailedError`` (``producer.py``).

Bodies and headers map as ``binding.py`` says (JSON -> dict/list, XML -> lxml element through the
safe parser, ``text/*`` -> str, else bytes; and back). The REST DSL (``self.rest("/orders")``,
``eip.rest``) builds routes from http consumers. Options: ``eip doc http``.
"""

from components.http.binding import decode_body, encode_body
from components.http.consumer import HttpConsumer
from components.http.endpoint import HttpComponent, HttpEndpoint
from components.http.producer import HttpProducer

__all__ = ["HttpComponent", "HttpConsumer", "HttpEndpoint", "HttpProducer", "decode_body", "encode_body"]
