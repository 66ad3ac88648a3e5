"""The main job: sample orders through a router, a splitter, a translator and an aggregator.

Runs on embedded defaults only (``timer:``, ``direct:``, ``seda:``, logging): no broker and no
database server. Five routes::

    order-generator  timer:orders (every period) -> SampleOrders -> direct:order-batch
    order-batches    direct:order-batch -> headers batchId, batchSize -> split(orders) -> seda:orders
    order-intake     seda:orders (2 threads) -> validate_order
                       -> choice(type): priority = express lane + fee, wholesale = bulk lane
                          + discount, otherwise standard lane
                       -> split(lines, sum_lines) { transform(price_line) } -> transform(order_summary)
                       -> direct:order-totals
                     a bad order: dead letter channel (the order as received) -> direct:rejected-orders
    rejected-orders  direct:rejected-orders -> one WARNING line -> transform(rejection)
                       -> direct:order-totals
    order-totals     direct:order-totals -> aggregate(batchId, add_to_batch, completion_size=batchSize)
                       { transform(finish_report) -> one INFO line per batch }

The data is deterministic: batch ``n`` always holds the same orders, and every seventh and every
eleventh order is bad (a line with quantity 0, an order without lines), so the dead letter channel
has work to do. Amounts are integer cents.

What a crash loses: ``seda:orders`` and the aggregator keep their state in memory, so orders
queued or batches half-totalled when the process dies are gone. Both are the places to put a
broker queue (``amqp:``) and an SQL aggregation repository when the orders are real.

Tests give other endpoints through the constructor (``OrderJob(source="direct:tick",
report_uri="mock:report")``); ``eip run routes`` creates the class with its defaults.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

from eip import RouteBuilder, body, dead_letter_channel, header

ORDER_TYPES = ("priority", "standard", "wholesale")
#: Unit prices in cents.
CATALOGUE = {"SKU-APPLE": 120, "SKU-KIWI": 60, "SKU-MANGO": 350, "SKU-PEAR": 95, "SKU-PLUM": 210}
#: Priority orders pay for the express lane; wholesale orders get a discount in percent.
EXPRESS_FEE = 500
WHOLESALE_DISCOUNT = 10


class InvalidOrderError(ValueError):
    """An order that cannot be processed; it goes to the dead letter channel."""


# -- sample data -------------------------------------------------------------------------------
def sample_batch(number: int, size: int = 10) -> dict[str, Any]:
    """Batch ``number`` (1-based) of ``size`` sample orders; the same number gives the same orders."""
    rng = random.Random(number)
    orders = []
    for index in range(size):
        order_no = (number - 1) * size + index + 1
        kind = ORDER_TYPES[rng.randrange(len(ORDER_TYPES))]
        most = 40 if kind == "wholesale" else 5
        skus = rng.sample(sorted(CATALOGUE), rng.randint(1, 3))
        lines = [{"sku": sku, "qty": rng.randint(1, most), "unit_price": CATALOGUE[sku]} for sku in skus]
        if order_no % 7 == 0:
            lines[0]["qty"] = 0
        if order_no % 11 == 0:
            lines = []
        orders.append({"id": f"ORD-{order_no:05d}", "type": kind,
                       "customer": f"C{rng.randint(1, 40):03d}", "lines": lines})
    return {"batch_id": f"B{number:04d}", "orders": orders}


class SampleOrders:
    """Processor: replaces the body with the next sample batch (1, 2, 3, ... per instance)."""

    def __init__(self, size: int = 10) -> None:
        self.size = size
        self._numbers = itertools.count(1)

    def process(self, exchange: Any) -> None:
        exchange.message.body = sample_batch(next(self._numbers), self.size)


# -- validation and translation ----------------------------------------------------------------
def validate_order(exchange: Any) -> None:
    """Raise InvalidOrderError naming what is wrong with the order in the body."""
    order = exchange.message.body
    if not isinstance(order, dict):
        raise InvalidOrderError(f"an order must be a mapping, got {type(order).__name__}")
    order_id = order.get("id") or "?"
    if not order.get("id"):
        raise InvalidOrderError("order has no id")
    if order.get("type") not in ORDER_TYPES:
        raise InvalidOrderError(f"order {order_id}: unknown type {order.get('type')!r}")
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidOrderError(f"order {order_id}: no order lines")
    for number, line in enumerate(lines, 1):
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str):
            raise InvalidOrderError(f"order {order_id}: line {number} has no sku")
        qty, price = line.get("qty"), line.get("unit_price")
        if not isinstance(qty, int) or qty <= 0:
            raise InvalidOrderError(f"order {order_id}: line {number} has quantity {qty!r}")
        if not isinstance(price, int) or price < 0:
            raise InvalidOrderError(f"order {order_id}: line {number} has unit price {price!r}")


def price_line(exchange: Any) -> dict[str, Any]:
    """Message translator: an order line becomes a priced line (discount from the header)."""
    line = exchange.message.body
    gross = line["qty"] * line["unit_price"]
    discount = gross * exchange.message.headers.get("discountPct", 0) // 100
    return {"sku": line["sku"], "qty": line["qty"], "amount": gross - discount}


def sum_lines(old: Any, new: Any) -> Any:
    """Aggregation strategy of the line splitter: the order's line count and amount."""
    line = new.message.body
    if old is None:
        new.message.body = {"lines": 1, "amount": line["amount"]}
        return new
    old.message.body["lines"] += 1
    old.message.body["amount"] += line["amount"]
    return old


def order_summary(exchange: Any) -> dict[str, Any]:
    """Message translator: the summed lines become the order's summary for the totals."""
    headers = exchange.message.headers
    totals = exchange.message.body
    return {"order_id": headers["orderId"], "type": headers["orderType"], "lane": headers["lane"],
            "lines": totals["lines"], "amount": totals["amount"] + headers.get("feeCents", 0)}


def rejection(exchange: Any) -> dict[str, Any]:
    """Message translator: a dead-lettered order becomes a rejection the totals count."""
    order = exchange.message.body
    order_id = order.get("id") if isinstance(order, dict) else None
    return {"order_id": order_id, "rejected": True,
            "reason": exchange.message.headers.get("CamelDeadLetterCause", "unknown")}


def add_to_batch(old: Any, new: Any) -> Any:
    """Aggregation strategy of the totals: one report per batch."""
    summary = new.message.body
    if old is None:
        new.message.body = {"batch_id": new.message.headers.get("batchId"), "orders": 0, "accepted": 0,
                            "rejected": 0, "lines": 0, "amount": 0,
                            "by_type": dict.fromkeys(ORDER_TYPES, 0)}
        old = new
    report = old.message.body
    report["orders"] += 1
    if summary.get("rejected"):
        report["rejected"] += 1
    else:
        report["accepted"] += 1
        report["lines"] += summary["lines"]
        report["amount"] += summary["amount"]
        report["by_type"][summary["type"]] += 1
    return old


def finish_report(exchange: Any) -> dict[str, Any]:
    """Add the display fields of the batch report (total in currency units, per-type counts)."""
    report = dict(exchange.message.body)
    report["total"] = f"{Decimal(report['amount']) / 100:.2f}"
    report["types"] = " ".join(f"{kind}={count}" for kind, count in report["by_type"].items())
    return report


# -- the routes ---------------------------------------------------------------------------------
class OrderJob(RouteBuilder):
    """Sample orders every ``period`` seconds, priced and totalled per batch.

    ``source`` triggers a batch (default a timer); ``report_uri`` and ``rejected_uri``, when
    given, also receive each batch report and each rejected order (tests use ``mock:``)."""

    def __init__(self, source: str | None = None, *, period: float = 2.0, batch_size: int = 10,
                 report_uri: str | None = None, rejected_uri: str | None = None,
                 batch_timeout: float = 30.0, consumers: int = 2) -> None:
        super().__init__()
        self.consumers = consumers
        self.source = source or f"timer:orders?period={period}&delay=0.5"
        self.batch_size = batch_size
        self.report_uri = report_uri
        self.rejected_uri = rejected_uri
        self.batch_timeout = batch_timeout

    def configure(self) -> None:
        (self.from_(self.source).route_id("order-generator")
            .process(SampleOrders(self.batch_size)).id("sample-orders")
            .to("direct:order-batch"))

        # Splitter over the batch; seda: hands each order to the intake's own threads.
        (self.from_("direct:order-batch").route_id("order-batches")
            .set_header("batchId", body()["batch_id"])
            .set_header("batchSize", lambda ex: len(ex.message.body["orders"]))
            .split(body()["orders"])
                .to("seda:orders")
            .end())

        intake = (self.from_(f"seda:orders?concurrent_consumers={self.consumers}&block_when_full=true")
                  .route_id("order-intake")
                  .error_handler(dead_letter_channel("direct:rejected-orders", use_original_message=True))
                  .process(validate_order).id("validate")
                  .set_header("orderId", body()["id"])
                  .set_header("orderType", body()["type"])
                  # Content-based router: the order type picks the lane and its price rule.
                  .choice()
                      .when(header("orderType") == "priority")
                          .set_header("lane", "express")
                          .set_header("feeCents", EXPRESS_FEE)
                      .when(header("orderType") == "wholesale")
                          .set_header("lane", "bulk")
                          .set_header("discountPct", WHOLESALE_DISCOUNT)
                      .otherwise()
                          .set_header("lane", "standard")
                  .end()
                  # Splitter over the lines; the strategy sums the priced lines back into the order.
                  .split(body()["lines"], sum_lines)
                      .transform(price_line).id("price-line")
                  .end()
                  .transform(order_summary).id("summarise"))
        intake.to("direct:order-totals")

        rejected = (self.from_("direct:rejected-orders").route_id("rejected-orders")
                    .log("rejected order ${body.id} of batch ${header.batchId}: ${header.CamelDeadLetterCause}",
                         level="WARNING", logger_name="orders.rejected").id("log-rejected"))
        if self.rejected_uri:
            rejected.to(self.rejected_uri)
        rejected.transform(rejection).to("direct:order-totals")

        totals = (self.from_("direct:order-totals").route_id("order-totals")
                  .aggregate(header("batchId"), add_to_batch, completion_size=header("batchSize"),
                             completion_timeout=self.batch_timeout, force_completion_on_stop=True)
                      .transform(finish_report)
                      .log("batch ${body.batch_id}: ${body.orders} orders (${body.accepted} accepted, "
                           "${body.rejected} rejected), ${body.lines} lines, total ${body.total} "
                           "[${body.types}]", logger_name="orders.report").id("log-batch"))
        if self.report_uri:
            totals.to(self.report_uri)
        totals.end()
