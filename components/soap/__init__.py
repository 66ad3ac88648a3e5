"""``soap:`` - call SOAP services with zeep, and serve SOAP services from a WSDL.

* ``soap:GetQuote?wsdl=quotes.wsdl`` produces: one call of the operation per exchange, the body
  (a dict of the input's fields) as the request and the result, as plain dicts and values, as
  the reply; a SOAP Fault raises ``SoapFault`` and is not redelivered unless configured
  (``producer.py``).
* ``soap:/quotes?wsdl=quotes.wsdl`` consumes: the WSDL's service on the engine's HTTP server
  (``eip.http_server``), ``GET /quotes?wsdl`` answering the WSDL with its real address; each
  request is validated against the WSDL's schema and becomes an exchange whose body is a dict
  of the input's fields; failures become SOAP Faults (``consumer.py``).

Both use zeep's WSDL and binding machinery to read and write envelopes (none are built from
strings); Fault envelopes, which zeep cannot build, are made with lxml (``envelope.py``).
SOAP 1.1 and 1.2. Options: ``eip doc soap``.
"""

from components.soap.consumer import SoapConsumer
from components.soap.endpoint import SoapComponent, SoapEndpoint
from components.soap.producer import SoapProducer

__all__ = ["SoapComponent", "SoapConsumer", "SoapEndpoint", "SoapProducer"]
