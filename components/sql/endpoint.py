"""The ``sql:`` endpoint's options, the endpoint and the component."""

from __future__ import annotations

from typing import Any

from components.sql.consumer import SqlConsumer
from components.sql.producer import SqlProducer
from components.sql.statement import Statement, decode_statement
from eip.component import Component, Consumer, Producer
from eip.errors import EndpointOptionError
from eip.options import Option, OptionSpec
from eip.polling import POLLING_OPTIONS, ScheduledPollEndpoint

OUTPUT_TYPES = ("select_list", "select_one", "stream")


class SqlEndpoint(ScheduledPollEndpoint):
    options = OptionSpec(
        POLLING_OPTIONS
        + (
            Option(
                "datasource",
                "str",
                "default",
                "Name of the datasource (engine.add_datasource, or property datasource.NAME.url); "
                "'default' is ./eip.db (SQLite) unless configured.",
            ),
            Option(
                "batch",
                "bool",
                False,
                "Producer: the body is a list of mappings; run one executemany in one transaction.",
            ),
            Option(
                "output_type",
                "str",
                "select_list",
                "Producer: rows as a list of dicts, one value/dict (select_one), or a lazy iterator (stream).",
                choices=OUTPUT_TYPES,
            ),
            Option("output_header", "str", "", "Producer: put the query result in this header and keep the body."),
            Option(
                "on_consume",
                "str",
                "",
                "Consumer: statement run for each row after its exchange completed (:#name binds from the row).",
            ),
            Option("on_consume_failed", "str", "", "Consumer: statement run for each row whose exchange failed."),
            Option(
                "on_consume_batch_complete", "str", "", "Consumer: statement run once after a poll that processed rows."
            ),
            Option(
                "expected_update_count",
                "int",
                -1,
                "Consumer: a mark that changes another number of rows counts as failed; -1 = any.",
            ),
            Option(
                "skip_locked",
                "bool",
                True,
                "Consumer: on PostgreSQL/MySQL/Oracle lock the polled rows (FOR UPDATE SKIP LOCKED) "
                "in one transaction per poll, so several processes can poll one table.",
            ),
        )
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        text = decode_statement(self.parsed.path)
        if not text:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': the SQL statement is empty (sql:SELECT ... or sql:INSERT ...)"
            )
        self.statement = Statement(text)
        self.on_consume: Statement | None = None
        self.on_consume_failed: Statement | None = None
        self.batch_complete: Statement | None = None

    def validate(self) -> None:
        super().validate()
        values = self.values
        if values["batch"] and values["output_type"] == "stream":
            raise EndpointOptionError(f"endpoint '{self.uri}': batch=true cannot be combined with output_type=stream")
        if values["expected_update_count"] < -1:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': expected_update_count must be -1 "
                f"(any) or more, got {values['expected_update_count']}"
            )
        self.on_consume = Statement(values["on_consume"]) if values["on_consume"] else None
        self.on_consume_failed = Statement(values["on_consume_failed"]) if values["on_consume_failed"] else None
        self.batch_complete = (
            Statement(values["on_consume_batch_complete"]) if values["on_consume_batch_complete"] else None
        )
        if self.batch_complete is not None and self.batch_complete.params:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': on_consume_batch_complete cannot have "
                ":# parameters (it runs once per poll, not per row)"
            )

    def create_producer(self) -> Producer:
        return SqlProducer(self)

    def create_consumer(self, processor: Any) -> Consumer:
        return SqlConsumer(self, processor)


class SqlComponent(Component):
    """sql:STATEMENT - run SQL on a named datasource (SQLAlchemy): producer binds :#name from the
    body or headers; consumer polls a SELECT, one exchange per row, marking rows with on_consume."""

    endpoint_class = SqlEndpoint
    path_is_code = True  # the path is the statement: dynamic sends must not fill it from data
