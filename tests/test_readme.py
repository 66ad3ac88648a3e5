"""README.md is executed: its Python examples run, and its two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from eip import Engine

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
FIRST_SCREEN_LINES = 30


def blocks(language: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced block in ``language``."""
    text = README.read_text()
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) == language:
            line = text.count("\n", 0, match.start(2)) + 1
            found.append((line, match.group(2)))
    return found


def commands() -> tuple[str, str]:
    """The run command and the test command from the README's first screen."""
    first = [(line, code.strip()) for line, code in blocks("bash") if line <= FIRST_SCREEN_LINES]
    run = [code for _, code in first if " run " in code]
    test = [code for _, code in first if code.endswith("pytest")]
    assert len(run) == 1 and len(test) == 1, f"expected one run and one test command on the first screen: {first}"
    return run[0], test[0]


def test_python_examples_run():
    """Every ```python block runs, in order, in one namespace (like a reader pasting them);
    then each ``test_*`` function the README defines is called with a fresh engine."""
    python = blocks("python")
    assert len(python) >= 3
    namespace: dict = {"__name__": "readme_examples"}
    for line, code in python:
        exec(compile("\n" * (line - 1) + code, str(README), "exec"), namespace)  # noqa: S102
    tests = [fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    assert tests, "the README shows how to write a test"
    for fn in tests:
        engine = Engine()
        try:
            fn(engine)
        finally:
            engine.stop()


def test_first_screen_has_the_two_commands_for_a_fresh_checkout():
    run, test = commands()
    for command in (run, test):
        assert "\n" not in command, "one line a user can paste"
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e ")
    assert " .venv/bin/eip run routes " in run and "--duration" in run
    assert (ROOT / "routes").is_dir()
    assert "'.[test]'" in test


def test_ci_runs_the_readme_test_command_exactly():
    _, test = commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci
    assert "EIP_REQUIRE_SERVICES=1" in ci
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run is executable"


def test_yaml_config_examples_load(tmp_path):
    """Every ```yaml block is a config file ``eip run --config`` accepts, as written: its
    ``*_env`` variables are set and its ``*_file`` secrets point at a real file, nothing else."""
    from eip.config import load_config

    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    examples = blocks("yaml")
    assert examples, "the README shows the config file"
    for line, code in examples:
        environ = {name: "s3cret" for name in re.findall(r"^\s*-?\s*\w+_env:\s*(\w+)", code, re.MULTILINE)}
        text = re.sub(r"^(\s*-?\s*\w+_file:\s*)(\S+)", lambda m: m.group(1) + str(secret), code,
                      flags=re.MULTILINE)
        path = tmp_path / f"readme-{line}.yaml"
        path.write_text(text)
        try:
            load_config(path, environ=environ)
        except Exception as exc:  # noqa: BLE001 - report which block, then fail
            raise AssertionError(f"README.md line {line}: the config example is refused: {exc}") from exc


def test_every_aggregate_and_redelivery_option_is_documented():
    """The option tables cover every option the DSL takes (names from the definitions)."""
    from dataclasses import fields

    from eip import model

    text = README.read_text()
    base = {f.name for f in fields(model.Block)} | {"correlation", "strategy"}
    options = [f.name for f in fields(model.Aggregate) if f.name not in base]
    options += [f.name for f in fields(model.RedeliveryPolicy)]
    missing = [name for name in options if f"| `{name}` |" not in text]
    assert not missing, f"README.md has no table row for: {missing}"
    assert 'tokenize(separator=",", group=1)' in text
