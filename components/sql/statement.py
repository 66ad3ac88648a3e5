"""The statement of an ``sql:`` endpoint: its ``:#`` parameters, parsed once into a SQLAlchemy
``text()`` clause. Values are always bound parameters, never put into the SQL text.

* ``:#name``: from the body when it is a mapping holding ``name``, else from the header
  ``name``; missing from both is a ``SqlError`` naming it. ``batch=true``: from each item of
  the list body, then the headers. Consumer ``on_consume``: from the polled row, then headers.
* ``:#${simple}``: the value of a Simple expression (``:#${header.total}``), per exchange.
* ``:#in:name``: a list or tuple expanded to ``(v1, v2, ...)`` for ``IN``:
  ``WHERE id IN (:#in:ids)``.

Any other ``:word`` (a time literal, an Oracle-style bind) is escaped, so only these are bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from eip.errors import ConfigurationError, SqlError
from eip.exchange import Exchange
from eip.simple_language import compile_template

_NAME = re.compile(r"[A-Za-z_]\w*")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Param:
    """One parameter of a statement: ``name`` (body/header), ``in`` (expanded list) or ``expr``."""

    bind: str
    kind: str
    name: str
    expression: Any = None


class Statement:
    """A statement with ``:#`` parameters, turned into a SQLAlchemy ``text()`` clause once."""

    __slots__ = ("clause", "params", "plain_names", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        sql, params = _translate(source)
        self.params: tuple[Param, ...] = params
        # Only ":#name" parameters bound under their own name: a dict holding every name can be
        # passed to the driver as it is (the batch fast path; extra keys are ignored).
        self.plain_names: frozenset[str] | None = (
            frozenset(p.name for p in params) if all(p.kind == "name" and p.bind == p.name for p in params) else None
        )
        clause = text(sql)
        expanding: list[Any] = [bindparam(p.bind, expanding=True) for p in params if p.kind == "in"]
        self.clause = clause.bindparams(*expanding) if expanding else clause

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.kind != "expr")

    def values(self, exchange: Exchange | None, first: Any, where: str = "the body") -> dict[str, Any]:
        """Bound values: each ``:#name`` from ``first`` (a mapping) then the exchange's headers."""
        values: dict[str, Any] = {}
        headers = exchange.message.headers if exchange is not None else None
        for param in self.params:
            if param.kind == "expr":
                values[param.bind] = param.expression(exchange) if exchange is not None else None
                continue
            name = param.name
            if isinstance(first, Mapping) and name in first:
                value = first[name]
            elif headers is not None and name in headers:
                value = headers[name]
            else:
                raise SqlError(_missing(name, first, where), statement=self.source)
            if param.kind == "in":
                if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                    raise SqlError(
                        f"parameter ':#in:{name}' needs a list or tuple, got {type(value).__name__}",
                        statement=self.source,
                    )
                value = list(value)
            values[param.bind] = value
        return values

    def with_suffix(self, suffix: str) -> Statement:
        # On a line of its own: the statement may end with a "--" comment.
        return Statement(self.source.rstrip().rstrip(";").rstrip() + "\n" + suffix)

    def __repr__(self) -> str:
        return f"Statement({self.source!r})"


def _missing(name: str, first: Any, where: str) -> str:
    if isinstance(first, Mapping):
        keys = ", ".join(sorted(str(k) for k in first)[:20]) or "no keys"
        found = f"{where} (a mapping with {keys})"
    else:
        found = f"{where} (a {type(first).__name__}, not a mapping)"
    return f"parameter ':#{name}' has no value: not in {found} nor in the headers"


def _translate(source: str) -> tuple[str, tuple[Param, ...]]:
    """``source`` as text() SQL: ``:#x`` becomes a bind; any other ``:word`` (a time literal, a
    Oracle-style bind) is escaped so that only our parameters are bound."""
    out: list[str] = []
    params: dict[str, Param] = {}
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if source[end] == ch:
                    if end + 1 < n and source[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(_escape_colons(source[i : end + 1]))
            i = end + 1
            continue
        if source.startswith("--", i) or source.startswith("/*", i):
            close = "\n" if source[i + 1] == "-" else "*/"
            end = source.find(close, i + 2)
            end = n if end < 0 else end + len(close)
            out.append(_escape_colons(source[i:end]))
            i = end
            continue
        if source.startswith(":#", i):
            start = i + 2
            if source.startswith("in:", start):
                match = _NAME.match(source, start + 3)
                if not match:
                    raise ConfigurationError(f"statement {source!r}: ':#in:' must be followed by a name")
                name = match.group(0)
                param = params.setdefault(f"in:{name}", Param(f"in_{name}", "in", name))
                # Written as Camel does, "IN (:#in:ids)": SQLAlchemy adds the parentheses itself.
                tail = re.match(r"\s*\)", source[match.end() :])
                if tail and out and "".join(out).rstrip().endswith("("):
                    text_so_far = "".join(out).rstrip()
                    out = [text_so_far[:-1]]
                    i = match.end() + tail.end()
                else:
                    i = match.end()
            elif source.startswith("${", start):
                end = source.find("}", start)
                if end < 0:
                    raise ConfigurationError(f"statement {source!r}: ':#${{' has no closing '}}'")
                expression = source[start : end + 1]
                key = f"expr:{expression}"
                param = params.get(key) or Param(
                    f"expr_{len(params)}", "expr", expression, compile_template(expression)
                )
                params[key] = param
                i = end + 1
            else:
                match = _NAME.match(source, start)
                if not match:
                    raise ConfigurationError(
                        f"statement {source!r}: ':#' must be followed by a name, '${{expression}}' or 'in:name'"
                    )
                name = match.group(0)
                param = params.setdefault(name, Param(name, "name", name))
                i = match.end()
            if out and re.search(r"[\w:\\]$", out[-1]):
                out.append(" ")  # "IN(:#in:ids)": text() only sees a bind after a non-word char
            out.append(f":{param.bind}")
            if i < n and source[i] == ":":
                out.append(" ")  # ":#id::text" - text() would not see ":id" followed by ":"
            continue
        if ch == ":" and i + 1 < n:
            if source[i + 1] == ":":
                out.append("::")
                i += 2
                continue
            if _WORD.match(source[i + 1]):
                out.append("\\:")
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out), tuple(params.values())


def _escape_colons(text: str) -> str:
    return re.sub(r":(?=\w)", lambda m: "\\:", text)


def decode_statement(path: str) -> str:
    """The statement an endpoint's path holds: ``%26`` is an ``&``."""
    return path.replace("%26", "&").strip()
