"""The lazy file body: a reference to a file on disk, read only when and as far as needed.

The file consumer puts a :class:`FileBody` in the message instead of the file's content, so a
1 GB file costs nothing until a step asks for it:

* ``read_bytes()`` / ``read_text()`` load the whole file (``convert_body_to(str)``, ``unmarshal``
  and ``${body}`` templates do this through the type conversion);
* ``iter_tokens(separator)`` streams tokens in constant memory: ``split(body().tokenize("\\n"),
  streaming=True)`` reads one line at a time. Iterating the body yields its lines;
* ``iter_records(length)`` streams fixed-length binary records (mainframe files);
* ``iter_chunks()`` / ``copy_to(fileobj)`` stream raw bytes (the file producer copies a
  ``FileBody`` this way, never reading it whole).

Tokens follow the same rules as ``tokenize`` on a ``str`` body: with ``"\\n"`` a trailing
``"\\r"`` is dropped and empty lines are skipped; any other separator keeps empty tokens, as
``str.split`` does. Text is decoded with the body's ``charset`` (the endpoint's ``charset``).

Errors name the file and the endpoint: an unreadable or vanished file, or bytes that do not
decode in the charset, raise :class:`eip.errors.FileOperationError`. The consumer keeps the
body pointing at the file when it moves it (to ``.done`` after the route, say), so a body
kept by a mock endpoint can still be read afterwards; a deleted file cannot. With
``follow_symlinks=False`` (what the file consumer passes unless its endpoint follows links) a
path that is a symbolic link is never opened, even one swapped in after the poll looked.
"""

from __future__ import annotations

import codecs
import errno
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from eip.errors import FileOperationError

CHUNK_SIZE = 1 << 20  # 1 MiB: big enough for throughput, small enough for constant memory
_TEXT_CHUNK = 1 << 16


class FileBody:
    """A file on disk as a message body; converts to bytes, text or tokens on demand."""

    __slots__ = ("_path", "charset", "endpoint_uri", "follow_symlinks")

    def __init__(
        self,
        path: str | os.PathLike[str],
        charset: str = "utf-8",
        endpoint_uri: str | None = None,
        follow_symlinks: bool = True,
    ) -> None:
        self._path = os.fspath(path)
        self.charset = charset
        self.endpoint_uri = endpoint_uri
        self.follow_symlinks = follow_symlinks

    # -- where --------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The file's current absolute or relative path (follows moves made by the consumer)."""
        return self._path

    @property
    def name(self) -> str:
        return os.path.basename(self._path)

    def relocate(self, path: str | os.PathLike[str]) -> None:
        """The file was moved to ``path`` (the consumer calls this); reads follow it."""
        self._path = os.fspath(path)

    def __fspath__(self) -> str:
        return self._path

    @property
    def size(self) -> int:
        try:
            return os.stat(self._path).st_size
        except OSError as exc:
            raise self._error("cannot stat", exc) from exc

    # -- whole content ------------------------------------------------------------------------
    def open(self, mode: str = "rb") -> IO[Any]:
        """Open the file for reading (``"rb"``, or ``"r"`` for text in the body's charset)."""
        if any(flag in mode for flag in "wax+"):
            raise ValueError(f"FileBody.open is for reading only, got mode {mode!r}")
        try:
            if "b" in mode:
                return open(self._path, mode, opener=self._opener)
            return open(self._path, mode, encoding=self.charset, newline="", opener=self._opener)
        except OSError as exc:
            raise self._error("cannot read", exc) from exc

    def read_bytes(self) -> bytes:
        with self.open("rb") as f:
            try:
                return f.read()
            except OSError as exc:
                raise self._error("cannot read", exc) from exc

    def read_text(self, charset: str | None = None) -> str:
        """The whole file decoded with ``charset`` (default: the body's charset)."""
        charset = charset or self.charset
        data = self.read_bytes()
        try:
            return data.decode(charset)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise self._decode_error(charset, exc, f"byte offset {exc.start} (line {line})") from exc
        except LookupError as exc:
            raise FileOperationError(
                f"unknown charset {charset!r} for file '{self._path}'", uri=self.endpoint_uri, path=self._path
            ) from exc

    # -- streaming ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        """The file's lines, without line endings (empty lines skipped), read lazily."""
        return self.iter_tokens("\n")

    def iter_tokens(self, separator: str = "\n") -> Iterator[str]:
        """Tokens separated by ``separator``, read lazily in constant memory.

        A generator: closing it (the splitter does when it stops early) closes the file."""
        if not separator:
            raise ValueError("iter_tokens needs a non-empty separator")
        if separator == "\n":
            return self._lines()
        return self._split(separator)

    def _lines(self) -> Iterator[str]:
        line_no = 0
        with self._open_text() as f:
            try:
                for line in f:
                    line_no += 1
                    if line[-1:] == "\n":
                        line = line[:-1]
                    if line and line[-1] == "\r":
                        line = line.rstrip("\r")
                    if line:
                        yield line
            except UnicodeDecodeError as exc:
                raise self._decode_error(self.charset, exc, f"line {line_no + 1} or a little after") from exc
            except OSError as exc:
                raise self._error("cannot read", exc) from exc

    def _split(self, separator: str) -> Iterator[str]:
        carry = ""
        count = 0
        parts: list[str] = []
        with self._open_text() as f:
            try:
                while True:
                    chunk = f.read(_TEXT_CHUNK)
                    if not chunk:
                        break
                    parts = (carry + chunk).split(separator)
                    carry = parts.pop()
                    yield from parts
                    count += len(parts)
                    parts = []
            except UnicodeDecodeError as exc:
                raise self._decode_error(
                    self.charset, exc, f"token {count + len(parts) + 1} or a little after"
                ) from exc
            except OSError as exc:
                raise self._error("cannot read", exc) from exc
        yield carry

    def iter_records(self, length: int) -> Iterator[bytes]:
        """Fixed-length binary records of ``length`` bytes (the last one may be shorter)."""
        if length < 1:
            raise ValueError(f"record length must be at least 1, got {length}")
        with self.open("rb") as f:
            try:
                while True:
                    record = f.read(length)
                    if not record:
                        return
                    yield record
            except OSError as exc:
                raise self._error("cannot read", exc) from exc

    def iter_chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The raw bytes in chunks of at most ``size``."""
        return self.iter_records(size)

    def copy_to(self, target: IO[bytes]) -> int:
        """Stream the file's bytes into ``target`` (an open binary file); returns the count."""
        with self.open("rb") as f:
            try:
                shutil.copyfileobj(f, target, CHUNK_SIZE)
            except OSError as exc:
                raise self._error("cannot copy", exc) from exc
            return f.tell()

    # -- helpers ------------------------------------------------------------------------------
    def _open_text(self) -> IO[str]:
        try:
            codecs.lookup(self.charset)
        except LookupError as exc:
            raise FileOperationError(
                f"unknown charset {self.charset!r} for file '{self._path}'", uri=self.endpoint_uri, path=self._path
            ) from exc
        try:
            # newline="\n": lines end at "\n" only (a lone "\r" is data, as in str.split("\n")).
            return open(self._path, encoding=self.charset, newline="\n", opener=self._opener)
        except OSError as exc:
            raise self._error("cannot read", exc) from exc

    @property
    def _opener(self) -> Any:
        return None if self.follow_symlinks else _open_no_follow

    def _error(self, what: str, exc: OSError) -> FileOperationError:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ELOOP and not self.follow_symlinks:
            reason = "it is a symbolic link, which is not followed"
        return FileOperationError(f"{what} file '{self._path}': {reason}", uri=self.endpoint_uri, path=self._path)

    def _decode_error(self, charset: str, exc: UnicodeDecodeError, where: str) -> FileOperationError:
        bad = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
        return FileOperationError(
            f"cannot decode file '{self._path}' as {charset}: byte 0x{bad} at "
            f"{where} is not valid {charset} (set the endpoint's charset "
            "option)",
            uri=self.endpoint_uri,
            path=self._path,
        )

    def __repr__(self) -> str:
        return f"FileBody({self._path!r})"


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
