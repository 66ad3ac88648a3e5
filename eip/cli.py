"""The ``eip`` command line: run, validate, list and draw routes, and document components.

Exit codes: 0 success; 2 bad input (no such path, no route classes, invalid routes, a wrong
config file, unknown component); 1 the engine failed at run time (a consumer or the HTTP server
could not start) or a diagram could not be rendered (Graphviz missing).

``eip run`` reads its configuration from ``--config FILE`` (or ``EIP_CONFIG``) and ``EIP_...``
environment variables (``eip.config``), logs through ``eip.logging_setup`` (text on a terminal,
logfmt otherwise, secrets masked), serves the HTTP server and management API when those
modules are installed (``eip.http_server``, ``eip.management``), and shows progress lines when
stderr is a terminal.
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from eip import graph as route_graph
from eip import model as m
from eip.config import Config, load_config
from eip.engine import Engine
from eip.errors import ConfigFileError, ConfigurationError
from eip.loader import find_builders, instantiate
from eip.logging_setup import FORMATS as LOG_FORMATS
from eip.logging_setup import ProgressReporter, configure_logging, is_terminal
from eip.registry import ComponentRegistry
from eip.secrets import mask_uri

log = logging.getLogger("eip.cli")

DEFAULT_PATH = "routes"
EXIT_INVALID = 2
EXIT_FAILED = 1
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


class Problems(Exception):
    """Everything wrong with the routes, collected before giving up."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _problems(exc: ConfigurationError) -> list[str]:
    """Every problem an error stands for (a config file reports all of its own at once)."""
    return exc.problems if isinstance(exc, ConfigFileError) else [str(exc)]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConfigurationError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def load_definitions(paths: Sequence[str]) -> tuple[list[m.RouteDefinition], list[str]]:
    """The route definitions of every route class in ``paths``, and the problems met.

    A class that fails to build is a problem; the others are still built. Raises ``Problems``
    when the paths themselves are wrong or hold no route class."""
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
    return definitions, problems


def load_engine(paths: Sequence[str], engine: Engine | None = None) -> Engine:
    """An engine holding every route found in ``paths``, all compiled, none started.

    Every route is compiled on its own, so one bad route does not hide the others' problems;
    raises ``Problems`` listing each (route id, node, message)."""
    engine = engine if engine is not None else Engine()
    definitions, problems = load_definitions(paths)
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


def _fail(problems: Sequence[str], what: str, mask: Callable[[str], str] = str) -> NoReturn:
    """Print the problems (through ``mask``: a config's secrets may be in a resolved URI) and
    exit with code 2."""
    if len(problems) == 1:
        click.echo(mask(f"{what}: {problems[0]}"), err=True)
    else:
        click.echo(f"{what}: {len(problems)} problems:", err=True)
        for problem in problems:
            click.echo(mask(f"  - {problem}"), err=True)
    sys.exit(EXIT_INVALID)


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


def _outputs(definition: m.RouteDefinition, resolve: Callable[[str], str] | None = None) -> list[str]:
    """The endpoints a route sends to, in order, secrets masked (``{{placeholders}}`` filled in
    by ``resolve`` when given)."""

    def fill(uri: str) -> str:
        if resolve is None:
            return uri
        try:
            return resolve(uri)
        except ConfigurationError:
            return uri

    found: list[str] = []
    handler = definition.error_handler
    for node in definition.walk():
        if isinstance(node, m.From):
            continue
        uri = getattr(node, "uri", None)
        if isinstance(uri, str):
            found.append(fill(uri) if isinstance(node, m.To) else f"{node.kind_name()} {fill(uri)}")
        elif uri is not None:
            found.append(f"{node.kind_name()} (dynamic)")
    if isinstance(handler, m.DeadLetterChannel):
        found.append(f"dead letter {fill(handler.uri)}")
    return [mask_uri(uri) for uri in dict.fromkeys(found)]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eip-engine", prog_name="eip")
def main() -> None:
    """Run and inspect EIP routes."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="EIP_CONFIG",
    default=None,
    help="YAML config file (properties, server, amqp, datasources, auth, management, logging); also EIP_CONFIG.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="HTTP server port, over server.port and EIP_SERVER_PORT (0 picks a free port).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds (default: run until SIGTERM or Ctrl-C).",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default=None,
    help="Logging level (default: logging.level from the config, else INFO).",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS, case_sensitive=False),
    default=None,
    help="text, logfmt or json (default auto: text on a terminal, else logfmt).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress line per second for busy routes (default: when stderr is a terminal).",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help=f"Seconds in-flight exchanges get to finish when stopping (default "
    f"{DEFAULT_SHUTDOWN_TIMEOUT:g}, or shutdown_timeout from the config).",
)
def run(
    paths: tuple[str, ...],
    config_path: str | None,
    port: int | None,
    duration: float | None,
    log_level: str | None,
    log_format: str | None,
    progress: bool | None,
    shutdown_timeout: float | None,
) -> None:
    """Run the routes in PATHS until SIGTERM/SIGINT (or --duration).

    PATHS are files, folders or modules (default ./routes). Every RouteBuilder subclass found is
    created with no arguments; all routes are validated before any starts (exit code 2 with
    every problem listed); shutdown is graceful: consumers stop first, in-flight exchanges get
    --shutdown-timeout seconds to finish. Settings: command line, then EIP_... environment
    variables, then the --config file (see eip.config)."""
    try:
        config = load_config(config_path)
    except ConfigurationError as exc:
        _fail(_problems(exc), "eip run: configuration")
    configure_logging(
        log_level or config.logging.get("level") or "INFO",
        log_format or config.logging.get("format") or "auto",
        secrets=config.secrets,
    )
    if config_path:
        log.info("configuration from %s", config_path)
    chosen = list(paths) or [DEFAULT_PATH]
    if not paths and not Path(DEFAULT_PATH).exists():
        _fail([f"no PATH given and ./{DEFAULT_PATH} does not exist"], "eip run")
    timeout = next(v for v in (shutdown_timeout, config.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT) if v is not None)
    engine = Engine(shutdown_timeout=timeout)
    try:
        config.apply(engine)
        if port is not None:
            engine.properties["server.port"] = port
        engine = load_engine(chosen, engine)
    except ConfigurationError as exc:
        _fail(_problems(exc), "eip run: configuration", config.mask)
    except Problems as exc:
        _fail(exc.problems, "eip run: routes are invalid, nothing started", config.mask)
    try:
        _serve(engine, config)
    except ConfigurationError as exc:
        _fail([str(exc)], "eip run: server configuration", config.mask)
    if progress if progress is not None else is_terminal(sys.stderr):
        engine.add_service(ProgressReporter(engine))
    with _stop_signals() as stop:
        try:
            engine.start()
        except Exception as exc:  # noqa: BLE001
            log.error("engine failed to start: %s", _describe(exc))
            sys.exit(EXIT_FAILED)
        for route_id in engine.route_ids():
            route = engine.route(route_id)
            outputs = ", ".join(_outputs(route.definition, engine.resolve_placeholders))
            uris = mask_uri(route.endpoint.uri) + (f" -> {outputs}" if outputs else "")
            if route.state == "started":
                log.info("route '%s' started: %s", route_id, uris)
            else:
                log.info("route '%s' not started (auto_startup is off): %s", route_id, uris)
        log.info(
            "%d route(s) running%s",
            len(engine.route_ids()),
            f" for {duration:g} s" if duration is not None else "; stop with Ctrl-C or SIGTERM",
        )
        started = time.monotonic()
        stop.wait(duration)
        log.info("stopping after %.1f s", time.monotonic() - started)
        unfinished = engine.stop()
    for route_id, exchange_ids in unfinished.items():
        log.warning(
            "route '%s': %d exchange(s) did not finish: %s", route_id, len(exchange_ids), ", ".join(exchange_ids)
        )
    log.info("stopped")


def _serve(engine: Engine, config: Config) -> Any:
    """Attach the HTTP server, and the management API unless ``management.enabled`` is false,
    when their modules are installed; returns the server (None without ``eip.http_server``).

    The modules are looked up rather than imported in a try block, so a module that is present
    but broken fails loudly instead of silently serving nothing."""
    if importlib.util.find_spec("eip.http_server") is None:
        log.debug("eip.http_server is not installed: no HTTP server")
        return None
    from eip.http_server import http_server

    server = http_server(engine)
    if config.management.get("enabled", True) is False:
        log.info("management API disabled (management.enabled is false)")
    elif importlib.util.find_spec("eip.management") is None:
        log.debug("eip.management is not installed: no management API")
    else:
        from eip.management import install

        install(engine, config)
    return server


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="EIP_CONFIG",
    default=None,
    help="YAML config file whose properties and datasources the routes will run with "
    "(as eip run reads it); also EIP_CONFIG.",
)
def validate(paths: tuple[str, ...], config_path: str | None) -> None:
    """Check the routes in PATHS (and the --config file) without starting them.

    Every route is compiled (URIs, options, DSL) with the configuration's properties filled into
    its ``{{placeholders}}``, as ``eip run`` would; each problem is listed with its route id,
    node and message (the config file's with their key and line), and the exit code is 2 if
    there is any. Nothing connects: datasources and brokers are not contacted."""
    try:
        config = load_config(config_path)
    except ConfigurationError as exc:
        _fail(_problems(exc), "invalid configuration")
    engine = Engine()
    try:
        config.apply(engine)
        engine = load_engine(paths, engine)
    except ConfigurationError as exc:
        _fail(_problems(exc), "invalid configuration", config.mask)
    except Problems as exc:
        _fail(exc.problems, "invalid", config.mask)
    click.echo(
        f"OK: {len(engine.route_ids())} route(s) valid"
        + (f" with the configuration {config_path}" if config_path else "")
    )


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


@main.command("graph")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(route_graph.FORMATS),
    default=None,
    help="svg or png (need Graphviz's dot), mermaid or dot (text). Default: from the suffix of -o, else mermaid.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the diagram to this file (default: standard output).",
)
@click.option("--route", "route_ids", multiple=True, metavar="ID", help="Draw only this route (repeat for several).")
def graph_command(paths: tuple[str, ...], fmt: str | None, output: str | None, route_ids: tuple[str, ...]) -> None:
    """Draw the routes in PATHS as a diagram with EIP shapes.

    Routers are diamonds, splitters and aggregators trapeziums, filters funnels, endpoints
    flags labelled by URI (secrets masked), nested blocks clusters; a send to an endpoint
    another route consumes is linked to that route. Drawn from the route model: nothing is
    compiled or started."""
    try:
        chosen_format = route_graph.format_for(output, fmt)
    except ConfigurationError as exc:
        _fail([str(exc)], "eip graph")
    try:
        definitions, problems = load_definitions(paths)
    except Problems as exc:
        _fail(exc.problems, "invalid")
    if problems:
        _fail(problems, "invalid")
    definitions = _with_route_ids(definitions)
    if route_ids:
        known = [d.route_id for d in definitions]
        missing = [rid for rid in route_ids if rid not in known]
        if missing:
            _fail([f"no route '{rid}'; routes: {', '.join(known)}" for rid in missing], "eip graph")
        definitions = [d for d in definitions if d.route_id in route_ids]
    if chosen_format in route_graph.BINARY_FORMATS and output is None and is_terminal(sys.stdout):
        _fail([f"{chosen_format} is binary: write it to a file with -o FILE"], "eip graph")
    try:
        drawing = route_graph.render(definitions, chosen_format)
    except ConfigurationError as exc:
        click.echo(f"eip graph: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if output is None:
        if isinstance(drawing, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(drawing)
            sys.stdout.buffer.flush()
        else:
            click.echo(drawing, nl=False)
        return
    target = Path(output)
    if isinstance(drawing, bytes):
        target.write_bytes(drawing)
    else:
        target.write_text(drawing, encoding="utf-8")
    click.echo(f"{len(definitions)} route(s) drawn to {output} ({chosen_format})", err=True)


def _with_route_ids(definitions: list[m.RouteDefinition]) -> list[m.RouteDefinition]:
    """Give routes without an explicit id the ids the engine would (route1, route2, ...)."""
    from dataclasses import replace

    taken = {d.route_id for d in definitions if d.id_given}
    counter = 0
    named = []
    for definition in definitions:
        if not definition.id_given:
            counter += 1
            while f"route{counter}" in taken:
                counter += 1
            definition = replace(definition, route_id=f"route{counter}")
            taken.add(definition.route_id)
        named.append(definition)
    return named


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
