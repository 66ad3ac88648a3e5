"""File names: ``${file:...}`` templates, done-file markers, ant globs and the unsafe-name check."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from eip.errors import ConfigurationError, UnsafeFileNameError
from eip.exchange import Exchange
from eip.simple_language import compile_template

_ANY_TOKEN = re.compile(r"\$\{([^}]*)\}")


def split_ext(leaf: str, single: bool = False) -> tuple[str, str]:
    """``leaf`` as (stem, extension with its dot). The extension starts at the first dot (at the
    last one with ``single``); a leading dot (a hidden file) starts no extension."""
    dot = leaf.rfind(".") if single else leaf.find(".", 1)
    return (leaf, "") if dot <= 0 else (leaf[:dot], leaf[dot:])


def _noext(name: str, single: bool) -> str:
    head, sep, leaf = name.rpartition("/")
    return head + sep + split_ext(leaf, single)[0]


def ext(name: str, single: bool = False) -> str:
    """The extension of the last segment of ``name``, without its dot ('' when it has none)."""
    return split_ext(name.rpartition("/")[2], single)[1][1:]


#: ``${file:TOKEN}`` -> value from a file's attributes (name, onlyname, parent, path, length, modified).
FILE_TOKENS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "name": lambda f: f["name"],
    "name.noext": lambda f: _noext(f["name"], False),
    "name.noext.single": lambda f: _noext(f["name"], True),
    "name.ext": lambda f: ext(f["name"], False),
    "name.ext.single": lambda f: ext(f["name"], True),
    "ext": lambda f: ext(f["name"], False),
    "onlyname": lambda f: f["onlyname"],
    "onlyname.noext": lambda f: _noext(f["onlyname"], False),
    "onlyname.noext.single": lambda f: _noext(f["onlyname"], True),
    "parent": lambda f: f["parent"],
    "path": lambda f: f["path"],
    "absolute.path": lambda f: f["path"],
    "length": lambda f: f["length"],
    "size": lambda f: f["length"],
    "modified": lambda f: f["modified"],
}

#: A done file sits next to its file, so ``${file:name}`` there is the name without folders (Camel).
DONE_TOKENS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "name": lambda f: f["onlyname"],
    "name.noext": lambda f: _noext(f["onlyname"], False),
    "onlyname": lambda f: f["onlyname"],
    "onlyname.noext": lambda f: _noext(f["onlyname"], False),
}


class MissingValueError(ValueError):
    """A template token had no value (a missing header, say)."""


class FileTemplate:
    """A ``${...}`` template whose ``${file:...}`` tokens read a file's attributes; every other
    token is Simple (``${header.x}``, ``${date:now:%Y%m%d}``...). Rendering raises
    MissingValueError when a token has no value, rather than writing an empty name."""

    def __init__(self, text: str, file_tokens: Mapping[str, Callable[[Mapping[str, Any]], Any]] = FILE_TOKENS) -> None:
        self.text = text
        self.parts: list[tuple[str, Any]] = []
        pos = 0
        for match in _ANY_TOKEN.finditer(text):
            if match.start() > pos:
                self.parts.append(("text", text[pos : match.start()]))
            token = match.group(1).strip()
            if token.startswith("file:"):
                getter = file_tokens.get(token[5:])
                if getter is None:
                    raise ConfigurationError(
                        f"template {text!r}: unknown token ${{{token}}} (known: "
                        + ", ".join(f"${{file:{k}}}" for k in file_tokens)
                        + ")"
                    )
                self.parts.append(("file", (match.group(0), getter)))
            else:
                self.parts.append(("simple", (match.group(0), compile_template(match.group(0)))))
            pos = match.end()
        if pos < len(text):
            self.parts.append(("text", text[pos:]))

    @property
    def dynamic(self) -> bool:
        return any(kind != "text" for kind, _ in self.parts)

    def render(self, exchange: Exchange | None, file: Mapping[str, Any]) -> str:
        out = []
        for kind, part in self.parts:
            if kind == "text":
                out.append(part)
                continue
            token, getter = part
            try:
                value = getter(file) if kind == "file" else getter(exchange)
            except (TypeError, AttributeError, KeyError):  # a file attribute that is not known here
                value = None
            if value is None or value == "":
                raise MissingValueError(f"{token} has no value")
            out.append(str(value))
        return "".join(out)


def done_file_regex(template: str) -> re.Pattern[str]:
    """Matches the names ``done_file_name`` can produce, so marker files are never consumed."""
    pattern = re.escape(template)
    for token in ("name.noext", "onlyname.noext", "onlyname", "name"):
        pattern = pattern.replace(re.escape(f"${{file:{token}}}"), ".+")
    return re.compile(pattern + r"\Z")


def glob_regexes(patterns: str) -> list[re.Pattern[str]]:
    """Comma-separated ant-style globs (``ant_include``/``ant_exclude``) as regexes."""
    return [glob_regex(p.strip()) for p in patterns.split(",") if p.strip()]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """An ant-style glob as a regex: ``**/`` any folders, ``*`` and ``?`` within one segment."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def check_relative_name(name: Any, *, uri: str, folder: str, source: str) -> str:
    """``name`` as a safe relative path inside ``folder`` (with ``/`` separators), or raise
    UnsafeFileNameError naming the endpoint, the name and where it came from."""

    def unsafe(why: str) -> UnsafeFileNameError:
        return UnsafeFileNameError(
            f"unsafe file name {name!r} (from {source}): {why}; it must stay inside the folder '{folder}'",
            uri=uri,
            path=str(name),
        )

    if not isinstance(name, str):
        name = str(name)
    if not name:
        raise unsafe("it is empty")
    if "\x00" in name:
        raise unsafe("it contains a NUL character")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or os.path.isabs(name) or re.match(r"^[A-Za-z]:", posix):
        raise unsafe("it is an absolute path")
    segments = [s for s in posix.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise unsafe("'..' would leave the folder")
    if not segments or posix.endswith("/"):
        raise unsafe("it names a folder, not a file")
    return "/".join(segments)
