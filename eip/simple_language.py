"""A subset of Camel's Simple language: ``${...}`` templates and simple predicates.

Templates: ``${body}``, ``${header.NAME}`` (also ``${headers.NAME}``, ``${in.header.NAME}``),
``${exchangeProperty.NAME}`` (also ``${exchange_property.NAME}``), ``${exchangeId}``,
``${id}`` (the message id), ``${routeId}``, ``${exception.message}``, ``${date:now:FORMAT}``
(strftime format), ``${body.KEY}`` and ``${header.NAME.KEY}`` for mapping bodies.

Predicates: ``LEFT OP RIGHT`` with ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``contains``,
``not contains``, ``startsWith``, ``endsWith``, ``regex``, ``in`` (comma list), joined by
``&&`` and ``||``; a side is a template or a literal ('quoted', a number, true, false, null).

A lazy file body (the file consumer's) renders and compares as its text, read as
``convert_body_to(str)`` reads it; ``${body}`` alone still returns the body itself.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

from eip.errors import ConfigurationError
from eip.expressions import text_of_file

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_OPERATORS = (
    "not contains",
    "contains",
    "startsWith",
    "endsWith",
    "regex",
    "not in",
    "in",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
)
_OP_PATTERN = re.compile(r"\s+(not contains|contains|startsWith|endsWith|regex|not in|in)\s+|\s*(==|!=|<=|>=|<|>)\s*")

Getter = Callable[[Any], Any]


def _lookup(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get(key)
        else:
            value = getattr(value, key, None)
    return value


def _compile_token(token: str, text: str) -> Getter:
    token = token.strip()
    if token == "body":
        return lambda ex: ex.message.body
    if token.startswith("body."):
        keys = token[5:].split(".")
        return lambda ex: _lookup(ex.message.body, keys)
    for prefix in ("in.header.", "in.headers.", "header.", "headers."):
        if token.startswith(prefix):
            name, *keys = token[len(prefix) :].split(".")
            if keys:
                return lambda ex: _lookup(ex.message.headers.get(name), keys)
            return lambda ex: ex.message.headers.get(name)
    for prefix in ("exchangeProperty.", "exchange_property."):
        if token.startswith(prefix):
            name = token[len(prefix) :]
            return lambda ex: ex.properties.get(name)
    if token in ("exchangeId", "exchange_id"):
        return lambda ex: ex.exchange_id
    if token in ("id", "messageId", "message_id"):
        return lambda ex: ex.message.message_id
    if token in ("routeId", "route_id"):
        return lambda ex: ex.from_route_id
    if token == "exception.message":
        return lambda ex: None if ex.exception is None else str(ex.exception)
    if token.startswith("date:now"):
        fmt = token[9:] if token.startswith("date:now:") else None
        if fmt:
            return lambda ex: _dt.datetime.now().strftime(fmt)
        return lambda ex: _dt.datetime.now()
    raise ConfigurationError(f"simple expression {text!r}: unknown token ${{{token}}}")


def compile_template(text: str, quoting: Callable[[str], Callable[[str], str] | None] | None = None) -> Getter:
    """Compile ``text`` into a function of an exchange.

    A text that is exactly one token returns the raw value (not a string); otherwise the
    tokens are rendered with ``str`` (None renders as an empty string) into the text.
    ``quoting(text_before_token)``, asked once per token when compiling, may give a function
    that each rendered value of that token goes through (to quote it, or to refuse it)."""
    parts: list[str | Getter] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        getter = _compile_token(match.group(1), text)
        quote = quoting(text[: match.start()]) if quoting is not None else None
        parts.append(getter if quote is None else _quoted(getter, quote))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    if not parts:
        return lambda ex: ""
    if len(parts) == 1 and callable(parts[0]):
        return parts[0]
    if all(isinstance(p, str) for p in parts):
        constant = "".join(p for p in parts if isinstance(p, str))
        return lambda ex: constant

    def render(ex: Any) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = text_of_file(part(ex))
                out.append("" if value is None else str(value))
        return "".join(out)

    return render


def _quoted(getter: Getter, quote: Callable[[str], str]) -> Getter:
    def render(ex: Any) -> str:
        value = text_of_file(getter(ex))
        return quote("" if value is None else str(value))

    return render


def _literal_or_template(side: str, text: str) -> Getter:
    side = side.strip()
    if "${" in side:
        return compile_template(side)
    if len(side) >= 2 and side[0] == side[-1] and side[0] in "'\"":
        value: Any = side[1:-1]
    elif side in ("true", "false"):
        value = side == "true"
    elif side == "null":
        value = None
    else:
        try:
            value = int(side)
        except ValueError:
            try:
                value = float(side)
            except ValueError:
                value = side
    return lambda ex: value


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, (int, float)) and isinstance(right, str):
        try:
            return left, type(left)(right)
        except ValueError:
            return str(left), right
    if isinstance(right, (int, float)) and isinstance(left, str):
        try:
            return type(right)(left), right
        except ValueError:
            return left, str(right)
    return left, right


def _compile_comparison(text: str, whole: str) -> Getter:
    match = _OP_PATTERN.search(text)
    if match is None:
        getter = _literal_or_template(text, whole)
        return lambda ex: bool(getter(ex))
    op = match.group(1) or match.group(2)
    left = _literal_or_template(text[: match.start()], whole)
    right_text = text[match.end() :]
    if op in ("in", "not in"):
        items = [item.strip().strip("'\"") for item in right_text.strip().strip("'\"").split(",")]
        negate = op == "not in"
        return lambda ex: (str(text_of_file(left(ex))) in items) != negate
    right = _literal_or_template(right_text, whole)

    def compare(ex: Any) -> bool:
        a, b = _coerce(text_of_file(left(ex)), text_of_file(right(ex)))
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if op in ("contains", "not contains"):
            found = a is not None and b in a
            return found if op == "contains" else not found
        if op == "startsWith":
            return a is not None and str(a).startswith(str(b))
        if op == "endsWith":
            return a is not None and str(a).endswith(str(b))
        if op == "regex":
            return a is not None and re.fullmatch(str(b), str(a)) is not None
        if a is None or b is None:
            return False
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)

    return compare


def compile_predicate(text: str) -> Getter:
    """Compile a simple predicate such as ``${header.type} == 'gold' && ${body} != null``."""
    alternatives = [part for part in re.split(r"\s*\|\|\s*", text)]
    compiled = [[_compile_comparison(term, text) for term in re.split(r"\s*&&\s*", alt)] for alt in alternatives]
    return lambda ex: any(all(term(ex) for term in terms) for terms in compiled)


def has_operator(text: str) -> bool:
    """True when ``text`` reads as a predicate rather than a template."""
    outside = _TOKEN.sub("", text)
    return "&&" in outside or "||" in outside or _OP_PATTERN.search(outside) is not None
