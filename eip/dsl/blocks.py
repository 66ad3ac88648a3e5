"""Block tracking: the open-block stack of a route being recorded, end(), and building its definition."""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Self

from eip import model as m
from eip.dsl.recording import (
    _BLOCK_NAMES,
    _BLOCKS,
    _SECTION_KINDS,
    _branch_hint,
    _Frame,
    _location,
    _make,
)
from eip.errors import RouteDefinitionError
from eip.options import first_unknown

if TYPE_CHECKING:
    from eip.dsl.builder import RouteBuilder


class BlockTracker:
    """The stack of open blocks of one route, and turning each closed block into its definition.

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

    def _step_frame(self, verb: str) -> _Frame:
        """The frame a step ``verb`` goes into; a choice, do_try or circuit breaker takes only branches."""
        self._check_open()
        top = self._top
        if top.kind in ("choice", "do_try_shell", "circuit_breaker_shell"):
            raise self._error(
                f"{verb}() directly inside {top.kind.split('_shell')[0]}(): "
                f"open a branch first ({_branch_hint(top.kind)})",
                top.node_id,
            )
        return top

    def _add(self, cls: type[m.Node], **kwargs: Any) -> Self:
        top = self._step_frame(cls.kind_name())
        location = _location()
        node = _make(cls, self._route_id, self._next_id(cls.kind_name()), location, **kwargs)
        top.steps.append(node)
        self._last = ("step", top)
        return self

    def _open(self, kind: str, cls: type | None, **attrs: Any) -> Self:
        self._step_frame(kind)
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

    def _push_section(self, kind: str, location: str, attrs: dict[str, Any], node_id: str | None = None) -> Self:
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
        return self

    def end_choice(self) -> Self:
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
