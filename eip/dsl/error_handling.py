"""Error-handling verbs: error_handler, do_try/do_catch/do_finally, circuit_breaker, on_exception clauses."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self

from eip import model as m
from eip.dsl.blocks import BlockTracker
from eip.dsl.recording import _expr, _location
from eip.errors import ConfigurationError
from eip.expressions import Expression, to_expression
from eip.model.error_handling import POLICY_FIELDS, redelivery_policy
from eip.options import first_unknown


class ErrorHandlingVerbs(BlockTracker):
    """Verbs that say what happens when a step fails."""

    def error_handler(self, handler: Any) -> Self:
        """Use ``handler`` (``dead_letter_channel(...)``, ``default_error_handler(...)``) for this route."""
        self._error_handler = handler
        return self

    def do_try(self) -> Self:
        self._open("do_try_shell", None)
        shell = self._top
        shell.node_id = self._next_id("do_try")
        return self._push_section("try_body", shell.location, {}, shell.node_id)

    def do_catch(self, *exceptions: type[BaseException], on_when: Any = None) -> Self:
        self._check_open()
        location = _location()
        exceptions = exceptions or (Exception,)
        for exc in exceptions:
            if not (isinstance(exc, type) and issubclass(exc, BaseException)):
                raise self._error(f"do_catch() takes exception classes, got {exc!r}", location=location)
        top = self._top
        if top.kind == "do_finally":
            raise self._error("do_catch() after do_finally(): do_finally() must come last", top.node_id, location)
        if top.kind not in ("try_body", "do_catch"):
            raise self._misplaced("do_catch()", "do_try()", top, location)
        self._close_section()
        return self._push_section(
            "do_catch",
            location,
            {"exceptions": tuple(exceptions), "on_when": None if on_when is None else _expr(on_when)},
        )

    def do_finally(self) -> Self:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "do_finally":
            raise self._error("a do_try() has only one do_finally()", top.node_id, location)
        if top.kind not in ("try_body", "do_catch"):
            raise self._misplaced("do_finally()", "do_try()", top, location)
        self._close_section()
        return self._push_section("do_finally", location, {})

    def circuit_breaker(self, **options: Any) -> Self:
        for key in ("record_exceptions", "ignore_exceptions"):
            if key in options:
                options[key] = tuple(options[key])
        names = {f.name for f in fields(m.CircuitBreaker) if f.init} - {"steps", "fallback", "node_id", "location"}
        problem = first_unknown("circuit_breaker", options, names)
        if problem:
            raise self._error(problem)
        self._open("circuit_breaker_shell", None, **options)
        shell = self._top
        shell.node_id = self._next_id("circuit_breaker")
        return self._push_section("breaker_body", shell.location, {}, shell.node_id)

    def on_fallback(self) -> Self:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind != "breaker_body":
            raise self._misplaced("on_fallback()", "circuit_breaker()", top, location)
        self._close_section()
        return self._push_section("on_fallback", location, {})

    def on_exception(self, *exceptions: type[BaseException], **options: Any) -> Self:
        """Route-scoped exception clause; its steps run when it matches; close it with ``end()``."""
        if len(self._stack) != 1 or self._stack[0].kind != "route":
            raise self._error(
                "on_exception() inside a block: declare it at the top of the route, "
                "or on the builder before from_() for every route"
            )
        return self._open("on_exception", None, **_on_exception_attrs(self, exceptions, options))

    def handled(self, flag: Any = True) -> Self:
        """Camel's ``onException(...).handled(true)``: inside an ``on_exception`` clause, the same as
        its ``handled=`` option (``True``, ``False`` or a predicate)."""
        return self._clause_flag("handled", flag)

    def continued(self, flag: Any = True) -> Self:
        """Camel's ``onException(...).continued(true)``: inside an ``on_exception`` clause, the same as
        its ``continued=`` option (``True``, ``False`` or a predicate)."""
        return self._clause_flag("continued", flag)

    def _clause_flag(self, key: str, flag: Any) -> Self:
        self._check_open()
        frame = next((f for f in self._stack if f.kind in ("on_exception", "on_exception_root")), None)
        if frame is None:
            raise self._error(f"{key}() outside on_exception(): it says whether that clause handles the exception")
        options = {k: v for k, v in frame.attrs.items() if k in ("handled", "continued")}
        options[key] = flag
        frame.attrs.update(_clause_flags(self, options, f"{key}()", frame.node_id))
        return self


def _on_exception_attrs(dsl: Any, exceptions: tuple[Any, ...], options: dict[str, Any]) -> dict[str, Any]:
    if not exceptions:
        raise dsl._error("on_exception() needs at least one exception class")
    for exc in exceptions:
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise dsl._error(f"on_exception() takes exception classes, got {exc!r}")
    policy_args = {k: options.pop(k) for k in POLICY_FIELDS if k in options}
    allowed = {"handled", "continued", "use_original_message", "on_when", "retry_while"}
    problem = first_unknown("on_exception", options, allowed | set(POLICY_FIELDS))
    if problem:
        raise dsl._error(problem)
    options.update(
        _clause_flags(dsl, {k: options[k] for k in ("handled", "continued") if k in options}, "on_exception()")
    )
    for key in ("on_when", "retry_while"):
        if key in options and (isinstance(options[key], Expression) or callable(options[key])):
            options[key] = to_expression(options[key])
    attrs: dict[str, Any] = {"exceptions": tuple(exceptions), **options}
    if policy_args:
        try:
            attrs["policy"] = redelivery_policy(policy_args, "on_exception")
        except ConfigurationError as exc:
            raise dsl._error(exc.detail) from None
    return attrs


def _clause_flags(dsl: Any, flags: dict[str, Any], verb: str, node_id: str | None = None) -> dict[str, Any]:
    """``handled``/``continued`` of an ``on_exception`` clause, checked: each ``True``, ``False`` or
    a predicate (made an expression), and not both set."""
    checked: dict[str, Any] = {}
    for key, value in flags.items():
        if isinstance(value, Expression) or callable(value):
            value = to_expression(value)
        elif not isinstance(value, bool):
            shown = verb if verb.startswith(key) else f"{verb} {key}="
            raise dsl._error(f"{shown} takes True, False or a predicate, got {value!r}", node_id)
        checked[key] = value
    if checked.get("handled", False) is not False and checked.get("continued", False) is not False:
        raise dsl._error("on_exception() cannot be both handled and continued", node_id)
    return checked
