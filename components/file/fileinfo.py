"""A file found by a poll: its ``${file:...}`` attributes and headers, sort keys, move destinations."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from components.file.fileops import under
from components.file.names import FileTemplate, ext
from eip import constants as c
from eip.exchange import Exchange


@dataclass(slots=True)
class FileInfo:
    """A file found by a poll."""

    path: str  # absolute, where it was found
    relative: str  # relative to the input folder, "/"-separated
    name: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """The idempotent key: absolute path, size and modification time."""
        return f"{self.path}|{self.size}|{self.mtime_ns}"

    def attributes(self, path: str | None = None) -> dict[str, Any]:
        """What ``${file:...}`` tokens read."""
        path = path or self.path
        return {
            "name": self.relative,
            "onlyname": self.name,
            "parent": os.path.dirname(path),
            "path": path,
            "length": self.size,
            "modified": self.mtime_ns // 1_000_000,
        }

    def headers(self, path: str) -> dict[str, Any]:
        return {
            c.FILE_NAME: self.relative,
            c.FILE_NAME_ONLY: self.name,
            c.FILE_NAME_CONSUMED: self.relative,
            c.FILE_RELATIVE_PATH: self.relative,
            c.FILE_ABSOLUTE_PATH: path,
            c.FILE_PARENT: os.path.dirname(path),
            c.FILE_LENGTH: self.size,
            c.FILE_LAST_MODIFIED: self.mtime_ns // 1_000_000,
        }


_SORT_KEYS: dict[str, Callable[[FileInfo], Any]] = {
    "name": lambda f: f.relative,
    "onlyname": lambda f: f.name,
    "ext": lambda f: ext(f.name, False),
    "length": lambda f: f.size,
    "size": lambda f: f.size,
    "modified": lambda f: f.mtime_ns,
}


def parse_sort(text: str) -> list[tuple[Callable[[FileInfo], Any], bool]]:
    """``sort_by`` as (key, reverse) pairs, most significant first; ValueError for an unknown key."""
    keys = []
    for group in (g.strip() for g in text.split(";")):
        if not group:
            continue
        reverse = ignore_case = False
        if group.startswith("reverse:"):
            reverse, group = True, group[8:]
        if group.startswith(("ignoreCase:", "ignore_case:")):
            ignore_case, group = True, group.partition(":")[2]
        name = group.removeprefix("file:")
        getter = _SORT_KEYS.get(name)
        if getter is None:
            raise ValueError(
                f"unknown sort key {group!r} (use file:name, file:onlyname, file:ext, "
                "file:length or file:modified, optionally prefixed reverse: and ignoreCase:)"
            )
        if ignore_case:
            getter = partial(lambda g, f: str(g(f)).lower(), getter)
        keys.append((getter, reverse))
    return keys


class Destination:
    """Where ``move``/``move_failed``/``pre_move`` put a file: a folder, or a path template.

    A rendered template stays inside the folder its fixed part names (``.done/${header.x}``
    cannot leave ``.done``). ``root`` is where moves start refusing symbolic links: the input
    folder when the destination is inside it, else the destination's own fixed folder."""

    def __init__(self, spec: str, folder: str, option: str) -> None:
        self.spec = spec
        self.template = FileTemplate(spec) if "${" in spec else None
        self.folder = None if self.template else os.path.normpath(os.path.join(folder, spec))
        self.base = folder
        self.option = option
        fixed = self.folder or os.path.normpath(os.path.join(folder, os.path.dirname(spec[: spec.index("${")])))
        self.confine = fixed
        self.root = folder if under(folder, fixed) is not None else fixed

    def target(self, info: FileInfo, exchange: Exchange | None) -> str:
        if self.template is None:
            assert self.folder is not None
            return os.path.join(self.folder, *info.relative.split("/"))
        rendered = self.template.render(exchange, info.attributes())
        if "\x00" in rendered:
            raise ValueError(f"{self.option} rendered a name with a NUL character: {rendered!r}")
        target = os.path.normpath(os.path.join(self.base, rendered))
        if not under(self.confine, target):
            raise ValueError(f"{self.option} rendered {rendered!r}, which is not a file inside '{self.confine}'")
        return target
