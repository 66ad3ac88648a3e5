"""``sql:STATEMENT``: run SQL through a named datasource (SQLAlchemy 2), as Camel's sql component.

The path is the statement; ``:#name`` marks a named parameter. Options come after the last
``?`` that is followed by ``name=value`` pairs, so the statement may hold spaces, ``=``, ``#``
and ``?``; an ``&`` inside the statement or an option value is written ``%26``. Values are
**always bound parameters**, never put into the SQL text.

* Producer (``to("sql:INSERT INTO orders(id, total) VALUES (:#id, :#total)?datasource=orders")``):
  each exchange runs its statement in a transaction of its own, committed before the route goes
  on; rows come back as a list, one value or dict, or a lazy ``RowStream`` (``producer.py``,
  ``stream.py``).
* Consumer (``from_("sql:SELECT id, total FROM orders WHERE status = 'new' ORDER BY id LIMIT 100"
  "?on_consume=UPDATE orders SET status = 'done' WHERE id = :#id&datasource=orders")``): polls
  the SELECT, one exchange per row, and marks a row with ``on_consume`` only after its exchange
  completed; on PostgreSQL, MySQL/MariaDB and Oracle one transaction per poll locks the rows
  (``FOR UPDATE SKIP LOCKED``) so several processes can poll one table (``consumer.py``).

How ``:#name``, ``:#${simple}`` and ``:#in:name`` bind is in ``statement.py``; errors name the
datasource and the statement, never the values (``errors.py``); the options, endpoint and
component are in ``endpoint.py``. Options: ``eip doc sql``.
"""

from components.sql.consumer import SqlConsumer
from components.sql.endpoint import SqlComponent, SqlEndpoint
from components.sql.errors import sql_error, translate_error
from components.sql.producer import SqlProducer
from components.sql.statement import Param, Statement
from components.sql.stream import RowStream

__all__ = [
    "Param",
    "RowStream",
    "SqlComponent",
    "SqlConsumer",
    "SqlEndpoint",
    "SqlProducer",
    "Statement",
    "sql_error",
    "translate_error",
]
