"""Find the route classes to run: every ``RouteBuilder`` subclass in files, folders or modules.

``eip run``, ``eip validate`` and ``eip routes`` take paths the same way:

* a ``.py`` file is imported under a private module name (its folder is not put on
  ``sys.path``, so a file cannot shadow an installed module);
* a folder is a package when it holds ``__init__.py`` (imported with its sub-modules, so relative
  imports work), else every ``*.py`` file in it not starting with ``_`` is loaded as above;
* anything else that looks like a dotted name (``mycompany.routes``) is imported as a module
  (a package also brings its sub-modules).

A class counts when it is defined in the loaded module (not merely imported into it), overrides
``configure()``, and its name does not start with ``_``. It is created with no arguments.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from eip.dsl import FunctionRouteBuilder, RouteBuilder
from eip.errors import ConfigurationError

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class RouteLoadError(ConfigurationError):
    """A path or module given to the loader cannot be found or imported."""


@dataclass(frozen=True)
class LoadedBuilder:
    """One route class found by the loader, with where it came from."""

    cls: type[RouteBuilder]
    source: str  # the file or module it was defined in

    @property
    def name(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


def load_module(path: str | Path) -> ModuleType:
    """Import the Python file ``path`` under a private, stable module name (cached)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise RouteLoadError(f"no such file: {path}")
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"_eip_routes_{digest}.{_identifier(file.stem)}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    parent = name.rpartition(".")[0]
    if parent not in sys.modules:  # a namespace for the private names, so pickling and dataclasses work
        holder = ModuleType(parent)
        holder.__path__ = []  # type: ignore[attr-defined]
        sys.modules[parent] = holder
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise RouteLoadError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise RouteLoadError(f"cannot import {path}: {type(exc).__name__}: {exc}") from exc
    return module


def _identifier(text: str) -> str:
    ident = re.sub(r"\W", "_", text)
    return ident if not ident[:1].isdigit() else f"_{ident}"


def _import_package(folder: Path) -> list[ModuleType]:
    """Import the package ``folder`` (its parent goes on ``sys.path``) and all its sub-modules."""
    parent = str(folder.parent.resolve())
    if parent not in sys.path:
        sys.path.insert(0, parent)
    return _import_dotted(folder.name, str(folder))


def _import_dotted(name: str, shown: str) -> list[ModuleType]:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise RouteLoadError(f"no such file, folder or module: {shown}") from exc
        raise RouteLoadError(f"cannot import {shown}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise RouteLoadError(f"cannot import {shown}: {type(exc).__name__}: {exc}") from exc
    modules = [module]
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{module.__name__}."):
            if info.name.rpartition(".")[2].startswith("_"):
                continue
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as exc:
                raise RouteLoadError(f"cannot import {info.name}: {type(exc).__name__}: {exc}") from exc
    return modules


def modules_for(spec: str | Path) -> list[tuple[ModuleType, str]]:
    """The modules one command-line argument stands for, each with a name to show."""
    path = Path(spec)
    if path.is_file():
        return [(load_module(path), str(path))]
    if path.is_dir():
        if (path / "__init__.py").is_file():
            return [(module, getattr(module, "__file__", None) or module.__name__) for module in _import_package(path)]
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        return [(load_module(file), str(file)) for file in files]
    text = str(spec)
    if _MODULE_NAME.match(text) and not text.endswith(".py"):
        return [(module, module.__name__) for module in _import_dotted(text, text)]
    raise RouteLoadError(f"no such file, folder or module: {text}")


def builders_in(module: ModuleType) -> list[type[RouteBuilder]]:
    """Route classes defined in ``module``, in source order."""
    found = []
    for value in vars(module).values():
        if not (isinstance(value, type) and issubclass(value, RouteBuilder)):
            continue
        if value in (RouteBuilder, FunctionRouteBuilder) or value.__module__ != module.__name__:
            continue
        if value.__name__.startswith("_") or inspect.isabstract(value):
            continue
        if value.configure is RouteBuilder.configure:
            continue
        found.append(value)
    return sorted(found, key=_source_line)


def _source_line(cls: type) -> int:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return 0


def find_builders(specs: list[str | Path]) -> list[LoadedBuilder]:
    """Every route class in the given files, folders or modules (each class once)."""
    seen: set[type] = set()
    result = []
    for spec in specs:
        for module, shown in modules_for(spec):
            for cls in builders_in(module):
                if cls not in seen:
                    seen.add(cls)
                    result.append(LoadedBuilder(cls, shown))
    return result


def instantiate(loaded: LoadedBuilder) -> RouteBuilder:
    """Create the route class with no arguments; a class that needs some is an error naming it."""
    try:
        return loaded.cls()
    except TypeError as exc:
        raise RouteLoadError(
            f"{loaded.name} ({loaded.source}) cannot be created without arguments: {exc}; give its parameters defaults"
        ) from exc
