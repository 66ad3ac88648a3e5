"""Expressions and predicates: functions of an exchange that compose with operators.

``header("type") == "gold"`` is a predicate; ``(header("a") > 1) & ~body().contains("x")``
combines them. Any plain callable ``fn(exchange)`` works wherever an expression does.
Python's ``and``/``or``/``not`` cannot be overloaded, so using an expression as a bool raises.

A lazy :class:`~eip.file_body.FileBody` (the file consumer's body) is read where an operator
needs its content, through :func:`convert` as ``convert_body_to`` reads it: text for
comparisons, ``contains``, ``startswith``/``endswith``, ``regex``, ``is_in`` and ``jsonpath``,
bytes for ``xpath`` (so the document's own encoding declaration applies); ``tokenize`` streams it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from eip.errors import ExpressionError
from eip.file_body import FileBody

ExpressionLike = Callable[[Any], Any]


class Expression:
    """A function of an exchange with operators for composing predicates."""

    __slots__ = ("_fn", "text")

    def __init__(self, fn: ExpressionLike, text: str = "") -> None:
        self._fn = fn
        self.text = text or getattr(fn, "__name__", "expression")

    def __call__(self, exchange: Any) -> Any:
        return self._fn(exchange)

    def evaluate(self, exchange: Any) -> Any:
        return self._fn(exchange)

    def __repr__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        raise TypeError(
            f"expression {self.text} used as a Python bool: combine predicates with "
            "& | ~ instead of and/or/not, and pass them to when()/filter()"
        )

    __hash__ = object.__hash__

    # -- comparison -------------------------------------------------------------------------
    def _compare(self, other: Any, op: Callable[[Any, Any], bool], sym: str, none_is_false: bool = False) -> Expression:
        left = self._fn
        if isinstance(other, Expression) or (callable(other) and not isinstance(other, type)):
            right = to_expression(other)._fn

            def both(ex: Any) -> bool:
                a, b = text_of_file(left(ex)), text_of_file(right(ex))
                if none_is_false and (a is None or b is None):
                    return False
                return op(a, b)

            return Expression(both, f"({self.text} {sym} {_text(other)})")
        value = other
        text = f"({self.text} {sym} {value!r})"
        # Equality against a constant is the commonest predicate (choice on a header): keep it
        # to one closure call; a file body is read only when it is not already equal.
        if sym == "==":
            return Expression(lambda ex: (a := left(ex)) == value or _read_equals(a, value), text)
        if sym == "!=":
            return Expression(lambda ex: (a := left(ex)) != value and not _read_equals(a, value), text)
        if none_is_false:

            def one(ex: Any) -> bool:
                a = text_of_file(left(ex))
                return False if a is None else op(a, value)
        else:

            def one(ex: Any) -> bool:
                return op(text_of_file(left(ex)), value)

        return Expression(one, text)

    def __eq__(self, other: object) -> Expression:  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b, "==")

    def __ne__(self, other: object) -> Expression:  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b, "!=")

    def __lt__(self, other: Any) -> Expression:
        return self._compare(other, lambda a, b: a < b, "<", none_is_false=True)

    def __le__(self, other: Any) -> Expression:
        return self._compare(other, lambda a, b: a <= b, "<=", none_is_false=True)

    def __gt__(self, other: Any) -> Expression:
        return self._compare(other, lambda a, b: a > b, ">", none_is_false=True)

    def __ge__(self, other: Any) -> Expression:
        return self._compare(other, lambda a, b: a >= b, ">=", none_is_false=True)

    # -- boolean composition ----------------------------------------------------------------
    def __and__(self, other: Any) -> Expression:
        left, right = self._fn, to_predicate(other)._fn
        return Expression(lambda ex: bool(left(ex)) and bool(right(ex)), f"({self.text} & {_text(other)})")

    def __or__(self, other: Any) -> Expression:
        left, right = self._fn, to_predicate(other)._fn
        return Expression(lambda ex: bool(left(ex)) or bool(right(ex)), f"({self.text} | {_text(other)})")

    def __invert__(self) -> Expression:
        fn = self._fn
        return Expression(lambda ex: not fn(ex), f"~{self.text}")

    # -- methods ------------------------------------------------------------------------------
    def contains(self, item: Any) -> Expression:
        return self._compare(item, lambda a, b: b in a, "contains", none_is_false=True)

    def startswith(self, prefix: Any) -> Expression:
        return self._compare(prefix, lambda a, b: str(a).startswith(str(b)), "startswith", none_is_false=True)

    def endswith(self, suffix: Any) -> Expression:
        return self._compare(suffix, lambda a, b: str(a).endswith(str(b)), "endswith", none_is_false=True)

    def regex(self, pattern: str) -> Expression:
        compiled = re.compile(pattern)
        fn = self._fn

        def matches(ex: Any) -> bool:
            value = text_of_file(fn(ex))
            return value is not None and compiled.search(str(value)) is not None

        return Expression(matches, f"{self.text}.regex({pattern!r})")

    def is_in(self, *values: Any) -> Expression:
        if len(values) == 1 and isinstance(values[0], (list, tuple, set, frozenset)):
            values = tuple(values[0])
        choices = frozenset(values) if all(_hashable(v) for v in values) else list(values)
        fn = self._fn

        def member(ex: Any) -> bool:
            value = text_of_file(fn(ex))
            try:
                return value in choices
            except TypeError:  # unhashable value against a frozenset
                return value in list(choices)

        return Expression(member, f"{self.text}.is_in{values!r}")

    def is_none(self) -> Expression:
        fn = self._fn
        return Expression(lambda ex: fn(ex) is None, f"{self.text}.is_none()")

    def tokenize(self, separator: str = ",", group: int = 1) -> Expression:
        """Split a text (or a file-like/lines iterable) by ``separator``, lazily.

        ``group`` > 1 yields the parts joined in groups of that many (as Camel's ``tokenize``)."""
        fn = self._fn

        def split(ex: Any) -> Iterable[Any]:
            parts = _tokens(fn(ex), separator)
            return parts if group <= 1 else _grouped(parts, separator, group)

        return Expression(split, f"{self.text}.tokenize({separator!r})")

    def convert_to(self, type_: type) -> Expression:
        fn = self._fn
        return Expression(lambda ex: convert(fn(ex), type_), f"{self.text}.convert_to({type_.__name__})")

    def __getitem__(self, key: Any) -> Expression:
        fn = self._fn

        def item(ex: Any) -> Any:
            value = fn(ex)
            if value is None:
                return None
            try:
                return value[key]
            except (KeyError, IndexError):
                return None

        return Expression(item, f"{self.text}[{key!r}]")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _text(value: Any) -> str:
    return value.text if isinstance(value, Expression) else getattr(value, "__name__", repr(value))


def text_of_file(value: Any) -> Any:
    """A file body read as text (as ``convert_body_to(str)`` reads it); any other value as it is."""
    return convert(value, str) if isinstance(value, FileBody) else value


def _read_equals(value: Any, other: Any) -> bool:
    """``value == other`` for a file body against a str or bytes constant, reading the file."""
    return isinstance(value, FileBody) and isinstance(other, (str, bytes)) and convert(value, type(other)) == other


def _tokens(value: Any, separator: str) -> Iterator[Any]:
    if value is None:
        return iter(())
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        if separator == "\n":
            return (line.rstrip("\r") for line in value.split("\n") if line.rstrip("\r") or False)
        return iter(value.split(separator))
    if hasattr(value, "iter_tokens"):  # lazy file bodies stream their tokens
        return iter(value.iter_tokens(separator))
    if separator == "\n" and hasattr(value, "__iter__"):  # an open text file: line by line
        return (line.rstrip("\r\n") for line in value)
    raise ExpressionError(f"tokenize({separator!r}) needs a text body, got {type(value).__name__}")


def _grouped(parts: Iterator[Any], separator: str, group: int) -> Iterator[str]:
    batch: list[str] = []
    for part in parts:
        batch.append(part)
        if len(batch) == group:
            yield separator.join(batch)
            batch = []
    if batch:
        yield separator.join(batch)


def convert(value: Any, type_: type, charset: str = "utf-8") -> Any:
    """Convert ``value`` to ``type_`` the way convert_body_to does; raises TypeError/ValueError."""
    if value is None or isinstance(value, type_):
        return value
    if type_ is str:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).decode(charset)
        if hasattr(value, "read_text"):
            return value.read_text()
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)
    if type_ is bytes:
        if isinstance(value, str):
            return value.encode(charset)
        if hasattr(value, "read_bytes"):
            return value.read_bytes()
        if isinstance(value, (dict, list)):
            return json.dumps(value).encode(charset)
        return bytes(value)
    if type_ in (int, float):
        if isinstance(value, bytes):
            value = value.decode(charset)
        return type_(value)
    if type_ in (dict, list) and isinstance(value, (str, bytes)):
        parsed = json.loads(value)
        if not isinstance(parsed, type_):
            raise TypeError(f"JSON text holds a {type(parsed).__name__}, not a {type_.__name__}")
        return parsed
    return type_(value)


# -- builders ---------------------------------------------------------------------------------


def header(name: str) -> Expression:
    """The value of header ``name`` (case-insensitive), or None."""
    key = name.lower()

    def value(ex: Any) -> Any:
        item = ex.message.headers._store.get(key)
        return None if item is None else item[1]

    return Expression(value, f"header({name!r})")


def body() -> Expression:
    """The message body."""
    return Expression(lambda ex: ex.message.body, "body()")


def constant(value: Any) -> Expression:
    """Always ``value``."""
    return Expression(lambda ex: value, f"constant({value!r})")


def exchange_property(name: str) -> Expression:
    """The value of exchange property ``name``, or None."""
    return Expression(lambda ex: ex.properties.get(name), f"exchange_property({name!r})")


def simple(text: str) -> Expression:
    """A Camel Simple expression: a ``${...}`` template, or a predicate when it has an operator."""
    from eip import simple_language as _simple

    fn = _simple.compile_predicate(text) if _simple.has_operator(text) else _simple.compile_template(text)
    return Expression(fn, f"simple({text!r})")


def xpath(expr: str, namespaces: Mapping[str, str] | None = None, result_type: type | None = None) -> Expression:
    """XPath over an XML body (str, bytes or an lxml element), parsed with the safe parser.

    Returns None for no match, the item itself for one match (strings as ``str``), else a list.
    With ``result_type=str`` returns the string value of the first match."""
    from lxml import etree

    from eip.safe_xml import parse_xml

    try:
        compiled = etree.XPath(expr, namespaces=dict(namespaces or {}))
    except etree.XPathSyntaxError as exc:
        from eip.errors import ConfigurationError

        raise ConfigurationError(f"invalid xpath {expr!r}: {exc}") from exc

    def evaluate(ex: Any) -> Any:
        value = ex.message.body
        if isinstance(value, (str, bytes, FileBody)):
            # One parse per body: a choice's whens share it (a file body is read once).
            cached = ex.properties.get("_eip.xml")
            if cached is not None and cached[0] is value:
                root = cached[1]
            else:
                try:
                    root = parse_xml(convert(value, bytes) if isinstance(value, FileBody) else value)
                except etree.XMLSyntaxError as exc:
                    raise ExpressionError(f"xpath {expr!r}: body is not well-formed XML: {exc}") from exc
                ex.properties["_eip.xml"] = (value, root)
        elif isinstance(value, etree._Element):
            root = value
        elif isinstance(value, etree._ElementTree):
            root = value.getroot()
        else:
            raise ExpressionError(
                f"xpath {expr!r} needs an XML body (str, bytes, a file or an lxml element), got {type(value).__name__}"
            )
        result = compiled(root)
        if isinstance(result, list):
            items = [str(r) if isinstance(r, str) else r for r in result]
            if result_type is str:
                if not items:
                    return None
                first = items[0]
                return first if isinstance(first, str) else "".join(first.itertext())
            if not items:
                return None
            return items[0] if len(items) == 1 else items
        if isinstance(result, str):
            return str(result)
        return result

    return Expression(evaluate, f"xpath({expr!r})")


def jsonpath(expr: str) -> Expression:
    """JSONPath (jsonpath-ng, extended syntax) over a dict/list body or JSON text.

    Returns None for no match, the value for one match, else a list of values."""
    from jsonpath_ng.exceptions import JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        compiled = parse(expr)
    except (JsonPathParserError, Exception) as exc:
        from eip.errors import ConfigurationError

        raise ConfigurationError(f"invalid jsonpath {expr!r}: {exc}") from exc

    def evaluate(ex: Any) -> Any:
        value = text_of_file(ex.message.body)
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ExpressionError(f"jsonpath {expr!r}: body is not JSON: {exc}") from exc
        if not isinstance(value, (dict, list)):
            raise ExpressionError(
                f"jsonpath {expr!r} needs a dict, list or JSON text (or file) body, got {type(value).__name__}"
            )
        matches = [m.value for m in compiled.find(value)]
        if not matches:
            return None
        return matches[0] if len(matches) == 1 else matches

    return Expression(evaluate, f"jsonpath({expr!r})")


def unwrap(expression: Any) -> Callable[[Any], Any]:
    """The plain function behind an expression, for processors to call without indirection."""
    return expression._fn if isinstance(expression, Expression) else expression


def to_expression(value: Any) -> Expression:
    """A plain value is a constant; a callable is an expression; a ``${...}`` str stays a str."""
    if isinstance(value, Expression):
        return value
    if callable(value) and not isinstance(value, type):
        return Expression(value, getattr(value, "__name__", "callable"))
    return constant(value)


def to_predicate(value: Any) -> Expression:
    """Like :func:`to_expression`, for use as a condition (truthiness of the result)."""
    return to_expression(value)
