"""``file:FOLDER``: the endpoint, its options and the component."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from components.file.consumer import FileConsumer
from components.file.fileinfo import Destination, FileInfo, parse_sort
from components.file.names import (
    DONE_TOKENS,
    FileTemplate,
    MissingValueError,
    done_file_regex,
    glob_regexes,
)
from components.file.producer import FileProducer
from eip import constants as c
from eip.component import Component, Consumer, Processor, Producer
from eip.errors import ConfigurationError, EndpointOptionError, FileOperationError
from eip.exchange import Exchange
from eip.options import Option, OptionSpec
from eip.polling import POLLING_OPTIONS, ScheduledPollEndpoint
from eip.repositories.idempotent import MemoryIdempotentRepository

READ_LOCKS = ("none", "changed", "rename")
FILE_EXIST = ("override", "append", "fail", "ignore")

FILE_OPTIONS: tuple[Option, ...] = (
    # consumer
    Option("recursive", "bool", False, "Consumer: also consume files in subfolders."),
    Option("include", "str", "", "Consumer: regex the whole file name must match (ignoring case)."),
    Option("exclude", "str", "", "Consumer: regex; files whose name matches are skipped (ignoring case)."),
    Option(
        "ant_include", "str", "", "Consumer: comma-separated globs (*, ?, ** for folders) the relative path must match."
    ),
    Option("ant_exclude", "str", "", "Consumer: comma-separated globs; matching relative paths are skipped."),
    Option("noop", "bool", False, "Consumer: leave files where they are (implies idempotent)."),
    Option("delete", "bool", False, "Consumer: delete a file once it was processed, instead of moving it."),
    Option(
        "move",
        "str",
        ".done",
        "Consumer: folder (relative to the input folder) or ${...} path a processed file moves to.",
    ),
    Option(
        "move_failed",
        "str",
        ".error",
        "Consumer: where a file whose exchange failed moves to; empty leaves it to be retried.",
    ),
    Option(
        "pre_move", "str", "", "Consumer: in-progress folder a file moves to before the route runs; recovered on start."
    ),
    Option(
        "sort_by",
        "str",
        "file:name",
        "Consumer: sort keys file:name|onlyname|ext|length|modified, ';'-separated, each optionally "
        "prefixed reverse: and/or ignoreCase:.",
    ),
    Option(
        "read_lock",
        "str",
        "none",
        "Consumer: how to tell a file is complete (see the component doc).",
        choices=READ_LOCKS,
    ),
    Option(
        "read_lock_check_interval",
        "duration",
        1.0,
        "Consumer, read_lock=changed: how long size and mtime must stay the same.",
    ),
    Option(
        "read_lock_min_age",
        "duration",
        0.0,
        "Consumer, read_lock=changed: take a file once it is this old instead (0 = use the interval).",
    ),
    Option("read_lock_min_length", "int", 1, "Consumer, read_lock=changed: smallest size accepted, in bytes."),
    Option("idempotent", "bool", False, "Consumer: skip a file already consumed (same absolute path, size and mtime)."),
    Option("idempotent_cache_size", "int", 1000, "Consumer: keys the in-memory idempotent LRU keeps."),
    Option(
        "done_file_name",
        "str",
        "",
        "Consumer: only take a file when this marker exists next to it (${file:name}.done, ...).",
    ),
    Option("auto_create", "bool", True, "Consumer: create the input folder when it does not exist."),
    # both
    Option("charset", "str", "utf-8", "Charset to decode the body (consumer) and encode str bodies (producer)."),
    Option(
        "follow_symlinks",
        "bool",
        False,
        "Follow symbolic links that stay inside the folder; by default the consumer skips links "
        "(one warning each) and the producer refuses to write through one.",
    ),
    # producer
    Option(
        "file_name", "str", "", "Producer: name template (${header.order_id}.json); default: the CamelFileName header."
    ),
    Option("file_exist", "str", "override", "Producer: what to do when the file exists.", choices=FILE_EXIST),
    Option("mkdirs", "bool", True, "Producer: create missing folders before writing."),
    Option("force_writes", "bool", True, "Producer: fsync each file before it is renamed into place."),
    Option("allow_null_body", "bool", False, "Producer: write an empty file for a None body instead of failing."),
)


class FileEndpoint(ScheduledPollEndpoint):
    """``file:FOLDER`` (relative to the working directory, or absolute: ``file:/data/in``)."""

    options = OptionSpec(POLLING_OPTIONS + FILE_OPTIONS)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        path = self.parsed.path
        path = path.removeprefix("//")
        if not path:
            raise EndpointOptionError(f"endpoint '{self.uri}': a folder is required (file:inbox, file:/data/in)")
        self.folder = os.path.abspath(path)
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self._idempotent_repository: MemoryIdempotentRepository | None = None

    # -- configuration ------------------------------------------------------------------------
    def validate(self) -> None:
        super().validate()
        values, uri = self.values, self.uri

        def bad(message: str) -> EndpointOptionError:
            return EndpointOptionError(f"endpoint '{uri}': {message}")

        given = self.given
        if values["noop"] and values["delete"]:
            raise bad("noop=true and delete=true contradict each other (noop leaves files where they are)")
        if values["noop"] and ("move" in given or values["pre_move"]):
            raise bad("noop=true leaves files where they are: drop move/pre_move, or noop")
        if values["delete"] and "move" in given:
            raise bad("delete=true and move are exclusive: a processed file is either deleted or moved")
        for name in ("read_lock_check_interval", "read_lock_min_age", "read_lock_min_length", "idempotent_cache_size"):
            if values[name] < 0 or (name == "idempotent_cache_size" and values[name] < 1):
                raise bad(f"{name} must not be {'negative' if values[name] < 0 else 'zero'}, got {values[name]}")
        try:
            self.include = re.compile(values["include"], re.IGNORECASE) if values["include"] else None
            self.exclude = re.compile(values["exclude"], re.IGNORECASE) if values["exclude"] else None
        except re.error as exc:
            raise bad(f"include/exclude must be regular expressions: {exc}") from None
        self.ant_include = glob_regexes(values["ant_include"])
        self.ant_exclude = glob_regexes(values["ant_exclude"])
        try:
            self.sort_keys = parse_sort(values["sort_by"])
        except ValueError as exc:
            raise bad(f"sort_by: {exc}") from None
        try:
            self.move = Destination(values["move"] or ".done", self.folder, "move")
            self.move_failed = (
                Destination(values["move_failed"], self.folder, "move_failed") if values["move_failed"] else None
            )
            if values["pre_move"] and "${" in values["pre_move"]:
                raise bad("pre_move must be a folder, not a template (its files are recovered on start)")
            self.pre_move = Destination(values["pre_move"], self.folder, "pre_move") if values["pre_move"] else None
            self.file_name = FileTemplate(values["file_name"]) if values["file_name"] else None
            done = values["done_file_name"]
            if done and ("/" in done or "\\" in done):
                raise bad(f"done_file_name {done!r} must be a name in the same folder, without '/'")
            self.done_template = FileTemplate(done, DONE_TOKENS) if done else None
        except ConfigurationError as exc:
            if isinstance(exc, EndpointOptionError):
                raise
            raise bad(exc.detail) from None
        if self.done_template is not None and any(k == "simple" for k, _ in self.done_template.parts):
            raise bad(
                "done_file_name supports only ${file:name}, ${file:name.noext}, ${file:onlyname} "
                "and ${file:onlyname.noext}"
            )
        self.done_regex = done_file_regex(done) if done else None
        self.skip_dirs = {
            d.folder for d in (self.move, self.move_failed, self.pre_move) if d is not None and d.folder is not None
        }
        self.idempotent = values["idempotent"] or values["noop"]

    @property
    def idempotent_repository(self) -> MemoryIdempotentRepository:
        if self._idempotent_repository is None:
            self._idempotent_repository = MemoryIdempotentRepository(self.values["idempotent_cache_size"])
        return self._idempotent_repository

    def name_matches(self, name: str, relative: str) -> bool:
        if self.include is not None and not self.include.fullmatch(name):
            return False
        if self.exclude is not None and self.exclude.fullmatch(name):
            return False
        if self.ant_include and not any(p.match(relative) for p in self.ant_include):
            return False
        if self.ant_exclude and any(p.match(relative) for p in self.ant_exclude):
            return False
        return not (self.done_regex is not None and self.done_regex.match(name))

    def done_file_for(self, info: FileInfo) -> str:
        assert self.done_template is not None
        return os.path.join(os.path.dirname(info.path), self.done_template.render(None, info.attributes()))

    def prepare_folder(self) -> None:
        """Create the input folder (``auto_create``) or raise a clear error when it is missing."""
        if os.path.isdir(self.folder):
            return
        if os.path.exists(self.folder):
            raise FileOperationError(f"'{self.folder}' is not a folder", uri=self.uri, path=self.folder)
        if not self.values["auto_create"]:
            raise FileOperationError(
                f"input folder '{self.folder}' does not exist (auto_create=false)", uri=self.uri, path=self.folder
            )
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as exc:
            raise FileOperationError(
                f"cannot create input folder '{self.folder}': {exc.strerror or exc}", uri=self.uri, path=self.folder
            ) from exc

    # -- files whose exchange is running --------------------------------------------------------
    def claim(self, path: str) -> bool:
        with self._in_flight_lock:
            if path in self._in_flight:
                return False
            self._in_flight.add(path)
            return True

    def release(self, path: str) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(path)

    def is_in_flight(self, path: str) -> bool:
        return path in self._in_flight

    def in_flight_count(self) -> int:
        return len(self._in_flight)

    # -- producer side ------------------------------------------------------------------------
    def target_name(self, exchange: Exchange) -> tuple[Any, str]:
        """The name to write and where it came from (for error messages)."""
        headers = exchange.message.headers
        if self.file_name is not None:
            produced = headers.get(c.FILE_NAME)
            attributes = {
                "name": produced,
                "onlyname": None if produced is None else os.path.basename(str(produced)),
                "parent": headers.get(c.FILE_PARENT),
                "path": headers.get(c.FILE_ABSOLUTE_PATH),
                "length": headers.get(c.FILE_LENGTH),
                "modified": headers.get(c.FILE_LAST_MODIFIED),
            }
            source = f"file_name template {self.file_name.text!r}"
            try:
                return self.file_name.render(exchange, attributes), source
            except MissingValueError as exc:
                raise FileOperationError(f"cannot name the file: {source}: {exc}", uri=self.uri) from None
        name = headers.get(c.FILE_NAME)
        if name is not None:
            return name, f"header {c.FILE_NAME}"
        return exchange.message.message_id, "the message id (no file_name option, no CamelFileName header)"

    def create_producer(self) -> Producer:
        return FileProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        return FileConsumer(self, processor)


class FileComponent(Component):
    """file:FOLDER - consume files from a folder (moved to .done/.error after the route), or write files."""

    endpoint_class = FileEndpoint

    # As in Camel: ``file:out`` and ``file:out?file_name=x`` write differently and must not
    # share (or merge) options.
    options_identify_endpoint = True
