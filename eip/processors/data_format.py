"""``marshal(fmt)`` and ``unmarshal(fmt)``: the body through a data format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from eip.dataformat import resolve_data_format
from eip.errors import TypeConversionError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Marshal, Unmarshal


class MarshalProcessor:
    def __init__(self, data_format: Any, name: str) -> None:
        self.data_format = data_format
        self.name = name

    def process(self, exchange: Exchange) -> None:
        try:
            exchange.message.body = self.data_format.marshal(exchange, exchange.message.body)
        except (TypeError, ValueError) as exc:
            raise TypeConversionError(f"marshal({self.name}) failed: {exc}") from exc


class UnmarshalProcessor:
    def __init__(self, data_format: Any, name: str) -> None:
        self.data_format = data_format
        self.name = name

    def process(self, exchange: Exchange) -> None:
        try:
            exchange.message.body = self.data_format.unmarshal(exchange, exchange.message.body)
        except (TypeError, ValueError, etree.XMLSyntaxError) as exc:
            raise TypeConversionError(f"unmarshal({self.name}) failed: {exc}") from exc


def _name(value: Any) -> str:
    return value if isinstance(value, str) else type(value).__name__


def compile_marshal(node: Marshal, ctx: CompileContext) -> MarshalProcessor:
    return MarshalProcessor(resolve_data_format(node.data_format), _name(node.data_format))


def compile_unmarshal(node: Unmarshal, ctx: CompileContext) -> UnmarshalProcessor:
    return UnmarshalProcessor(resolve_data_format(node.data_format), _name(node.data_format))
