"""The ``eip`` command line: run, validate and list routes, and document components.

Exit codes: 0 success; 2 bad input (no such path, no route classes, invalid routes, unknown
component); 1 the engine failed at run time (a consumer could not start).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from eip import model as m
from eip.engine import Engine
from eip.errors import ConfigurationError
from eip.loader import find_builders, instantiate
from eip.registry import ComponentRegistry
from eip.uri import mask_uri

log = logging.getLogger("eip.cli")

DEFAULT_PATH = "routes"
EXIT_INVALID = 2
EXIT_FAILED = 1
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Problems(Exception):
    """Everything wrong with the routes, collected before giving up."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConfigurationError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def load_engine(paths: Sequence[str], engine: Engine | None = None) -> Engine:
    """An engine holding every route found in ``paths``, all compiled, none started.

    Every route is compiled on its own, so one bad route does not hide the others' problems;
    raises ``Problems`` listing each (route id, node, message)."""
    engine = engine if engine is not None else Engine()
    try:
        loaded = find_builders(list(paths))
    except ConfigurationError as exc:
        raise Problems([str(exc)]) from exc
    if not loaded:
        raise Problems([f"no RouteBuilder classes found in {', '.join(paths)}"])
    problems: list[str] = []
    definitions: list[m.RouteDefinition] = []
    for item in loaded:
        try:
            definitions.extend(instantiate(item).build())
        except Exception as exc:  # noqa: BLE001 - a broken class is reported, the rest still checked
            problems.append(f"{item.name}: {_describe(exc)}")
    for definition in definitions:
        try:
            engine.add_routes(definition)
        except Exception as exc:  # noqa: BLE001
            text = _describe(exc)
            if not isinstance(exc, ConfigurationError) or not exc.route_id:
                text = f"route '{definition.route_id}': {text}"
            problems.append(text)
    if problems:
        raise Problems(problems)
    return engine


def _fail(problems: Sequence[str], what: str) -> None:
    if len(problems) == 1:
        click.echo(f"{what}: {problems[0]}", err=True)
    else:
        click.echo(f"{what}: {len(problems)} problems:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
    sys.exit(EXIT_INVALID)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by the first SIGTERM or SIGINT; a second one gets the default behaviour."""
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    def handler(signum: int, frame: Any) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()
        restore()

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stop
    finally:
        restore()


def _outputs(definition: m.RouteDefinition) -> list[str]:
    """The endpoints a route sends to, in order, secrets masked."""
    found: list[str] = []
    handler = definition.error_handler
    for node in definition.walk():
        if isinstance(node, m.From):
            continue
        uri = getattr(node, "uri", None)
        if isinstance(uri, str):
            found.append(uri if isinstance(node, m.To) else f"{node.kind_name()} {uri}")
        elif uri is not None:
            found.append(f"{node.kind_name()} (dynamic)")
    if isinstance(handler, m.DeadLetterChannel):
        found.append(f"dead letter {handler.uri}")
    return [mask_uri(uri) for uri in dict.fromkeys(found)]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eip-engine", prog_name="eip")
def main() -> None:
    """Run and inspect EIP routes."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--duration", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (default: run until SIGTERM or Ctrl-C).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="INFO",
              show_default=True, help="Logging level.")
@click.option("--shutdown-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds in-flight exchanges get to finish when stopping.")
def run(paths: tuple[str, ...], duration: float | None, log_level: str, shutdown_timeout: float) -> None:
    """Run the routes in PATHS until SIGTERM/SIGINT (or --duration).

    PATHS are files, folders or modules (default ./routes). Every RouteBuilder subclass found is
    created with no arguments; all routes are validated before any starts (exit code 2 with
    every problem listed); shutdown is graceful: consumers stop first, in-flight exchanges get
    --shutdown-timeout seconds to finish."""
    _setup_logging(log_level)
    chosen = list(paths) or [DEFAULT_PATH]
    if not paths and not Path(DEFAULT_PATH).exists():
        _fail([f"no PATH given and ./{DEFAULT_PATH} does not exist"], "eip run")
    try:
        engine = load_engine(chosen, Engine(shutdown_timeout=shutdown_timeout))
    except Problems as exc:
        _fail(exc.problems, "eip run: routes are invalid, nothing started")
    with _stop_signals() as stop:
        try:
            engine.start()
        except Exception as exc:  # noqa: BLE001
            log.error("engine failed to start: %s", _describe(exc))
            sys.exit(EXIT_FAILED)
        for route_id in engine.route_ids():
            route = engine.route(route_id)
            if route.state == "started":
                log.info("route '%s' started: %s", route_id, route.endpoint.uri)
            else:
                log.info("route '%s' not started (auto_startup is off): %s", route_id, route.endpoint.uri)
        log.info("%d route(s) running%s", len(engine.route_ids()),
                 f" for {duration:g} s" if duration is not None else "; stop with Ctrl-C or SIGTERM")
        started = time.monotonic()
        stop.wait(duration)
        log.info("stopping after %.1f s", time.monotonic() - started)
        unfinished = engine.stop()
    for route_id, exchange_ids in unfinished.items():
        log.warning("route '%s': %d exchange(s) did not finish: %s", route_id, len(exchange_ids),
                    ", ".join(exchange_ids))
    log.info("stopped")


@main.command()
@click.argument("paths", nargs=-1, required=True)
def validate(paths: tuple[str, ...]) -> None:
    """Check the routes in PATHS without starting them.

    Every route is compiled (URIs, options, DSL); each problem is listed with its route id,
    node and message, and the exit code is 2 if there is any."""
    try:
        engine = load_engine(paths)
    except Problems as exc:
        _fail(exc.problems, "invalid")
    click.echo(f"OK: {len(engine.route_ids())} route(s) valid")


@main.command()
@click.argument("paths", nargs=-1, required=True)
def routes(paths: tuple[str, ...]) -> None:
    """List the routes in PATHS: id, input and outputs."""
    try:
        engine = load_engine(paths)
    except Problems as exc:
        _fail(exc.problems, "invalid")
    rows = [("ROUTE", "INPUT", "OUTPUTS")]
    for route_id in engine.route_ids():
        definition = engine.route_definition(route_id)
        rows.append((route_id, mask_uri(definition.input.uri), ", ".join(_outputs(definition)) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())


@main.command()
@click.argument("scheme", required=False)
def doc(scheme: str | None) -> None:
    """Document components: all of them, or one SCHEME's options."""
    registry = ComponentRegistry()
    if scheme is None:
        names = registry.schemes()
        width = max((len(n) for n in names), default=0)
        for name in names:
            try:
                cls = registry.get(name)
                summary = cls.summary or next(iter((cls.__doc__ or "").strip().splitlines()), "")
            except ConfigurationError as exc:
                summary = f"(failed to load: {exc})"
            click.echo(f"{name:<{width}}  {summary}".rstrip())
        return
    try:
        cls = registry.get(scheme)
    except ConfigurationError as exc:
        _fail([str(exc)], "eip doc")
    click.echo(cls.documentation())


if __name__ == "__main__":  # pragma: no cover
    main()
