"""SQL errors of the ``sql:`` component: SQLAlchemy and DBAPI errors translated at its edge.

Errors are ``SqlError`` naming the datasource and the statement (never the values);
connection failures are ``SqlConnectionError``, also an ``EndpointNotConnectedError``, so a
redelivery policy retries them. Unlike the other components' errors these two are defined in the
core (``eip.errors``) and only re-exported here: the core's datasources (``eip.datasources``) and
its SQL repositories raise them too, and the core imports no component.
"""

from __future__ import annotations

from eip.datasources import describe_sql_error
from eip.errors import SqlConnectionError, SqlError

__all__ = ["SqlConnectionError", "SqlError", "sql_error", "translate_error"]


def sql_error(
    datasource: str, detail: str, statement: str, uri: str | None = None, cls: type[SqlError] = SqlError
) -> SqlError:
    """A ``SqlError`` whose message names the datasource and the statement."""
    return cls(
        f"datasource '{datasource}': {detail} [statement: {statement}]",
        uri=uri,
        datasource=datasource,
        statement=statement,
    )


def translate_error(exc: BaseException, datasource: str, statement: str, uri: str | None = None) -> SqlError:
    """The eip error for a SQLAlchemy/DBAPI error: the driver's first message line, the
    datasource and the statement text (never the bound values)."""
    if isinstance(exc, SqlError):
        return exc
    cls, detail = describe_sql_error(exc, "statement failed")
    return sql_error(datasource, detail, statement, uri, cls)
