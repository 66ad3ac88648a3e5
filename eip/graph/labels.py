"""How each step of a route reads in a diagram: its node kind and its label lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eip import model as m
from eip.secrets import mask_uri

MAX_LINE = 44  # characters per label line before it is cut with an ellipsis


def short(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line, cut with an ellipsis beyond ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wrap(text: str, limit: int = MAX_LINE, max_lines: int = 3) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, broken before ``?``/``&`` (URI
    options) or after a space or comma; beyond ``max_lines`` the rest is cut with an ellipsis."""
    text = " ".join(str(text).split())
    lines: list[str] = []
    while len(text) > limit and len(lines) < max_lines - 1:
        window = text[: limit + 1]
        cut = max(window.rfind("&"), window.rfind("?"))
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind(", ") + 1)
            if cut <= 0:
                break
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    lines.append(short(text, limit))
    return lines


def _unparen(text: str) -> str:
    """``a == b`` for ``(a == b)``: the outer parentheses an expression's text carries."""
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for index, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and index < len(text) - 1:
                return text
        return text[1:-1]
    return text


def value_text(value: Any) -> str:
    """How an expression, a callable or a constant reads in a diagram."""
    if value is None:
        return ""
    text = getattr(value, "text", None)
    if isinstance(text, str):
        if text.startswith("constant(") and text.endswith(")"):
            return text[len("constant(") : -1]
        return "lambda" if text == "<lambda>" else _unparen(text)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return repr(value)
    if isinstance(value, type):
        return value.__name__
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(name, str):
        return "lambda" if name.endswith("<lambda>") else name
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(item) for item in value)
    return type(value).__name__  # an object: its repr would show an address


def uri_text(uri: Any) -> str:
    """A static URI masked, or a computed one's template/expression text."""
    return mask_uri(uri if isinstance(uri, str) else value_text(uri))


def title(node: m.Node) -> str:
    """A block's cluster label: its kind in words (``load balance``)."""
    return node.kind_name().replace("_", " ")


def _completion(node: m.Aggregate) -> list[str]:
    parts = []
    if node.completion_size is not None:
        parts.append(f"size {value_text(node.completion_size)}")
    if node.completion_predicate is not None:
        parts.append(f"when {value_text(node.completion_predicate)}")
    if node.completion_timeout is not None:
        parts.append(f"timeout {node.completion_timeout:g}s")
    if node.completion_interval is not None:
        parts.append(f"every {node.completion_interval:g}s")
    return [f"complete on {parts[0]}"] + [f"or {part}" for part in parts[1:]] if parts else []


def _flags(node: Any, *names: str) -> str:
    return ", ".join(name.replace("_", " ") for name in names if getattr(node, name, False))


#: Per leaf step kind: its node kind and label lines.
LEAVES: dict[str, Callable[[Any], tuple[str, list[str]]]] = {
    "to": lambda n: (
        "endpoint",
        [uri_text(n.uri)] + ([str(getattr(n.pattern, "value", n.pattern))] if n.pattern else []),
    ),
    "to_d": lambda n: ("dynamic", ["to_d", uri_text(n.uri)]),
    "wire_tap": lambda n: ("dynamic", ["wire tap", uri_text(n.uri)]),
    "enrich": lambda n: ("endpoint", ["enrich from", uri_text(n.uri)]),
    "poll_enrich": lambda n: ("endpoint", ["poll enrich from", uri_text(n.uri)]),
    "recipient_list": lambda n: ("router", ["recipient list", value_text(n.expression)]),
    "routing_slip": lambda n: ("router", ["routing slip", value_text(n.expression)]),
    "dynamic_router": lambda n: ("router", ["dynamic router", value_text(n.expression)]),
    "process": lambda n: ("translator", ["process", value_text(n.processor)]),
    "bean": lambda n: ("translator", ["bean", value_text(n.bean) + (f".{n.method}" if n.method else "")]),
    "set_body": lambda n: ("translator", ["set body", value_text(n.expression)]),
    "transform": lambda n: ("translator", ["transform", value_text(n.expression)]),
    "set_header": lambda n: ("translator", ["set header", f"{n.name} = {value_text(n.expression)}"]),
    "set_property": lambda n: ("translator", ["set property", f"{n.name} = {value_text(n.expression)}"]),
    "remove_header": lambda n: ("translator", ["remove header", n.name]),
    "remove_headers": lambda n: ("translator", ["remove headers", n.pattern]),
    "convert_body_to": lambda n: ("translator", ["convert body to", value_text(n.type)]),
    "marshal": lambda n: ("translator", ["marshal", value_text(n.data_format)]),
    "unmarshal": lambda n: ("translator", ["unmarshal", value_text(n.data_format)]),
    "validate": lambda n: ("filter", ["validate", value_text(n.predicate)]),
    "log": lambda n: ("log", ["log", n.message]),
    "stop": lambda n: ("stop", ["stop"]),
    "rollback": lambda n: ("stop", ["rollback", n.message]),
    "delay": lambda n: ("control", ["delay", value_text(n.delay)]),
    "throttle": lambda n: ("control", ["throttle", f"{value_text(n.maximum_requests)} per {n.time_period:g}s"]),
    "sample": lambda n: (
        "control",
        ["sample", f"1 in {n.message_frequency}" if n.message_frequency else f"1 per {n.period:g}s"],
    ),
    "claim_check": lambda n: ("store", ["claim check", f"{n.operation} {value_text(n.key)}".strip()]),
}

#: Per block step kind: the node kind and label lines of its symbol (drawn at the top of its cluster).
BLOCKS: dict[str, Callable[[Any], tuple[str, list[str]]]] = {
    "split": lambda n: (
        "splitter",
        ["split", value_text(n.expression), _flags(n, "streaming", "parallel", "stop_on_exception")],
    ),
    "aggregate": lambda n: (
        "aggregator",
        ["aggregate", f"by {value_text(n.correlation)}", value_text(n.strategy), *_completion(n)],
    ),
    "filter": lambda n: ("filter", ["filter", value_text(n.predicate)]),
    "idempotent_consumer": lambda n: ("filter", ["idempotent consumer", f"by {value_text(n.expression)}"]),
    "loop": lambda n: (
        "control",
        ["loop", f"while {value_text(n.do_while)}" if n.do_while is not None else f"{value_text(n.count)} times"],
    ),
    "resequence": lambda n: ("aggregator", ["resequence", f"by {value_text(n.expression)}"]),
    "multicast": lambda n: ("splitter", ["multicast", _flags(n, "parallel", "stop_on_exception")]),
    "load_balance": lambda n: ("router", ["load balance", n.policy.replace("_", " ")]),
    "circuit_breaker": lambda n: ("control", ["circuit breaker", f"opens after {n.failure_threshold} failures"]),
    "pipeline": lambda n: ("translator", ["pipeline"]),
    "on_completion": lambda n: (
        "control",
        [
            "on completion",
            "only on success" if n.only_on_completion else "only on failure" if n.only_on_failure else "",
        ],
    ),
}
