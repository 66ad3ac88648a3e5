"""Message translator verbs: processors, beans, body and headers, data formats, log, validate, claim check."""

from __future__ import annotations

from typing import Any, Self

from eip import model as m
from eip.dsl.blocks import BlockTracker
from eip.dsl.recording import _expr


class TranslatorVerbs(BlockTracker):
    """Verbs that change the message (or stop, fail, log it) in place."""

    def process(self, processor: Any) -> Self:
        if not (callable(processor) or hasattr(processor, "process")):
            raise self._error(
                f"process() needs a callable or an object with process(exchange), got {type(processor).__name__}"
            )
        return self._add(m.Process, processor=processor)

    def bean(self, bean: Any, method: str | None = None) -> Self:
        if method is not None and not callable(getattr(bean, method, None)):
            raise self._error(f"bean() has no method {method!r} on {type(bean).__name__}")
        return self._add(m.Bean, bean=bean, method=method)

    def set_body(self, value: Any) -> Self:
        return self._add(m.SetBody, expression=_expr(value))

    def transform(self, value: Any) -> Self:
        return self._add(m.Transform, expression=_expr(value))

    def set_header(self, name: str, value: Any) -> Self:
        return self._add(m.SetHeader, name=name, expression=_expr(value))

    def set_property(self, name: str, value: Any) -> Self:
        return self._add(m.SetProperty, name=name, expression=_expr(value))

    def remove_header(self, name: str) -> Self:
        return self._add(m.RemoveHeader, name=name)

    def remove_headers(self, pattern: str, *exclude: str) -> Self:
        return self._add(m.RemoveHeaders, pattern=pattern, exclude=tuple(exclude))

    def convert_body_to(self, type_: type, charset: str = "utf-8") -> Self:
        return self._add(m.ConvertBodyTo, type=type_, charset=charset)

    def marshal(self, data_format: Any) -> Self:
        return self._add(m.Marshal, data_format=data_format)

    def unmarshal(self, data_format: Any) -> Self:
        return self._add(m.Unmarshal, data_format=data_format)

    def log(self, message: str, level: str = "INFO", logger_name: str | None = None) -> Self:
        return self._add(m.Log, message=message, level=level.upper(), logger_name=logger_name)

    def stop(self) -> Self:
        return self._add(m.Stop)

    def validate(self, predicate: Any, message: Any = None) -> Self:
        """Fail with ValidationError unless ``predicate`` holds; ``message`` (a ``${...}`` template
        or an expression) becomes the error's text."""
        return self._add(m.Validate, predicate=_expr(predicate), message=message)

    def rollback(self, message: str = "rollback") -> Self:
        return self._add(m.Rollback, message=message)

    def claim_check(self, operation: str, key: Any = None, repository: Any = None) -> Self:
        return self._add(m.ClaimCheck, operation=operation, key=key, repository=repository)
