"""The Python DSL: ``RouteBuilder.configure()`` records immutable route definitions.

Block scoping is explicit and checked while the route is built:

* ``end()`` closes the innermost open block (split, filter, choice, do_try, ...). Inside a
  ``when``/``otherwise`` branch with no block open in it, ``end()`` closes the whole choice.
* ``when``/``otherwise`` attach to the choice they are directly in, and ``do_catch``/
  ``do_finally`` to their ``do_try``, however many blocks were opened and closed inside the
  branch before (Camel's ``endChoice()``/``endDoTry()`` are not needed).
* Anything ambiguous is an error naming the route, the node and the source line: a ``when``
  while a split opened in the branch is still open, a ``when`` after ``otherwise``, an
  ``end()`` with nothing open, a block left open at the end of the route.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields, replace
from typing import Any

from eip import model as m
from eip.errors import RouteDefinitionError
from eip.exchange import ExchangePattern
from eip.expressions import Expression, to_expression
from eip.options import first_unknown

_SECTION_KINDS = {"when", "otherwise", "do_catch", "do_finally", "on_fallback", "try_body", "breaker_body"}


_EIP_DIR = __file__.rsplit("/", 1)[0] + "/"


def _location() -> str:
    """``file:line`` of the user code that called the DSL (the first frame outside ``eip/``)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_EIP_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _expr(value: Any) -> Any:
    return to_expression(value)


def _make(cls: type[m.Node], route_id: str | None, node_id: str | None, location: str, **kwargs: Any) -> Any:
    """Build a definition node; a misspelt keyword gets an error with the closest option."""
    names = {f.name for f in fields(cls) if f.init}
    problem = first_unknown(cls.kind_name(), kwargs, names - {"node_id", "location"})
    if problem:
        raise RouteDefinitionError(problem, route_id=route_id, node_id=node_id, location=location)
    missing = [
        f.name
        for f in fields(cls)
        if f.init and f.default is MISSING and f.default_factory is MISSING and f.name not in kwargs
    ]
    if missing:
        raise RouteDefinitionError(
            f"{cls.kind_name()}() needs {', '.join(missing)}", route_id=route_id, node_id=node_id, location=location
        )
    return cls(node_id=node_id, location=location, **kwargs)


class _Frame:
    """An open block while the DSL records it."""

    __slots__ = ("attrs", "kind", "location", "node_id", "parent_kind", "sections", "steps")

    def __init__(self, kind: str, node_id: str | None, location: str, attrs: dict[str, Any]) -> None:
        self.kind = kind
        self.node_id = node_id
        self.location = location
        self.attrs = attrs
        self.steps: list[m.Node] = []
        self.sections: list[m.Node] = []  # closed when/otherwise, do_catch/do_finally, fallback


# Block verbs: DSL name -> (definition class, its kind name)
_BLOCKS: dict[str, type] = {
    "filter": m.Filter,
    "split": m.Split,
    "aggregate": m.Aggregate,
    "multicast": m.Multicast,
    "idempotent_consumer": m.IdempotentConsumer,
    "loop": m.Loop,
    "resequence": m.Resequence,
    "load_balance": m.LoadBalance,
    "pipeline": m.Pipeline,
}


class RouteDsl:
    """Fluent recorder for one route (or one builder-level ``on_exception`` clause)."""

    def __init__(
        self,
        builder: RouteBuilder,
        root_kind: str,
        location: str,
        input_uri: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self._builder = builder
        self._counters: dict[str, itertools.count[int]] = {}
        self._stack: list[_Frame] = [_Frame(root_kind, None, location, attrs or {})]
        self._last: tuple[str, Any] | None = None
        self._route_id: str | None = None
        self._route_options: dict[str, Any] = {}
        self._on_exceptions: list[m.OnException] = []
        self._on_completions: list[m.OnCompletion] = []
        self._error_handler: Any = None
        self._input = (
            None if input_uri is None else m.From(uri=input_uri, node_id=self._next_id("from"), location=location)
        )
        self._closed = False

    # -- bookkeeping ------------------------------------------------------------------------
    def _next_id(self, kind: str) -> str:
        counter = self._counters.setdefault(kind, itertools.count(1))
        return f"{kind}{next(counter)}"

    def _error(self, message: str, node_id: str | None = None, location: str | None = None) -> RouteDefinitionError:
        route = self._route_id or (f"from {self._input.uri}" if self._input else "on_exception")
        return RouteDefinitionError(message, route_id=route, node_id=node_id, location=location or _location())

    def _check_open(self) -> None:
        if self._closed:
            raise self._error("this route is already complete; start a new one with from_()")

    @property
    def _top(self) -> _Frame:
        return self._stack[-1]

    def _add(self, cls: type[m.Node], **kwargs: Any) -> RouteDsl:
        self._check_open()
        top = self._top
        if top.kind in ("choice", "do_try_shell", "circuit_breaker_shell"):
            raise self._error(
                f"{cls.kind_name()}() directly inside {top.kind.split('_shell')[0]}(): "
                f"open a branch first ({_branch_hint(top.kind)})",
                top.node_id,
            )
        location = _location()
        node = _make(cls, self._route_id, self._next_id(cls.kind_name()), location, **kwargs)
        top.steps.append(node)
        self._last = ("step", top)
        return self

    def _open(self, kind: str, cls: type | None, **attrs: Any) -> RouteDsl:
        self._check_open()
        top = self._top
        if top.kind in ("choice", "do_try_shell", "circuit_breaker_shell"):
            raise self._error(
                f"{kind}() directly inside {top.kind.split('_shell')[0]}(): open a "
                f"branch first ({_branch_hint(top.kind)})",
                top.node_id,
            )
        location = _location()
        node_id = self._next_id(kind)
        if cls is not None:  # check option names now, where the mistake is
            known = {f.name for f in fields(cls) if f.init} - {"node_id", "location", "steps"}
            problem = first_unknown(kind, attrs, known)
            if problem:
                raise self._error(problem, node_id, location)
        frame = _Frame(kind, node_id, location, attrs)
        self._stack.append(frame)
        self._last = ("frame", frame)
        return self

    def _push_section(self, kind: str, location: str, attrs: dict[str, Any], node_id: str | None = None) -> RouteDsl:
        """Open a branch (when, otherwise, do_catch, ...) or the body of a shell block."""
        frame = _Frame(kind, node_id or self._next_id(kind), location, attrs)
        self._stack.append(frame)
        self._last = ("frame", frame)
        return self

    def _close_top(self) -> m.Node:
        """Pop the innermost frame and turn it into its definition node."""
        frame = self._stack.pop()
        steps = tuple(frame.steps)
        kind = frame.kind
        if kind == "when":
            return _make(m.When, self._route_id, frame.node_id, frame.location, steps=steps, **frame.attrs)
        if kind == "otherwise":
            return _make(m.Otherwise, self._route_id, frame.node_id, frame.location, steps=steps)
        if kind == "choice":
            whens = tuple(s for s in frame.sections if isinstance(s, m.When))
            otherwise = next((s for s in frame.sections if isinstance(s, m.Otherwise)), None)
            if not whens:
                raise self._error("choice() has no when()", frame.node_id, frame.location)
            return _make(m.Choice, self._route_id, frame.node_id, frame.location, whens=whens, otherwise=otherwise)
        if kind == "try_body":
            return _make(m.Pipeline, self._route_id, frame.node_id, frame.location, steps=steps)
        if kind == "do_catch":
            return _make(m.DoCatch, self._route_id, frame.node_id, frame.location, steps=steps, **frame.attrs)
        if kind == "do_finally":
            return _make(m.DoFinally, self._route_id, frame.node_id, frame.location, steps=steps)
        if kind == "do_try_shell":
            body = next(s for s in frame.sections if isinstance(s, m.Pipeline))
            catches = tuple(s for s in frame.sections if isinstance(s, m.DoCatch))
            finally_ = next((s for s in frame.sections if isinstance(s, m.DoFinally)), None)
            if not catches and finally_ is None:
                raise self._error("do_try() needs a do_catch() or do_finally()", frame.node_id, frame.location)
            return _make(
                m.DoTry,
                self._route_id,
                frame.node_id,
                frame.location,
                steps=body.steps,
                catches=catches,
                finally_=finally_,
            )
        if kind == "breaker_body":
            return _make(m.Pipeline, self._route_id, frame.node_id, frame.location, steps=steps)
        if kind == "on_fallback":
            return _make(m.OnFallback, self._route_id, frame.node_id, frame.location, steps=steps)
        if kind == "circuit_breaker_shell":
            body = next(s for s in frame.sections if isinstance(s, m.Pipeline))
            fallback = next((s for s in frame.sections if isinstance(s, m.OnFallback)), None)
            return _make(
                m.CircuitBreaker,
                self._route_id,
                frame.node_id,
                frame.location,
                steps=body.steps,
                fallback=fallback,
                **frame.attrs,
            )
        if kind == "on_exception":
            return _make(m.OnException, self._route_id, frame.node_id, frame.location, steps=steps, **frame.attrs)
        if kind == "on_completion":
            return _make(m.OnCompletion, self._route_id, frame.node_id, frame.location, steps=steps, **frame.attrs)
        cls = _BLOCKS[kind]
        return _make(cls, self._route_id, frame.node_id, frame.location, steps=steps, **frame.attrs)

    def _close_section(self) -> None:
        """Close the innermost branch (when/otherwise/do_catch/...) into its parent shell."""
        node = self._close_top()
        self._top.sections.append(node)

    def _attach(self, node: m.Node, frame_kind: str) -> None:
        """Put a closed block where it belongs: route-level clauses aside, others as a step."""
        if frame_kind == "on_exception" and len(self._stack) == 1 and self._stack[0].kind == "route":
            self._on_exceptions.append(node)  # type: ignore[arg-type]
        elif frame_kind == "on_completion":
            self._on_completions.append(node)  # type: ignore[arg-type]
        else:
            self._top.steps.append(node)
        self._last = ("step", self._top)

    # -- route options ------------------------------------------------------------------------
    def route_id(self, route_id: str) -> RouteDsl:
        if not isinstance(route_id, str) or not route_id:
            raise self._error("route_id() needs a non-empty string")
        self._route_id = route_id
        return self

    def description(self, text: str) -> RouteDsl:
        self._route_options["description"] = text
        return self

    def auto_startup(self, flag: bool = True) -> RouteDsl:
        self._route_options["auto_startup"] = bool(flag)
        return self

    def startup_order(self, order: int) -> RouteDsl:
        self._route_options["startup_order"] = int(order)
        return self

    def error_handler(self, handler: Any) -> RouteDsl:
        """Use ``handler`` (``dead_letter_channel(...)``, ``default_error_handler(...)``) for this route."""
        self._error_handler = handler
        return self

    def id(self, node_id: str) -> RouteDsl:
        """Name the node just added (or the block just opened, or the branch just started)."""
        if self._last is None:
            raise self._error("id() must follow a step; use route_id() to name the route")
        what, frame = self._last
        if what == "frame":
            frame.node_id = node_id
            if frame.kind in ("try_body", "breaker_body") and len(self._stack) >= 2:
                self._stack[-2].node_id = node_id
        else:
            frame.steps[-1] = replace(frame.steps[-1], node_id=node_id)
        return self

    # -- endpoints ------------------------------------------------------------------------------
    def to(self, *uris: str, pattern: ExchangePattern | str | None = None) -> RouteDsl:
        """Send to one or more endpoints in turn (a pipeline of sends)."""
        if not uris:
            raise self._error("to() needs an endpoint URI")
        for uri in uris:
            self._add(m.To, uri=uri, pattern=_pattern(pattern))
        return self

    def to_d(self, uri: Any, pattern: ExchangePattern | str | None = None, cache_size: int | None = None) -> RouteDsl:
        """Send to a URI computed per exchange: a ``${...}`` template or an expression (see
        ``eip.producer_cache``); ``cache_size`` producers are kept (default 1000, -1 none)."""
        return self._add(m.ToD, uri=uri, pattern=_pattern(pattern), cache_size=cache_size)

    def wire_tap(self, uri: Any, copy: bool = True) -> RouteDsl:
        return self._add(m.WireTap, uri=uri, copy=copy)

    def enrich(self, uri: Any, strategy: Any = None, **options: Any) -> RouteDsl:
        return self._add(m.Enrich, uri=uri, strategy=strategy, **options)

    def poll_enrich(
        self, uri: Any, strategy: Any = None, timeout: float | None = None, cache_size: int | None = None
    ) -> RouteDsl:
        return self._add(m.PollEnrich, uri=uri, strategy=strategy, timeout=timeout, cache_size=cache_size)

    # -- message translator ---------------------------------------------------------------------
    def process(self, processor: Any) -> RouteDsl:
        if not (callable(processor) or hasattr(processor, "process")):
            raise self._error(
                f"process() needs a callable or an object with process(exchange), got {type(processor).__name__}"
            )
        return self._add(m.Process, processor=processor)

    def bean(self, bean: Any, method: str | None = None) -> RouteDsl:
        if method is not None and not callable(getattr(bean, method, None)):
            raise self._error(f"bean() has no method {method!r} on {type(bean).__name__}")
        return self._add(m.Bean, bean=bean, method=method)

    def set_body(self, value: Any) -> RouteDsl:
        return self._add(m.SetBody, expression=_expr(value))

    def transform(self, value: Any) -> RouteDsl:
        return self._add(m.Transform, expression=_expr(value))

    def set_header(self, name: str, value: Any) -> RouteDsl:
        return self._add(m.SetHeader, name=name, expression=_expr(value))

    def set_property(self, name: str, value: Any) -> RouteDsl:
        return self._add(m.SetProperty, name=name, expression=_expr(value))

    def remove_header(self, name: str) -> RouteDsl:
        return self._add(m.RemoveHeader, name=name)

    def remove_headers(self, pattern: str, *exclude: str) -> RouteDsl:
        return self._add(m.RemoveHeaders, pattern=pattern, exclude=tuple(exclude))

    def convert_body_to(self, type_: type, charset: str = "utf-8") -> RouteDsl:
        return self._add(m.ConvertBodyTo, type=type_, charset=charset)

    def marshal(self, data_format: Any) -> RouteDsl:
        return self._add(m.Marshal, data_format=data_format)

    def unmarshal(self, data_format: Any) -> RouteDsl:
        return self._add(m.Unmarshal, data_format=data_format)

    def log(self, message: str, level: str = "INFO", logger_name: str | None = None) -> RouteDsl:
        return self._add(m.Log, message=message, level=level.upper(), logger_name=logger_name)

    def stop(self) -> RouteDsl:
        return self._add(m.Stop)

    def validate(self, predicate: Any, message: Any = None) -> RouteDsl:
        """Fail with ValidationError unless ``predicate`` holds; ``message`` (a ``${...}`` template
        or an expression) becomes the error's text."""
        return self._add(m.Validate, predicate=_expr(predicate), message=message)

    def rollback(self, message: str = "rollback") -> RouteDsl:
        return self._add(m.Rollback, message=message)

    def claim_check(self, operation: str, key: Any = None, repository: Any = None) -> RouteDsl:
        if operation not in ("set", "get", "get_and_remove", "push", "pop"):
            raise self._error(
                f"claim_check() operation must be set, get, get_and_remove, push or pop, got {operation!r}"
            )
        return self._add(m.ClaimCheck, operation=operation, key=key, repository=repository)

    # -- routing (leaf) -------------------------------------------------------------------------
    def recipient_list(self, expression: Any, delimiter: str = ",", **options: Any) -> RouteDsl:
        return self._add(m.RecipientList, expression=_expr(expression), delimiter=delimiter, **options)

    def routing_slip(self, expression: Any, delimiter: str = ",", **options: Any) -> RouteDsl:
        return self._add(m.RoutingSlip, expression=_expr(expression), delimiter=delimiter, **options)

    def dynamic_router(self, expression: Any, **options: Any) -> RouteDsl:
        return self._add(m.DynamicRouter, expression=_expr(expression), **options)

    def throttle(self, maximum_requests: Any, time_period: float = 1.0, **options: Any) -> RouteDsl:
        return self._add(m.Throttle, maximum_requests=maximum_requests, time_period=time_period, **options)

    def delay(self, delay: Any) -> RouteDsl:
        return self._add(m.Delay, delay=delay)

    def sample(self, period: float | None = 1.0, message_frequency: int | None = None) -> RouteDsl:
        return self._add(m.Sample, period=None if message_frequency else period, message_frequency=message_frequency)

    # -- blocks ---------------------------------------------------------------------------------
    def filter(self, predicate: Any) -> RouteDsl:
        return self._open("filter", m.Filter, predicate=_expr(predicate))

    def split(self, expression: Any, strategy: Any = None, **options: Any) -> RouteDsl:
        return self._open("split", m.Split, expression=_expr(expression), strategy=strategy, **options)

    def aggregate(self, correlation: Any, strategy: Any, **options: Any) -> RouteDsl:
        if "completion_predicate" in options and options["completion_predicate"] is not None:
            options["completion_predicate"] = _expr(options["completion_predicate"])
        if not callable(strategy):
            raise self._error("aggregate() needs an aggregation strategy: a callable (old, new) -> exchange")
        if not any(
            options.get(k) is not None
            for k in ("completion_size", "completion_timeout", "completion_interval", "completion_predicate")
        ):
            raise self._error(
                "aggregate() needs a completion condition: completion_size, "
                "completion_timeout, completion_interval or completion_predicate"
            )
        return self._open("aggregate", m.Aggregate, correlation=_expr(correlation), strategy=strategy, **options)

    def multicast(self, strategy: Any = None, **options: Any) -> RouteDsl:
        return self._open("multicast", m.Multicast, strategy=strategy, **options)

    def pipeline(self) -> RouteDsl:
        return self._open("pipeline", m.Pipeline)

    def idempotent_consumer(self, expression: Any, repository: Any = None, **options: Any) -> RouteDsl:
        return self._open(
            "idempotent_consumer", m.IdempotentConsumer, expression=_expr(expression), repository=repository, **options
        )

    def loop(self, count: Any = None, do_while: Any = None, **options: Any) -> RouteDsl:
        if (count is None) == (do_while is None):
            raise self._error("loop() needs either a count or do_while=predicate")
        return self._open(
            "loop",
            m.Loop,
            count=None if count is None else _expr(count),
            do_while=None if do_while is None else _expr(do_while),
            **options,
        )

    def resequence(self, expression: Any, **options: Any) -> RouteDsl:
        return self._open("resequence", m.Resequence, expression=_expr(expression), **options)

    def load_balance(self, policy: str = "round_robin", **options: Any) -> RouteDsl:
        if policy not in ("round_robin", "random", "failover", "weighted", "sticky"):
            raise self._error(
                f"load_balance() policy must be round_robin, random, failover, weighted or sticky, got {policy!r}"
            )
        if "failover_on" in options:
            options["failover_on"] = tuple(options["failover_on"])
        return self._open("load_balance", m.LoadBalance, policy=policy, **options)

    def choice(self) -> RouteDsl:
        return self._open("choice", None)

    def when(self, predicate: Any) -> RouteDsl:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "when":
            self._close_section()
        elif top.kind == "otherwise":
            raise self._error("when() after otherwise(): otherwise() must be the last branch", top.node_id, location)
        elif top.kind != "choice":
            raise self._misplaced("when()", "choice()", top, location)
        return self._push_section("when", location, {"predicate": _expr(predicate)})

    def otherwise(self) -> RouteDsl:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "when":
            self._close_section()
        elif top.kind == "otherwise":
            raise self._error("a choice() has only one otherwise()", top.node_id, location)
        elif top.kind == "choice":
            raise self._error("otherwise() before any when()", top.node_id, location)
        else:
            raise self._misplaced("otherwise()", "choice()", top, location)
        return self._push_section("otherwise", location, {})

    def do_try(self) -> RouteDsl:
        self._open("do_try_shell", None)
        shell = self._top
        shell.node_id = self._next_id("do_try")
        return self._push_section("try_body", shell.location, {}, shell.node_id)

    def do_catch(self, *exceptions: type[BaseException], on_when: Any = None) -> RouteDsl:
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

    def do_finally(self) -> RouteDsl:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "do_finally":
            raise self._error("a do_try() has only one do_finally()", top.node_id, location)
        if top.kind not in ("try_body", "do_catch"):
            raise self._misplaced("do_finally()", "do_try()", top, location)
        self._close_section()
        return self._push_section("do_finally", location, {})

    def circuit_breaker(self, **options: Any) -> RouteDsl:
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

    def on_fallback(self) -> RouteDsl:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind != "breaker_body":
            raise self._misplaced("on_fallback()", "circuit_breaker()", top, location)
        self._close_section()
        return self._push_section("on_fallback", location, {})

    def on_exception(self, *exceptions: type[BaseException], **options: Any) -> RouteDsl:
        """Route-scoped exception clause; its steps run when it matches; close it with ``end()``."""
        if len(self._stack) != 1 or self._stack[0].kind != "route":
            raise self._error(
                "on_exception() inside a block: declare it at the top of the route, "
                "or on the builder before from_() for every route"
            )
        return self._open("on_exception", None, **_on_exception_attrs(self, exceptions, options))

    def handled(self, flag: Any = True) -> RouteDsl:
        """Camel's ``onException(...).handled(true)``: inside an ``on_exception`` clause, the same as
        its ``handled=`` option (``True``, ``False`` or a predicate)."""
        return self._clause_flag("handled", flag)

    def continued(self, flag: Any = True) -> RouteDsl:
        """Camel's ``onException(...).continued(true)``: inside an ``on_exception`` clause, the same as
        its ``continued=`` option (``True``, ``False`` or a predicate)."""
        return self._clause_flag("continued", flag)

    def _clause_flag(self, key: str, flag: Any) -> RouteDsl:
        self._check_open()
        frame = next((f for f in self._stack if f.kind in ("on_exception", "on_exception_root")), None)
        if frame is None:
            raise self._error(f"{key}() outside on_exception(): it says whether that clause handles the exception")
        options = {k: v for k, v in frame.attrs.items() if k in ("handled", "continued")}
        options[key] = flag
        frame.attrs.update(_clause_flags(self, options, f"{key}()", frame.node_id))
        return self

    def on_completion(self, only_on_completion: bool = False, only_on_failure: bool = False) -> RouteDsl:
        if len(self._stack) != 1:
            raise self._error("on_completion() inside a block: declare it at the top level of the route")
        return self._open(
            "on_completion", m.OnCompletion, only_on_completion=only_on_completion, only_on_failure=only_on_failure
        )

    def end(self) -> Any:
        """Close the innermost open block (a whole choice / do_try / circuit_breaker from inside a branch)."""
        self._check_open()
        top = self._top
        if len(self._stack) == 1:
            if top.kind == "on_exception_root":
                return self._builder._finish_clause(self)
            raise self._error("end() with no open block")
        if top.kind == "choice":
            raise self._error("choice() closed with no when()", top.node_id)
        if top.kind in _SECTION_KINDS:
            self._close_section()
        node = self._close_top()
        self._attach(node, top.kind if top.kind not in _SECTION_KINDS else "")
        self._last = ("step", self._top)
        if len(self._stack) == 1 and self._stack[0].kind == "on_exception_root":
            pass
        return self

    def end_choice(self) -> RouteDsl:
        """Accepted for Camel users; the same as closing blocks up to the enclosing branch."""
        while self._top.kind not in ("when", "otherwise"):
            if len(self._stack) == 1:
                raise self._error("end_choice() outside a choice()")
            self.end()
        return self

    # -- finishing ------------------------------------------------------------------------------
    def _misplaced(self, verb: str, parent: str, top: _Frame, location: str) -> RouteDefinitionError:
        inside = [
            f
            for f in self._stack
            if f.kind in ("when", "otherwise", "try_body", "do_catch", "do_finally", "breaker_body", "on_fallback")
        ]
        if inside:
            return self._error(
                f"{verb} while {top.kind.replace('_shell', '')}() '{top.node_id}' is still "
                f"open inside the branch: close it with end() first",
                top.node_id,
                location,
            )
        return self._error(f"{verb} outside a {parent}", location=location)

    def _build_route(self, default_id: str) -> m.RouteDefinition:
        if len(self._stack) > 1:
            frame = self._stack[-1]
            kind = _BLOCK_NAMES.get(frame.kind, frame.kind)
            raise self._error(
                f"{kind}() '{frame.node_id}' opened at {frame.location} is not closed with end()",
                frame.node_id,
                frame.location,
            )
        self._closed = True
        route_id = self._route_id or default_id
        if self._input is None:
            raise self._error("route has no input: start it with from_()")
        steps = tuple(self._stack[0].steps)
        _check_unique_ids(route_id, steps, self._on_exceptions)
        return m.RouteDefinition(
            route_id=route_id,
            input=self._input,
            steps=steps,
            error_handler=self._error_handler,
            on_exceptions=tuple(self._on_exceptions),
            on_completions=tuple(self._on_completions),
            id_given=self._route_id is not None,
            **self._route_options,
        )


def _check_unique_ids(route_id: str, steps: tuple[m.Node, ...], clauses: list[m.OnException]) -> None:
    seen: dict[str, str] = {}
    probe = m.RouteDefinition(route_id=route_id, input=m.From(uri="x:x"), steps=steps, on_exceptions=tuple(clauses))
    for node in itertools.islice(probe.walk(), 1, None):
        if node.node_id in seen and not isinstance(node, (m.Pipeline,)):
            raise RouteDefinitionError(
                f"node id '{node.node_id}' is used twice (also at {seen[node.node_id]})",
                route_id=route_id,
                node_id=node.node_id,
                location=node.location,
            )
        if node.node_id:
            seen[node.node_id] = node.location


# What the user typed, for frames whose internal kind differs.
_BLOCK_NAMES = {
    "do_try_shell": "do_try",
    "try_body": "do_try",
    "circuit_breaker_shell": "circuit_breaker",
    "breaker_body": "circuit_breaker",
}


def _branch_hint(kind: str) -> str:
    return {
        "choice": "when(...) or otherwise()",
        "do_try_shell": "do_catch(...) or do_finally()",
        "circuit_breaker_shell": "on_fallback()",
    }.get(kind, "")


def _pattern(pattern: ExchangePattern | str | None) -> ExchangePattern | None:
    if pattern is None or isinstance(pattern, ExchangePattern):
        return pattern
    return ExchangePattern(pattern)


def _on_exception_attrs(dsl: Any, exceptions: tuple[Any, ...], options: dict[str, Any]) -> dict[str, Any]:
    if not exceptions:
        raise dsl._error("on_exception() needs at least one exception class")
    for exc in exceptions:
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise dsl._error(f"on_exception() takes exception classes, got {exc!r}")
    policy_keys = (
        "maximum_redeliveries",
        "redelivery_delay",
        "backoff_multiplier",
        "use_exponential_backoff",
        "maximum_redelivery_delay",
    )
    policy_args = {k: options.pop(k) for k in policy_keys if k in options}
    allowed = {"handled", "continued", "use_original_message", "on_when", "retry_while"}
    problem = first_unknown("on_exception", options, allowed | set(policy_keys))
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
        attrs["policy"] = m.RedeliveryPolicy(**{k: _policy_value(k, v) for k, v in policy_args.items()})
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


def _policy_value(key: str, value: Any) -> Any:
    from eip.options import parse_duration

    if key in ("redelivery_delay", "maximum_redelivery_delay"):
        return parse_duration(value)
    return value


class _ClauseDsl(RouteDsl):
    """Records a builder-level ``on_exception(...)...end()`` clause."""


class RouteBuilder:
    """Subclass it and record routes in ``configure()`` with ``self.from_(...)``.

    Builder-level ``error_handler()`` and ``on_exception()`` (declared before ``from_``) apply to
    every route of this builder; route-level ones (inside a route) to that route only and win.
    """

    def __init__(self) -> None:
        self._routes: list[RouteDsl] = []
        self._clauses: list[m.OnException] = []
        self._open_clause: RouteDsl | None = None
        self._builder_error_handler: Any = None
        self._built: list[m.RouteDefinition] | None = None

    def configure(self) -> None:
        """Record routes here."""
        raise NotImplementedError(f"{type(self).__name__}.configure() records no routes")

    def from_(self, uri: str) -> RouteDsl:
        if self._open_clause is not None:
            raise self._open_clause._error("on_exception() before this from_() is not closed with end()")
        if not isinstance(uri, str) or not uri:
            raise RouteDefinitionError(f"from_() needs an endpoint URI, got {uri!r}", location=_location())
        dsl = RouteDsl(self, "route", _location(), input_uri=uri)
        self._routes.append(dsl)
        return dsl

    def error_handler(self, handler: Any) -> None:
        """Use ``handler`` for every route of this builder (unless a route sets its own)."""
        self._builder_error_handler = handler

    def rest(self, path: str = "/") -> Any:
        """REST DSL: ``self.rest("/orders").get("/{id}").to("direct:get-order").post().to(...)``;
        each verb records an ordinary route from an ``http:`` consumer (see ``eip.rest``)."""
        from eip.rest import RestDsl

        return RestDsl(self, path)

    def on_exception(self, *exceptions: type[BaseException], **options: Any) -> _ClauseDsl:
        """Builder-level clause for every route of this builder; close it with ``end()``."""
        if self._open_clause is not None:
            raise self._open_clause._error("previous on_exception() is not closed with end()")
        dsl = _ClauseDsl(self, "on_exception_root", _location())
        dsl._stack[0].attrs.update(_on_exception_attrs(dsl, exceptions, options))
        self._open_clause = dsl
        return dsl

    def _finish_clause(self, dsl: RouteDsl) -> RouteBuilder:
        root = dsl._stack[0]
        clause = _make(
            m.OnException,
            None,
            f"on_exception{len(self._clauses) + 1}",
            root.location,
            steps=tuple(root.steps),
            **root.attrs,
        )
        self._clauses.append(clause)
        self._open_clause = None
        dsl._closed = True
        return self

    def build(self) -> list[m.RouteDefinition]:
        """Run ``configure()`` once and return the route definitions; raises on any DSL mistake."""
        if self._built is None:
            self.configure()
            if self._open_clause is not None:
                raise self._open_clause._error(
                    "on_exception() is not closed with end()", location=self._open_clause._stack[0].location
                )
            routes = []
            for index, dsl in enumerate(self._routes, 1):
                route = dsl._build_route(f"route{index}")
                handler = route.error_handler if route.error_handler is not None else self._builder_error_handler
                route = replace(route, error_handler=handler, on_exceptions=route.on_exceptions + tuple(self._clauses))
                routes.append(route)
            self._built = routes
        return list(self._built)


class FunctionRouteBuilder(RouteBuilder):
    """A RouteBuilder from a plain function ``fn(builder)``."""

    def __init__(self, fn: Callable[[RouteBuilder], None]) -> None:
        super().__init__()
        self._fn = fn

    def configure(self) -> None:
        self._fn(self)
