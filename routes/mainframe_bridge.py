"""Mainframe bridge: an EBCDIC file of COBOL copybook records becomes one JSON document per record.

The mainframe drops its nightly extract, fixed-length records in code page 037 as the copybook
``routes/samples/mainframe/customers.cpy`` describes them, into ``data/mainframe/in`` (created on
start). Each record is decoded (zoned and packed decimals, signed amounts, EBCDIC text) and
written as ``data/mainframe/out/<file>-<record number>.json``::

    .venv/bin/eip run routes
    cp routes/samples/mainframe/customers.dat data/mainframe/in/
    cat data/mainframe/out/customers-000002.json
    {"CUST-ID": 10000042, "CUST-NAME": "GRACE HOPPER", "BRANCH-CODE": "NYC2", "ACCOUNT-STATUS": "A",
     "OPENED-ON": 20010930, "BALANCE": -310.07, "CREDIT-LIMIT": 2500.00, "LAST-PAYMENT": 120.00,
     "PHONE-NUMBER": ["+1 212 555 0142", "+1 212 555 0199"]}

Amounts keep their exact digits (``Decimal``, written as JSON numbers: ``2500.00``, never
``2500.0``). The split streams: the file is read in chunks, one record at a time, so an extract
of any size runs in constant memory. One log line per file says how many records went out.

Route::

    mainframe-bridge  file:data/mainframe/in (*.dat) -> split(copybook_records, streaming)
                        { marshal(json) -> {{mainframe.out}} (file:data/mainframe/out) }
                        -> one INFO line: file, records

Configuration (engine properties, ``eip run --config`` properties or ``EIP_...`` variables):

======================  ===============================================================
``mainframe.in``        ``data/mainframe/in``: folder polled for ``*.dat`` files
``mainframe.delay``     ``500ms``: time between polls
``mainframe.min_age``   ``1s``: a file is taken once it is that old (never half-transferred)
``mainframe.out``       ``file:data/mainframe/out``: the endpoint each JSON document goes to
                        (its name ``<file>-<record number>.json`` in the ``CamelFileName`` header)
======================  ===============================================================

The copybook and its code page are the class's arguments (``MainframeBridge(copybook_file,
encoding="cp037")``): they describe the data, so they change with the code, not with the
deployment.

**Switching to RabbitMQ or PostgreSQL, by configuration alone**: the documents go wherever
``mainframe.out`` points. RabbitMQ: ``mainframe.out=amqp:queue:customers?declare=true`` (each
record one message, content type ``application/json``). PostgreSQL: an insert into a ``jsonb``
column, the document bound as a parameter::

    properties:
      mainframe:
        out: "sql:INSERT INTO customer_records (doc) VALUES (CAST(:#${body} AS jsonb))?datasource=mainframe"
    datasources:
      mainframe:
        url: postgresql+psycopg://app@db:5432/crm

What a crash loses: nothing. The extract moves to ``data/mainframe/in/.done`` only after every
record was written (or published and confirmed, or committed), so after a crash it is still in
the input folder and is split again: the records written before the crash are written again
under the same names (at least once). A record that does not decode (a bad packed decimal, a
short last record) fails the split at that record, with its number, field and byte offset in the
log; the file moves to ``data/mainframe/in/.error`` and the records before it are already out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eip import RouteBuilder
from eip import constants as c
from legacy import copybook_records

COPYBOOK = Path(__file__).resolve().parent / "samples" / "mainframe" / "customers.cpy"

MAINFRAME_IN = ("file:{{mainframe.in:data/mainframe/in}}?include=.*\\.dat&read_lock=changed"
                "&read_lock_min_age={{mainframe.min_age:1s}}&initial_delay=0&delay={{mainframe.delay:500ms}}")
MAINFRAME_OUT = "{{mainframe.out:file:data/mainframe/out}}"


def document_name(exchange: Any) -> str:
    """``<input file without extension>-<record number, 1-based, 6 digits>.json``."""
    stem = exchange.message.headers[c.FILE_NAME_ONLY].rpartition(".")[0] or "records"
    return f"{stem}-{exchange.properties[c.SPLIT_INDEX] + 1:06d}.json"


def count_records(old: Any, new: Any) -> Any:
    """Split strategy: the file's exchange ends with the number of records in its body (and
    the first failure of a record, so that the file is not marked done)."""
    if old is None:
        new.message.body = 1
        return new
    old.message.body += 1
    if old.exception is None and new.exception is not None:
        old.exception = new.exception
    return old


class MainframeBridge(RouteBuilder):
    """The bridge route (see the module docstring); ``copybook_file`` and ``encoding`` describe
    the records."""

    def __init__(self, copybook_file: str | Path = COPYBOOK, encoding: str = "cp037") -> None:
        super().__init__()
        self.copybook_file = Path(copybook_file)
        self.encoding = encoding

    def configure(self) -> None:
        (self.from_(MAINFRAME_IN).route_id("mainframe-bridge")
            .split(copybook_records(self.copybook_file, self.encoding), count_records, streaming=True)
                .marshal("json")
                .convert_body_to(str)  # text: a file, a text message or a bound SQL parameter alike
                .set_header(c.FILE_NAME, document_name)
                .set_header(c.AMQP_CONTENT_TYPE, "application/json")
                .to(MAINFRAME_OUT).id("write-document")
            .end()
            .log("${header.CamelFileNameOnly}: ${body} records to JSON", logger_name="mainframe.bridge"))
