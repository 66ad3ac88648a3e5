"""The ``eip`` command line and the route loader behind it (``eip/cli.py``, ``eip/loader.py``)."""

from __future__ import annotations

import html
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from eip import cli
from eip.component import Component, Consumer, Endpoint
from eip.engine import Engine
from eip.loader import RouteLoadError, find_builders, instantiate
from eip.options import Option, OptionSpec

GOOD = """
from eip import RouteBuilder, dead_letter_channel, header

class Greetings(RouteBuilder):
    def configure(self):
        self.error_handler(dead_letter_channel("mock:dead"))
        (self.from_("direct:greet").route_id("greet")
            .choice()
                .when(header("lang") == "fr").to("mock:fr")
                .otherwise().to("mock:en")
            .end())

class Farewells(RouteBuilder):
    def configure(self):
        self.from_("direct:bye").route_id("bye").set_body("bye").to("log:bye")
"""


@pytest.fixture(autouse=True)
def free_port(monkeypatch):
    """``eip run`` starts the engine's HTTP server: on a free port, never a fixed 8080 that
    another test (or program) may hold. Subprocesses inherit it too."""
    monkeypatch.setenv("EIP_SERVER_PORT", "0")


@pytest.fixture(autouse=True)
def restore_logging():
    """``eip run`` configures the root logger for a process; put it back after each test."""
    root, pika = logging.getLogger(), logging.getLogger("pika")
    handlers, level, pika_level = root.handlers[:], root.level, pika.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    pika.setLevel(pika_level)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


# -- loader ------------------------------------------------------------------------------------
def test_loader_finds_route_classes_defined_in_files_in_source_order(tmp_path):
    path = write(tmp_path, "greet.py", GOOD)
    loaded = find_builders([path])
    assert [b.cls.__name__ for b in loaded] == ["Greetings", "Farewells"]
    assert all(b.source == str(path) for b in loaded)


def test_loader_skips_imported_private_and_unconfigured_classes(tmp_path):
    write(tmp_path, "base.py", """
        from eip import RouteBuilder
        class Base(RouteBuilder):
            def configure(self):
                self.from_("direct:base").to("mock:base")
    """)
    path = write(tmp_path, "app.py", """
        from eip import RouteBuilder
        from eip.dsl import FunctionRouteBuilder
        class _Helper(RouteBuilder):
            def configure(self):
                self.from_("direct:helper").to("mock:x")
        class NotConfigured(RouteBuilder):
            pass
        class Real(RouteBuilder):
            def configure(self):
                self.from_("direct:real").to("mock:x")
    """)
    assert [b.cls.__name__ for b in find_builders([path])] == ["Real"]


def test_loader_takes_folders_packages_and_dotted_modules_each_class_once(tmp_path, monkeypatch):
    folder = tmp_path / "plain"
    write(folder, "a.py", GOOD)
    write(folder, "_private.py", "raise RuntimeError('must not be imported')\n")
    write(folder, "notes.txt", "not python")
    package = tmp_path / "pkg_routes_for_test"
    write(package, "__init__.py", "")
    write(package, "helpers.py", "TARGET = 'mock:pkg'\n")
    write(package, "sub/__init__.py", "")
    write(package, "sub/routes.py", """
        from eip import RouteBuilder
        from ..helpers import TARGET
        class PackageRoutes(RouteBuilder):
            def configure(self):
                self.from_("direct:pkg").to(TARGET)
    """)
    names = [b.cls.__name__ for b in find_builders([folder, folder / "a.py", package])]
    assert names == ["Greetings", "Farewells", "PackageRoutes"]
    # the same package is now importable by its dotted name
    assert [b.cls.__name__ for b in find_builders(["pkg_routes_for_test.sub.routes"])] == ["PackageRoutes"]
    monkeypatch.delitem(sys.modules, "pkg_routes_for_test", raising=False)


def test_loader_reports_missing_paths_and_import_errors_by_name(tmp_path):
    with pytest.raises(RouteLoadError, match="no such file, folder or module: nowhere/routes.py"):
        find_builders(["nowhere/routes.py"])
    with pytest.raises(RouteLoadError, match="no such file, folder or module: no_such_module_xyz"):
        find_builders(["no_such_module_xyz"])
    broken = write(tmp_path, "broken.py", "import no_such_dependency_xyz\n")
    with pytest.raises(RouteLoadError, match="broken.py: ModuleNotFoundError: .*no_such_dependency_xyz"):
        find_builders([broken])


def test_loader_names_a_class_that_needs_constructor_arguments(tmp_path):
    path = write(tmp_path, "args.py", """
        from eip import RouteBuilder
        class NeedsArgs(RouteBuilder):
            def __init__(self, target):
                super().__init__()
                self.target = target
            def configure(self):
                self.from_("direct:a").to(self.target)
    """)
    [loaded] = find_builders([path])
    with pytest.raises(RouteLoadError, match="NeedsArgs .*cannot be created without arguments"):
        instantiate(loaded)


# -- validate ---------------------------------------------------------------------------------
def test_validate_accepts_good_routes(tmp_path):
    result = invoke("validate", str(write(tmp_path, "good.py", GOOD)))
    assert result.exit_code == 0, result.output
    assert "OK: 2 route(s) valid" in result.output


def test_validate_lists_every_problem_with_route_node_and_message(tmp_path):
    path = write(tmp_path, "bad.py", """
        from eip import RouteBuilder, header
        class Bad(RouteBuilder):
            def configure(self):
                self.from_("direct:a").route_id("unknown-scheme").to("nosuchscheme:x").id("send-x")
                self.from_("direct:b").route_id("bad-option").to("direct:c?timout=1").id("send-c")
                self.from_("direct:c").route_id("fine").to("mock:c")
        class Misplaced(RouteBuilder):
            def configure(self):
                self.from_("direct:d").route_id("misplaced").when(header("x") == 1).to("mock:d")
        class Explodes(RouteBuilder):
            def configure(self):
                raise RuntimeError("configure blew up")
    """)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    out = result.output
    assert "4 problems" in out
    assert "route 'unknown-scheme', node 'send-x'" in out and "no component for scheme 'nosuchscheme'" in out
    assert "route 'bad-option', node 'send-c'" in out and "unknown option 'timout'" in out
    assert "did you mean 'timeout'" in out
    assert "route 'misplaced'" in out and "when() outside a choice()" in out
    assert "Explodes" in out and "RuntimeError: configure blew up" in out
    assert "route 'fine'" not in out


def test_validate_reports_duplicate_route_ids_across_classes(tmp_path):
    path = write(tmp_path, "dupes.py", """
        from eip import RouteBuilder
        class One(RouteBuilder):
            def configure(self):
                self.from_("direct:one").route_id("same").to("mock:x")
        class Two(RouteBuilder):
            def configure(self):
                self.from_("direct:two").route_id("same").to("mock:y")
    """)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "route id 'same' is used twice" in result.output


def test_validate_needs_a_path_and_reports_empty_ones(tmp_path):
    assert invoke("validate").exit_code == 2
    empty = write(tmp_path, "empty.py", "X = 1\n")
    result = invoke("validate", str(empty))
    assert result.exit_code == 2
    assert "no RouteBuilder classes found" in result.output


# -- routes -----------------------------------------------------------------------------------
def test_routes_prints_a_table_of_inputs_and_outputs_with_secrets_masked(tmp_path):
    path = write(tmp_path, "table.py", """
        from eip import RouteBuilder, dead_letter_channel
        class Table(RouteBuilder):
            def configure(self):
                (self.from_("direct:in").route_id("fan-out")
                    .error_handler(dead_letter_channel("mock:dead"))
                    .to("mock:a")
                    .filter(lambda ex: ex.message.body).to("mock:b").end()
                    .to_d("http://user:hunter2@example.org/${header.x}"))
                self.from_("direct:quiet").route_id("quiet").set_body("x")
    """)
    result = invoke("routes", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ROUTE", "INPUT", "OUTPUTS"]
    fan_out = next(line for line in lines if line.startswith("fan-out"))
    assert "direct:in" in fan_out
    assert "mock:a, mock:b, to_d http://user:xxxxxx@example.org/${header.x}, dead letter mock:dead" in fan_out
    assert "hunter2" not in result.output
    quiet = next(line for line in lines if line.startswith("quiet"))
    assert quiet.split() == ["quiet", "direct:quiet", "-"]


# -- doc --------------------------------------------------------------------------------------
def test_doc_lists_components_from_entry_points_with_their_summary():
    result = invoke("doc")
    assert result.exit_code == 0, result.output
    schemes = {line.split()[0]: line for line in result.output.splitlines()}
    declared = {ep.name for ep in entry_points(group="eip.components")}
    assert declared <= set(schemes)
    assert "synchronous call" in schemes["direct"]
    assert "mock:NAME" in schemes["mock"]


def test_doc_shows_one_components_option_table():
    result = invoke("doc", "direct")
    assert result.exit_code == 0
    header, *rows = result.output.split("\n\n", 1)[1].splitlines()
    assert header.split() == ["option", "type", "default", "description"]
    timeout = next(row for row in rows if row.startswith("timeout"))
    assert "duration" in timeout and "30.0" in timeout  # Camel's direct: waits 30 s for a starting consumer


def test_doc_of_an_unknown_scheme_suggests_the_closest():
    result = invoke("doc", "dirct")
    assert result.exit_code == 2
    assert "no component for scheme 'dirct'" in result.output and "direct" in result.output


# -- run --------------------------------------------------------------------------------------
class VaultEndpoint(Endpoint):
    options = OptionSpec((Option("password", "str", None, "Password.", secret=True),
                          Option("fail", "bool", False, "Fail when the consumer starts.")))

    def create_consumer(self, processor):
        endpoint = self

        class VaultConsumer(Consumer):
            def start(self):
                if endpoint.values["fail"]:
                    raise ConnectionError("vault is sealed")

        return VaultConsumer(self, processor)


class VaultComponent(Component):
    """vault:NAME - a test component with a secret option."""

    endpoint_class = VaultEndpoint


@pytest.fixture
def vault(monkeypatch):
    """Engines made by the CLI know the ``vault:`` test scheme."""
    made = []

    def factory(**kwargs):
        engine = Engine(**kwargs)
        engine.add_component("vault", VaultComponent)
        made.append(engine)
        return engine

    monkeypatch.setattr(cli, "Engine", factory)
    return made


def test_run_logs_each_started_route_with_its_masked_input_and_stops(tmp_path, vault):
    path = write(tmp_path, "vault_routes.py", """
        from eip import RouteBuilder
        class Vault(RouteBuilder):
            def configure(self):
                self.from_("vault:in?password=s3cret").route_id("secret-in").to("mock:out")
                self.from_("direct:manual").route_id("manual").auto_startup(False).to("mock:out")
    """)
    started = time.monotonic()
    result = invoke("run", str(path), "--duration", "0.2")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 5
    assert "route 'secret-in' started: vault:in?password=xxxxxx" in result.output
    assert "route 'manual' not started" in result.output
    assert "s3cret" not in result.output
    assert "stopped" in result.output
    [engine] = vault
    assert engine.state == "stopped"


def test_run_with_invalid_routes_starts_nothing_and_exits_2(tmp_path, vault):
    path = write(tmp_path, "mixed.py", """
        from eip import RouteBuilder
        class Mixed(RouteBuilder):
            def configure(self):
                self.from_("vault:in").route_id("good").to("mock:out")
                self.from_("direct:x").route_id("bad").to("mock:out?retain_frist=1")
    """)
    result = invoke("run", str(path), "--duration", "0")
    assert result.exit_code == 2
    assert "nothing started" in result.output
    assert "route 'bad'" in result.output and "did you mean 'retain_first'" in result.output
    assert "route 'good' started" not in result.output
    assert all(engine.state == "stopped" for engine in vault)


def test_run_exits_1_when_a_consumer_cannot_start(tmp_path, vault):
    path = write(tmp_path, "sealed.py", """
        from eip import RouteBuilder
        class Sealed(RouteBuilder):
            def configure(self):
                self.from_("vault:in?fail=true").route_id("sealed").to("mock:out")
    """)
    result = invoke("run", str(path), "--duration", "0")
    assert result.exit_code == 1
    assert "engine failed to start" in result.output and "vault is sealed" in result.output


def test_run_defaults_to_the_routes_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--duration", "0")
    assert result.exit_code == 2
    assert "./routes does not exist" in result.output
    write(tmp_path / "routes", "greet.py", GOOD)
    result = invoke("run", "--duration", "0", "--log-level", "warning")
    assert result.exit_code == 0, result.output
    result = invoke("run", "--duration", "0")
    assert "route 'greet' started: direct:greet" in result.output
    assert "route 'bye' started: direct:bye" in result.output


def test_console_script_is_declared():
    [script] = [ep for ep in entry_points(group="console_scripts") if ep.name == "eip"]
    assert script.value == "eip.cli:main"


@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_shuts_down_gracefully_on_a_signal(tmp_path, signum):
    path = write(tmp_path, "greet.py", GOOD)
    proc = subprocess.Popen([sys.executable, "-m", "eip.cli", "run", str(path)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "route(s) running" in line:
                break
        assert any("route 'greet' started" in line for line in lines), "".join(lines)
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + rest
    assert f"received {signal.Signals(signum).name}, shutting down" in rest
    assert rest.rstrip().endswith("stopped")


# -- run: configuration, server, logging, progress --------------------------------------------------
VAULT_ROUTES = """
    from eip import RouteBuilder
    class Vault(RouteBuilder):
        def configure(self):
            (self.from_("vault:in?password={{vault.password}}").route_id("secret-in")
                .to("{{target}}"))
"""


def test_run_reads_placeholders_and_file_secrets_from_the_config_and_masks_them(tmp_path, vault):
    routes = write(tmp_path, "vault_routes.py", VAULT_ROUTES)
    write(tmp_path, "secrets/vault", "file-secret-42\n")
    config = write(tmp_path, "eip.yaml", """
        properties:
          target: mock:out
          vault:
            password_file: secrets/vault
        shutdown_timeout: 3s
    """)
    result = invoke("run", str(routes), "--config", str(config), "--duration", "0")
    assert result.exit_code == 0, result.output
    [engine] = vault
    assert engine.route("secret-in").endpoint.values["password"] == "file-secret-42"
    assert engine.shutdown_timeout == 3.0
    assert "route 'secret-in' started: vault:in?password=xxxxxx -> mock:out" in result.output
    assert "file-secret-42" not in result.output


def test_run_masks_config_secrets_in_every_log_line(tmp_path, vault, monkeypatch):
    monkeypatch.setenv("VAULT_PW", "env-secret-77")
    routes = write(tmp_path, "leaky.py", """
        import logging
        from eip import RouteBuilder
        class Leaky(RouteBuilder):
            def configure(self):
                logging.getLogger("leaky").warning("the password is %s", "env-secret-77")
                self.from_("vault:in").route_id("leaky").to("mock:out")
    """)
    config = write(tmp_path, "eip.yaml", "properties:\n  vault:\n    password_env: VAULT_PW\n")
    result = invoke("run", str(routes), "--config", str(config), "--duration", "0")
    assert result.exit_code == 0, result.output
    assert "the password is xxxxxx" in result.output and "env-secret-77" not in result.output


def test_run_with_a_bad_config_starts_nothing_and_suggests_the_key(tmp_path, vault):
    routes = write(tmp_path, "good.py", GOOD)
    config = write(tmp_path, "eip.yaml", "sever:\n  port: 9000\n")
    result = invoke("run", str(routes), "--config", str(config), "--duration", "0")
    assert result.exit_code == 2
    assert "eip run: configuration:" in result.output and "did you mean 'server'?" in result.output
    assert vault == []
    result = invoke("run", str(routes), "--config", str(tmp_path / "missing.yaml"), "--duration", "0")
    assert result.exit_code == 2 and "missing.yaml does not exist" in result.output


def test_run_takes_the_config_from_eip_config_and_port_from_the_command_line(tmp_path, vault, monkeypatch):
    routes = write(tmp_path, "good.py", GOOD)
    config = write(tmp_path, "eip.yaml", "server:\n  port: 9\n  threads: 2\n")
    monkeypatch.setenv("EIP_CONFIG", str(config))
    monkeypatch.delenv("EIP_SERVER_PORT")
    result = invoke("run", str(routes), "--duration", "0", "--port", "0")
    assert result.exit_code == 0, result.output
    [engine] = vault
    assert engine.properties["server.port"] == 0 and engine.properties["server.threads"] == 2
    assert f"configuration from {config}" in result.output


def test_run_log_format_json_gives_one_object_per_line(tmp_path, vault):
    import json

    routes = write(tmp_path, "good.py", GOOD)
    result = invoke("run", str(routes), "--duration", "0", "--log-format", "json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert any(r["msg"].startswith("route 'greet' started") and r["logger"] == "eip.cli" for r in records)
    assert records[-1]["msg"] == "stopped"


def test_run_shows_progress_only_on_a_terminal_unless_asked(tmp_path, vault):
    from eip.logging_setup import ProgressReporter

    routes = write(tmp_path, "good.py", GOOD)
    assert invoke("run", str(routes), "--duration", "0").exit_code == 0
    assert invoke("run", str(routes), "--duration", "0", "--progress").exit_code == 0
    quiet, shown = vault
    assert not any(isinstance(s, ProgressReporter) for s in quiet.services)
    assert any(isinstance(s, ProgressReporter) for s in shown.services)


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_run_serves_the_management_api_configured_from_the_file(tmp_path):
    pytest.importorskip("eip.http_server")
    pytest.importorskip("eip.management")
    import requests

    routes = write(tmp_path, "greet.py", GOOD)
    config = write(tmp_path, "eip.yaml", """
        auth:
          api_keys:
            - key_env: OPS_KEY
              roles: [viewer]
    """)
    env = dict(os.environ, OPS_KEY="ops-key-5f2e9a71", EIP_SERVER_PORT="9")  # --port wins over both
    proc = subprocess.Popen([sys.executable, "-m", "eip.cli", "run", str(routes), "--config", str(config),
                             "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "route(s) running" in line:
                break
        url = next((re.search(r"http://127\.0\.0\.1:\d+", line) for line in lines
                    if "HTTP server listening" in line), None)
        assert url, "".join(lines)
        base = url.group(0)
        assert requests.get(f"{base}/health/live", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/routes", timeout=10).status_code == 401
        answer = requests.get(f"{base}/api/routes", headers={"X-API-Key": "ops-key-5f2e9a71"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert "greet" in answer.text
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + rest
    assert "ops-key-5f2e9a71" not in "".join(lines) + rest


# -- graph ---------------------------------------------------------------------------------------
def test_graph_prints_mermaid_by_default(tmp_path):
    result = CliRunner().invoke(cli.main, ["graph", str(write(tmp_path, "good.py", GOOD))])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart TB\n")
    assert 'subgraph cluster_1["route greet"]' in result.stdout
    assert '{"choice"}' in result.stdout and '|"otherwise"|' in result.stdout


def test_graph_writes_the_format_its_suffix_names_and_only_chosen_routes(tmp_path):
    routes = write(tmp_path, "good.py", GOOD)
    out = tmp_path / "routes.dot"
    result = invoke("graph", str(routes), "-o", str(out), "--route", "bye")
    assert result.exit_code == 0, result.output
    assert "1 route(s) drawn to" in result.output
    text = out.read_text()
    assert text.startswith("digraph routes {") and "route bye" in text and "route greet" not in text
    result = invoke("graph", str(routes), "--route", "nope")
    assert result.exit_code == 2 and "no route 'nope'; routes: greet, bye" in result.output
    result = invoke("graph", str(routes), "-o", str(tmp_path / "routes.txt"))
    assert result.exit_code == 2 and "cannot tell the format" in result.output


def test_graph_of_invalid_routes_lists_the_problems(tmp_path):
    path = write(tmp_path, "bad.py", """
        from eip import RouteBuilder, header
        class Misplaced(RouteBuilder):
            def configure(self):
                self.from_("direct:d").route_id("misplaced").when(header("x") == 1).to("mock:d")
    """)
    result = invoke("graph", str(path))
    assert result.exit_code == 2 and "when() outside a choice()" in result.output


def test_graph_draws_svg_and_png_files_with_graphviz(tmp_path, require_tool):
    require_tool("dot")
    routes = write(tmp_path, "good.py", GOOD)
    svg = tmp_path / "routes.svg"
    assert invoke("graph", str(routes), "-o", str(svg)).exit_code == 0
    assert "</svg>" in svg.read_text() and "route greet" in svg.read_text()
    png = tmp_path / "routes.png"
    assert invoke("graph", str(routes), "--format", "png", "-o", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_graph_svg_without_graphviz_says_to_install_it(tmp_path, monkeypatch):
    routes = write(tmp_path, "good.py", GOOD)
    monkeypatch.setenv("PATH", "")
    result = invoke("graph", str(routes), "--format", "svg")
    assert result.exit_code == 1
    assert "needs Graphviz's 'dot' program, which is not installed" in result.output
    assert "apt-get install graphviz" in result.output


def test_the_readme_route_diagram_is_current(require_tool):
    """routes/orders.svg is what `eip graph routes/orders.py -o routes/orders.svg` draws."""
    require_tool("dot")
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(cli.main, ["graph", str(root / "routes" / "orders.py"), "--format", "svg"])
    assert result.exit_code == 0, result.output
    drawn = html.unescape((root / "routes" / "orders.svg").read_text())
    fresh = html.unescape(result.stdout)
    # the routes, their shapes and labels; not byte equality (Graphviz versions differ in detail)
    for text in ("route order-generator", "route order-intake", "route order-totals", "choice",
                 "split", "merge parts", "aggregate", "dead letter channel",
                 "seda:orders?concurrent_consumers=2", "&block_when_full=true"):
        assert text in drawn and text in fresh, text


def test_run_masks_config_secrets_in_route_problems_too(tmp_path, vault, monkeypatch):
    monkeypatch.setenv("MOCK_TOKEN", "leaked-token-991")
    routes = write(tmp_path, "bad_option.py", """
        from eip import RouteBuilder
        class BadOption(RouteBuilder):
            def configure(self):
                self.from_("direct:a").route_id("bad").to("mock:out?retain_first={{mock.token}}")
    """)
    config = write(tmp_path, "eip.yaml", "properties:\n  mock:\n    token_env: MOCK_TOKEN\n")
    result = invoke("run", str(routes), "--config", str(config), "--duration", "0")
    assert result.exit_code == 2
    assert "option 'retain_first' expects int" in result.output
    assert "leaked-token-991" not in result.output and "xxxxxx" in result.output


# -- issue 9, item 26: config problems at once, validate --config, pika's chatter ---------------------
def test_validate_takes_the_config_so_placeholders_validate_as_they_will_run(tmp_path, vault, monkeypatch):
    monkeypatch.delenv("EIP_TARGET", raising=False)
    monkeypatch.delenv("EIP_VAULT_PASSWORD", raising=False)
    routes = write(tmp_path, "vault_routes.py", VAULT_ROUTES)
    without = invoke("validate", str(routes))
    assert without.exit_code == 2
    assert "'{{vault.password}}'" in without.output and "has no value" in without.output
    write(tmp_path, "secrets/vault", "file-secret-42\n")
    config = write(tmp_path, "eip.yaml", """
        properties:
          target: mock:out
          vault:
            password_file: secrets/vault
    """)
    result = invoke("validate", str(routes), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"OK: 1 route(s) valid with the configuration {config}" in result.output
    wrong = write(tmp_path, "wrong.yaml", "properties:\n  target: nowhere:out\n  vault: {password: x}\n")
    result = invoke("validate", str(routes), "--config", str(wrong))
    assert result.exit_code == 2 and "nowhere" in result.output


def test_validate_reports_every_config_problem_with_its_line(tmp_path, vault):
    routes = write(tmp_path, "good.py", GOOD)
    config = write(tmp_path, "eip.yaml", "sever: {}\nserver:\n  threads: many\nlogging:\n  levle: info\n")
    result = invoke("validate", str(routes), "--config", str(config))
    assert result.exit_code == 2
    assert "invalid configuration: 3 problems:" in result.output
    assert f"  - {config}:1: unknown key 'sever'; did you mean 'server'?" in result.output
    assert f"  - {config}:3: server.threads: expects an integer (got 'many')" in result.output
    assert f"  - {config}:5: logging: unknown key 'levle'; did you mean 'level'?" in result.output


def test_run_reports_every_config_problem_at_once(tmp_path, vault):
    routes = write(tmp_path, "good.py", GOOD)
    config = write(tmp_path, "eip.yaml", """\
        amqp:
          url: amqp://app@rabbit/
          pasword_env: AMQP_PW
        shutdown_timeout: soon
    """)
    result = invoke("run", str(routes), "--config", str(config), "--duration", "0")
    assert result.exit_code == 2
    assert "eip run: configuration: 2 problems:" in result.output
    assert f"{config}:3: amqp: unknown key 'pasword_env'; did you mean 'password_env'?" in result.output
    assert f"{config}:4: shutdown_timeout: not a duration" in result.output
    assert not vault  # nothing was built, let alone started


def test_run_keeps_pikas_info_chatter_out_of_the_log(tmp_path, rabbitmq_service):
    url = f"amqp://guest:guest@{rabbitmq_service.host}:{rabbitmq_service.port}"  # default virtual host
    routes = write(tmp_path, "bridge.py", f"""
        from eip import RouteBuilder
        class Bridge(RouteBuilder):
            def configure(self):
                (self.from_("amqp:queue:eip-cli-pika-chatter?declare=true&auto_delete=true&url={url}")
                    .route_id("bridge").to("mock:out"))
    """)
    result = invoke("run", str(routes), "--duration", "0", "--log-format", "logfmt", "--log-level", "INFO")
    assert result.exit_code == 0, result.output
    assert "route 'bridge' started" in result.output
    assert "logger=pika" not in result.output  # pika logs its connection steps at INFO
    debug = invoke("run", str(routes), "--duration", "0", "--log-format", "logfmt", "--log-level", "DEBUG")
    assert debug.exit_code == 0 and "logger=pika" in debug.output
