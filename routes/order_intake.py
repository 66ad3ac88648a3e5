"""Order intake (e-commerce sync): JSON order files in, priced orders out to files and SQL.

Runs on embedded defaults only: folders under ``data/orders/`` (created on start), the SQLite
file of the ``default`` datasource (``./eip.db``) and ``seda:`` queues. Drop the samples in to
see it work::

    .venv/bin/eip run routes
    cp routes/samples/orders/*.json data/orders/in/
    # data/orders/out/1001.json, 1002.json        priced orders (also rows in order_summaries)
    # data/orders/error/order-1003.json(.reason)  rejected orders, each with its reason
    # data/orders/in/.done/                       every consumed file

Routes::

    order-db-init     timer (once, at start) -> direct:order-db-setup
    order-db-setup    direct:order-db-setup -> CREATE TABLE IF NOT EXISTS products, order_summaries
                        -> seed products from routes/samples/products.json (ON CONFLICT DO NOTHING)
    order-files       file:data/orders/in (*.json) -> [db setup, once] -> unmarshal(json)
                        -> validate -> every sku in the products table? -> split(lines)
                        -> choice: service == priority -> {{orders.priority}} (seda, 2 threads)
                                   otherwise           -> {{orders.standard}} (seda, 1 thread)
                      a bad order (invalid JSON, invalid order, unknown product):
                        on_exception(handled, original message) -> direct:order-rejects
    order-lane-priority / order-lane-standard
                      lane queue -> surcharge for the lane -> direct:order-pricing
    order-pricing     enrich(sql: the line's product) -> price the line
                        -> aggregate(orderId, until every line of the order is in)
                           { assemble -> complete? sql upsert order_summaries, file data/orders/out
                                        else -> direct:order-rejects }
                      dead letter channel (with redelivery) -> direct:order-rejects
    order-rejects     direct:order-rejects -> file data/orders/error/NAME (the message as it was)
                        and NAME.reason (one line: why)

An order file holds one JSON object::

    {"order_id": "1002", "customer": "C-042", "service": "priority",
     "lines": [{"sku": "SKU-KETTLE", "qty": 1}, {"sku": "SKU-OIL", "qty": 2}]}

``service`` is ``priority`` or ``standard`` (the default). Prices are integer cents from the
products table; priority lines pay an express surcharge of ``EXPRESS_SURCHARGE_PCT`` percent.
The output ``data/orders/out/<order_id>.json`` lists the priced lines and the total, and the
same order is upserted into ``order_summaries`` (so a file consumed twice gives one row).

Configuration (engine properties, the ``properties:`` of ``eip run --config``, or ``EIP_...``
environment variables such as ``EIP_ORDERS_IN``), each with its default:

=========================  ==========================================================
``orders.in``              ``data/orders/in``: folder polled for ``*.json`` files
``orders.out``             ``data/orders/out``: priced orders
``orders.error``           ``data/orders/error``: rejected orders and their reasons
``orders.delay``           ``500ms``: time between polls of the input folder
``orders.min_age``         ``1s``: a file is taken once it is that old (never half-copied)
``orders.priority``        ``seda:order-lines-priority?concurrent_consumers=2&block_when_full=true``
``orders.standard``        ``seda:order-lines-standard?block_when_full=true``
``orders.datasource``      ``default``: the datasource of the products and order tables
``datasource.default.url`` ``sqlite:///./eip.db`` (see ``eip.datasources``)
=========================  ==========================================================

**Switching to RabbitMQ and PostgreSQL, by configuration alone**::

    properties:
      orders:
        priority: amqp:queue:order-lines-priority?declare=true&concurrent_consumers=2
        standard: amqp:queue:order-lines-standard?declare=true
    amqp:
      url: amqp://app:${env:AMQP_PASSWORD}@rabbit:5672/
    datasources:
      default:
        url: postgresql+psycopg://app@db:5432/shop
        password: ${env:SHOP_DB_PASSWORD}

(or ``EIP_ORDERS_PRIORITY=amqp:queue:...``, ``EIP_DATASOURCE_DEFAULT_URL=postgresql+psycopg://...``).
The lines then travel as JSON messages with their headers, the lanes can be consumed by
several engine processes, and every statement here is plain SQL that SQLite and PostgreSQL both
run (``CREATE TABLE IF NOT EXISTS``, ``INSERT ... ON CONFLICT``).

What a crash loses. The input file moves to ``.done`` once its lines are queued, and is left
in the input folder if the process dies before that (consumed again on restart: at least
once). With ``seda:`` lanes (in memory) a crash loses the lines still queued; with ``amqp:``
lanes they wait in the broker. The aggregator keeps the lines of an order that is not complete
in memory, so a crash also loses those (an SQL aggregation repository is the durable
alternative). A graceful stop (SIGTERM) loses nothing: the file consumer stops, the queues
drain, and an order still incomplete when the aggregator stops goes to the error folder with
the reason "incomplete". Lines are keyed by their number, so a line delivered twice (a broker
redelivery, a file consumed again) is counted once.

Bad orders never block good ones: an invalid order is rejected and its file is done. A failure
that is not the order's fault (the database down while the file is read) is not a rejection:
the file moves to ``data/orders/in/.error``, to be put back once the cause is fixed. After the
hand-off to the lanes, a line or an order that still fails after ``maximum_redeliveries`` goes
to the error folder with its reason, so nothing disappears silently.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from eip import (
    JsonDataFormat,
    RouteBuilder,
    TypeConversionError,
    body,
    dead_letter_channel,
    header,
    simple,
    use_original,
)
from eip import constants as c
from eip.errors import ValidationError

SAMPLES = Path(__file__).resolve().parent / "samples"
SERVICES = ("priority", "standard")
#: Priority lines ship express: this many percent of the line amount on top (rounded down).
EXPRESS_SURCHARGE_PCT = 10
_ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

# Endpoints with their placeholders; each default is written once, here.
ORDERS_IN = ("file:{{orders.in:data/orders/in}}?include=.*\\.json&read_lock=changed"
             "&read_lock_min_age={{orders.min_age:1s}}&initial_delay=0&delay={{orders.delay:500ms}}")
ORDERS_OUT = "file:{{orders.out:data/orders/out}}?file_name=${header.orderId}.json"
ORDERS_ERROR = "file:{{orders.error:data/orders/error}}"
PRIORITY_LANE = "{{orders.priority:seda:order-lines-priority?concurrent_consumers=2&block_when_full=true}}"
STANDARD_LANE = "{{orders.standard:seda:order-lines-standard?block_when_full=true}}"
DATASOURCE = "datasource={{orders.datasource:default}}"

#: The tables, in SQL that SQLite and PostgreSQL both run. Amounts are integer cents.
CREATE_PRODUCTS = ("CREATE TABLE IF NOT EXISTS products (sku VARCHAR(40) PRIMARY KEY, "
                   "name VARCHAR(200) NOT NULL, unit_price_cents INTEGER NOT NULL, category VARCHAR(40))")
CREATE_ORDER_SUMMARIES = ("CREATE TABLE IF NOT EXISTS order_summaries (order_id VARCHAR(64) PRIMARY KEY, "
                          "customer VARCHAR(64) NOT NULL, service VARCHAR(16) NOT NULL, "
                          "line_count INTEGER NOT NULL, total_cents BIGINT NOT NULL, "
                          "received_on VARCHAR(10) NOT NULL)")
SEED_PRODUCTS = ("INSERT INTO products (sku, name, unit_price_cents, category) "
                 "VALUES (:#sku, :#name, :#unit_price_cents, :#category) ON CONFLICT (sku) DO NOTHING")
KNOWN_SKUS = "SELECT sku FROM products WHERE sku IN (:#in:skus)"
PRODUCT_OF_LINE = "SELECT name, unit_price_cents, category FROM products WHERE sku = :#sku"
UPSERT_ORDER = ("INSERT INTO order_summaries (order_id, customer, service, line_count, total_cents, received_on) "
                "VALUES (:#order_id, :#customer, :#service, :#line_count, :#total_cents, :#received_on) "
                "ON CONFLICT (order_id) DO UPDATE SET customer = excluded.customer, "
                "service = excluded.service, line_count = excluded.line_count, "
                "total_cents = excluded.total_cents, received_on = excluded.received_on")


class InvalidOrderError(ValidationError):
    """The order itself is wrong (bad shape, bad quantity, unknown product): it is rejected."""


# -- validation -----------------------------------------------------------------------------------
def validate_order(exchange: Any) -> None:
    """Check the order in the body; raise InvalidOrderError saying what is wrong.

    Fills in ``service`` (default ``standard``) and sets the headers the other routes use:
    ``orderId``, ``customer``, ``service``, ``lineCount`` and ``skus``."""
    order = exchange.message.body
    if not isinstance(order, dict):
        raise InvalidOrderError(f"an order is a JSON object, got {type(order).__name__}")
    order_id = order.get("order_id")
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        raise InvalidOrderError(f"order_id must be 1 to 64 letters, digits, '.', '_' or '-', got {order_id!r}")
    customer = order.get("customer")
    if not isinstance(customer, str) or not customer.strip():
        raise InvalidOrderError(f"order {order_id}: no customer")
    service = order.setdefault("service", "standard")
    if service not in SERVICES:
        raise InvalidOrderError(f"order {order_id}: service must be one of {', '.join(SERVICES)}, got {service!r}")
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidOrderError(f"order {order_id}: no order lines")
    for number, line in enumerate(lines, 1):
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str) or not line["sku"]:
            raise InvalidOrderError(f"order {order_id}: line {number} has no sku")
        qty = line.get("qty")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise InvalidOrderError(f"order {order_id}: line {number} has quantity {qty!r}")
    headers = exchange.message.headers
    headers["orderId"] = order_id
    headers["customer"] = customer
    headers["service"] = service
    headers["lineCount"] = len(lines)
    headers["skus"] = sorted({line["sku"] for line in lines})


def check_catalogue(exchange: Any) -> None:
    """Raise InvalidOrderError naming the skus that the products table does not hold."""
    headers = exchange.message.headers
    known = {row["sku"] for row in headers.pop("knownSkus")}
    unknown = [sku for sku in headers.pop("skus") if sku not in known]
    if unknown:
        raise InvalidOrderError(f"order {headers['orderId']}: unknown product(s) {', '.join(unknown)}")


def today(exchange: Any) -> str:
    """The day the order was received, ``YYYY-MM-DD`` (the engine's clock)."""
    return date.today().isoformat()


def line_number(exchange: Any) -> int:
    """The line's number in its order, from 1 (the splitter's index)."""
    return exchange.properties[c.SPLIT_INDEX] + 1


# -- pricing and assembly -------------------------------------------------------------------------
def add_product(line: Any, product: Any) -> Any:
    """Enrich strategy: the product row (from the products table) goes into the line."""
    row = product.message.body
    if row is None:  # removed from the table since the order was checked
        raise InvalidOrderError(f"order {line.message.headers['orderId']}: product {line.message.body['sku']} "
                                "is no longer in the products table")
    line.message.body = {**line.message.body, **row}
    return line


def price_line(exchange: Any) -> dict[str, Any]:
    """Message translator: an enriched line becomes a priced line (the lane's surcharge on top)."""
    line = exchange.message.body
    headers = exchange.message.headers
    amount = line["qty"] * line["unit_price_cents"]
    return {"line": headers["lineNo"], "sku": line["sku"], "name": line["name"], "qty": line["qty"],
            "unit_price_cents": line["unit_price_cents"], "amount_cents": amount,
            "surcharge_cents": amount * headers.get("surchargePct", 0) // 100}


def collect_lines(old: Any, new: Any) -> Any:
    """Aggregation strategy: the priced lines of one order, by line number (a line delivered
    twice counts once)."""
    line = new.message.body
    if old is None:
        new.message.body = {line["line"]: line}
        return new
    old.message.body[line["line"]] = line
    return old


def all_lines_in(exchange: Any) -> bool:
    """Completion predicate: every line of the order has arrived."""
    return len(exchange.message.body) >= exchange.message.headers["lineCount"]


def assemble_order(exchange: Any) -> None:
    """The collected lines become the order document; an order completed by anything but its
    last line (the completion timeout, the engine stopping) is marked incomplete."""
    headers = exchange.message.headers
    lines = [exchange.message.body[number] for number in sorted(exchange.message.body)]
    total = sum(line["amount_cents"] + line["surcharge_cents"] for line in lines)
    exchange.message.body = {
        "order_id": headers["orderId"], "customer": headers["customer"], "service": headers["service"],
        "received_on": headers["receivedOn"], "line_count": headers["lineCount"], "lines": lines,
        "total_cents": total, "total": f"{Decimal(total) / 100:.2f}"}
    headers["rejectFile"] = f"{headers['orderId']}.json"
    if len(lines) < headers["lineCount"]:
        completed_by = exchange.properties.get(c.AGGREGATED_COMPLETED_BY)
        headers["orderRejectReason"] = (f"incomplete: {len(lines)} of {headers['lineCount']} lines arrived "
                                        f"(completed by {completed_by})")


def is_incomplete(exchange: Any) -> bool:
    return "orderRejectReason" in exchange.message.headers


# -- rejects --------------------------------------------------------------------------------------
def reject_file_name(exchange: Any) -> str:
    """Where a rejected message goes: the name the route chose, else the input file's name."""
    headers = exchange.message.headers
    return headers.get("rejectFile") or headers.get(c.FILE_NAME) or f"{exchange.exchange_id}.json"


def line_reject_file(exchange: Any) -> str:
    """Where a line that cannot be priced goes: ``<order_id>.line-<n>.json``."""
    headers = exchange.message.headers
    return f"{headers['orderId']}.line-{headers['lineNo']}.json"


def reject_reason(exchange: Any) -> str:
    """One line saying why: the route's own reason, else the exception that rejected it."""
    headers = exchange.message.headers
    reason = headers.get("orderRejectReason") or headers.get(c.DEAD_LETTER_CAUSE)
    if not reason:
        caught = exchange.properties.get(c.EXCEPTION_CAUGHT)
        reason = f"{type(caught).__name__}: {caught}" if caught is not None else "unknown"
    return reason


# -- the routes -----------------------------------------------------------------------------------
class OrderIntake(RouteBuilder):
    """The order intake routes (see the module docstring).

    ``products_file`` is the JSON list that seeds the products table (default
    ``routes/samples/products.json``); ``completion_timeout`` is how long an order waits for its
    missing lines before it is rejected as incomplete; a failing line is retried
    ``maximum_redeliveries`` times ``redelivery_delay`` seconds apart before it is rejected."""

    def __init__(self, products_file: str | Path | None = None, *, completion_timeout: float = 30.0,
                 maximum_redeliveries: int = 3, redelivery_delay: float = 1.0) -> None:
        super().__init__()
        path = Path(products_file) if products_file is not None else SAMPLES / "products.json"
        self.products: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        self.completion_timeout = completion_timeout
        self.maximum_redeliveries = maximum_redeliveries
        self.redelivery_delay = redelivery_delay
        self.db_ready = threading.Event()  # set once the tables exist and are seeded

    def _product_rows(self, exchange: Any) -> list[dict[str, Any]]:
        return [dict(product) for product in self.products]

    def _db_missing(self, exchange: Any) -> bool:
        return not self.db_ready.is_set()

    def _mark_db_ready(self, exchange: Any) -> None:
        self.db_ready.set()

    def configure(self) -> None:
        # The tables: created and seeded at start, and before the first order in case a file
        # arrives first or the database was down then (every statement is idempotent).
        (self.from_("direct:order-db-setup").route_id("order-db-setup")
            .to(f"sql:{CREATE_PRODUCTS}?{DATASOURCE}")
            .to(f"sql:{CREATE_ORDER_SUMMARIES}?{DATASOURCE}")
            .set_body(self._product_rows)
            .to(f"sql:{SEED_PRODUCTS}?batch=true&{DATASOURCE}")
            .process(self._mark_db_ready))
        (self.from_("timer:order-db-init?repeat_count=1&delay=0").route_id("order-db-init")
            .to("direct:order-db-setup?timeout=5s"))

        (self.from_(ORDERS_IN).route_id("order-files")
            .on_exception(InvalidOrderError, TypeConversionError, handled=True, use_original_message=True)
                .to("direct:order-rejects")
            .end()
            .filter(self._db_missing)
                .enrich("direct:order-db-setup", use_original)
            .end()
            .unmarshal("json")
            .process(validate_order).id("validate")
            .set_header("receivedOn", today)
            .to(f"sql:{KNOWN_SKUS}?output_header=knownSkus&{DATASOURCE}").id("known-skus")
            .process(check_catalogue).id("check-catalogue")
            .split(body()["lines"])
                .set_header("lineNo", line_number)
                # Content-based router: each line goes to its lane's queue.
                .choice()
                    .when(header("service") == "priority").to(PRIORITY_LANE).id("to-priority-lane")
                    .otherwise().to(STANDARD_LANE).id("to-standard-lane")
                .end()
            .end())

        (self.from_(PRIORITY_LANE).route_id("order-lane-priority")
            .set_header("surchargePct", EXPRESS_SURCHARGE_PCT)
            .to("direct:order-pricing"))
        (self.from_(STANDARD_LANE).route_id("order-lane-standard")
            .set_header("surchargePct", 0)
            .to("direct:order-pricing"))

        (self.from_("direct:order-pricing").route_id("order-pricing")
            .error_handler(dead_letter_channel("direct:order-rejects",
                                               maximum_redeliveries=self.maximum_redeliveries,
                                               redelivery_delay=self.redelivery_delay))
            .set_header("rejectFile", line_reject_file)
            .enrich(f"sql:{PRODUCT_OF_LINE}?output_type=select_one&{DATASOURCE}", add_product).id("product")
            .transform(price_line).id("price-line")
            .aggregate(header("orderId"), collect_lines, completion_predicate=all_lines_in,
                       completion_timeout=self.completion_timeout, force_completion_on_stop=True)
                .process(assemble_order).id("assemble")
                .choice()
                    .when(is_incomplete).to("direct:order-rejects")
                    .otherwise()
                        .to(f"sql:{UPSERT_ORDER}?{DATASOURCE}").id("save-order")
                        .marshal(JsonDataFormat(pretty=True))
                        .to(ORDERS_OUT).id("write-order")
                .end()
            .end())

        (self.from_("direct:order-rejects").route_id("order-rejects")
            .set_header(c.FILE_NAME, reject_file_name)
            .to(ORDERS_ERROR).id("write-rejected")
            .set_header("rejectReason", reject_reason)
            .log("order rejected into ${header.CamelFileName}: ${header.rejectReason}", level="WARNING",
                 logger_name="orders.rejected")
            .set_header(c.FILE_NAME, simple("${header.CamelFileName}.reason"))
            .set_body(simple("${header.rejectReason}\n"))
            .to(ORDERS_ERROR).id("write-reason"))
