"""The component registry: schemes found through the ``eip.components`` entry-point group.

Each engine owns one registry. A test can build an empty one (``ComponentRegistry(load_entry_points=False)``)
and register only what it needs. A plugin that fails to load is reported by name.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from eip.errors import ConfigurationError, UnknownComponentError
from eip.options import suggest

GROUP = "eip.components"


class ComponentRegistry:
    """Maps URI schemes to component classes; loads entry points on first use."""

    def __init__(self, load_entry_points: bool = True) -> None:
        self._classes: dict[str, Any] = {}
        self._entry_points: dict[str, Any] = {}
        if load_entry_points:
            for ep in entry_points(group=GROUP):
                self._entry_points.setdefault(ep.name, ep)

    def register(self, scheme: str, component_class: Any) -> None:
        from eip.component import Component

        if not (isinstance(component_class, type) and issubclass(component_class, Component)):
            raise ConfigurationError(
                f"component for scheme '{scheme}' must be a Component subclass, got {component_class!r}"
            )
        self._classes[scheme.lower()] = component_class

    def schemes(self) -> list[str]:
        return sorted(set(self._classes) | set(self._entry_points))

    def get(self, scheme: str) -> Any:
        scheme = scheme.lower()
        cls = self._classes.get(scheme)
        if cls is not None:
            return cls
        ep = self._entry_points.get(scheme)
        if ep is None:
            raise UnknownComponentError(
                f"no component for scheme '{scheme}'"
                f"{suggest(scheme, self.schemes()).replace('valid options', 'known schemes')}"
            )
        try:
            cls = ep.load()
        except Exception as exc:
            raise ConfigurationError(f"component plugin '{scheme}' ({ep.value}) failed to load: {exc}") from exc
        self.register(scheme, cls)
        return cls
