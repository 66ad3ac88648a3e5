"""Message translator: set_body/transform, set_header, set_property, remove_header(s),
convert_body_to, process and bean."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from eip.errors import TypeConversionError
from eip.expressions import convert, unwrap

if TYPE_CHECKING:
    from eip import model as m
    from eip.compiler import CompileContext
    from eip.exchange import Exchange


class SetBody:
    __slots__ = ("expression",)

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def process(self, exchange: Exchange) -> None:
        exchange.message.body = self.expression(exchange)


class SetHeader:
    __slots__ = ("expression", "name")

    def __init__(self, name: str, expression: Any) -> None:
        self.name = name
        self.expression = expression

    def process(self, exchange: Exchange) -> None:
        exchange.message.headers[self.name] = self.expression(exchange)


class SetProperty:
    __slots__ = ("expression", "name")

    def __init__(self, name: str, expression: Any) -> None:
        self.name = name
        self.expression = expression

    def process(self, exchange: Exchange) -> None:
        exchange.properties[self.name] = self.expression(exchange)


class RemoveHeader:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def process(self, exchange: Exchange) -> None:
        exchange.message.headers.pop(self.name, None)


class RemoveHeaders:
    def __init__(self, pattern: str, exclude: tuple[str, ...]) -> None:
        self.pattern = pattern.lower()
        self.exclude = {e.lower() for e in exclude}

    def process(self, exchange: Exchange) -> None:
        headers = exchange.message.headers
        for name in list(headers):
            lowered = name.lower()
            if lowered not in self.exclude and fnmatch.fnmatchcase(lowered, self.pattern):
                del headers[name]


class ConvertBodyTo:
    def __init__(self, type_: type, charset: str) -> None:
        self.type = type_
        self.charset = charset

    def process(self, exchange: Exchange) -> None:
        value = exchange.message.body
        try:
            exchange.message.body = convert(value, self.type, self.charset)
        except (TypeError, ValueError, UnicodeError) as exc:
            raise TypeConversionError(
                f"cannot convert body of type {type(value).__name__} to {self.type.__name__}: {exc}"
            ) from exc


class CallableProcessor:
    """Adapts a plain function ``fn(exchange)`` to the processor protocol."""

    __slots__ = ("process",)

    def __init__(self, fn: Any) -> None:
        self.process = fn


class BeanProcessor:
    """Calls a bean method with the body; a non-None result replaces the body."""

    def __init__(self, method: Any) -> None:
        self.method = method

    def process(self, exchange: Exchange) -> None:
        result = self.method(exchange.message.body)
        if result is not None:
            exchange.message.body = result


def compile_set_body(node: m.SetBody | m.Transform, ctx: CompileContext) -> SetBody:
    return SetBody(unwrap(node.expression))


def compile_set_header(node: m.SetHeader, ctx: CompileContext) -> SetHeader:
    return SetHeader(node.name, unwrap(node.expression))


def compile_set_property(node: m.SetProperty, ctx: CompileContext) -> SetProperty:
    return SetProperty(node.name, unwrap(node.expression))


def compile_remove_header(node: m.RemoveHeader, ctx: CompileContext) -> RemoveHeader:
    return RemoveHeader(node.name)


def compile_remove_headers(node: m.RemoveHeaders, ctx: CompileContext) -> RemoveHeaders:
    return RemoveHeaders(node.pattern, node.exclude)


def compile_convert_body_to(node: m.ConvertBodyTo, ctx: CompileContext) -> ConvertBodyTo:
    return ConvertBodyTo(node.type, node.charset)


def compile_process(node: m.Process, ctx: CompileContext) -> Any:
    processor = node.processor
    if hasattr(processor, "process") and callable(processor.process):
        return processor
    return CallableProcessor(processor)


def compile_bean(node: m.Bean, ctx: CompileContext) -> Any:
    bean = node.bean
    if node.method is not None:
        return BeanProcessor(getattr(bean, node.method))
    if callable(bean) and not isinstance(bean, type):
        return BeanProcessor(bean)
    for name in ("handle", "__call__"):
        if callable(getattr(bean, name, None)):
            return BeanProcessor(getattr(bean, name))
    raise ctx.error(f"bean() needs a method name for {type(bean).__name__}")
