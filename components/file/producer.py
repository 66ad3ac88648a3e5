"""The ``file:FOLDER`` producer: writes the body to a file, atomically.

The file name is ``file_name`` (a template: ``${header.order_id}.json``,
``${file:onlyname.noext}.csv``), else the ``CamelFileName`` header, else the message id. A name
that would leave the folder (``..``, an absolute path, a NUL) is rejected with
``UnsafeFileNameError``; subfolders in it are created (``mkdirs``). So is a name that goes
through a symbolic link, a linked subfolder or a leaf that is a link, in every ``file_exist``
mode: folders are opened one by one with ``O_NOFOLLOW`` and the file is created relative to
its folder's descriptor, so a folder swapped for a link mid-write is refused too. With
``follow_symlinks=true`` the name is resolved first and written where it leads, if that is
inside the folder (else ``UnsafeFileNameError``). Bodies: bytes as they are,
str encoded with ``charset``, dict/list as JSON, a ``FileBody`` or an open binary file streamed,
never read whole. Writes are atomic: a hidden temporary file in the target folder, flushed
(``force_writes``: fsync'd), then renamed over the name (``file_exist=override``), or linked to
it only if the name is free (``fail`` raises, ``ignore`` drops the write). ``append`` appends
in place and is not atomic: a crash may leave a partial last write. ``CamelFileNameProduced``
gets the absolute path written. A crash mid-write leaves at most a hidden ``.NAME.*.part`` file.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from typing import TYPE_CHECKING, Any

from components.file.fileops import (
    FOLLOW_HINT,
    NOFOLLOW,
    is_link_at,
    open_folder,
    resolve_under,
)
from components.file.names import check_relative_name
from eip import constants as c
from eip.component import Producer
from eip.errors import FileOperationError, UnsafeFileNameError
from eip.exchange import Exchange
from eip.file_body import FileBody

if TYPE_CHECKING:
    from components.file.endpoint import FileEndpoint


class FileProducer(Producer):
    """Writes the body to a file in the endpoint's folder (see the module doc)."""

    endpoint: FileEndpoint

    def process(self, exchange: Exchange) -> None:
        endpoint = self.endpoint
        name, source = endpoint.target_name(exchange)
        relative = check_relative_name(name, uri=endpoint.uri, folder=endpoint.folder, source=source)
        root, parts = endpoint.folder, relative.split("/")
        target = os.path.join(root, *parts)
        try:
            if endpoint.values["follow_symlinks"]:
                root, parts = resolve_under(root, target, uri=None)
                target = os.path.join(root, *parts)
            leaf = parts.pop()
            folder = open_folder(root, parts, create=endpoint.values["mkdirs"], uri=None)
        except UnsafeFileNameError as exc:
            raise UnsafeFileNameError(
                f"unsafe file name {name!r} (from {source}): {exc}", uri=endpoint.uri, path=target
            ) from None
        except FileNotFoundError:
            raise FileOperationError(
                f"folder '{os.path.dirname(target)}' does not exist (mkdirs=false)", uri=endpoint.uri, path=target
            ) from None
        except OSError as exc:
            raise FileOperationError(
                f"cannot create or open folder '{os.path.dirname(target)}': {exc.strerror or exc}",
                uri=endpoint.uri,
                path=target,
            ) from exc
        try:
            if is_link_at(folder, leaf):
                raise UnsafeFileNameError(
                    f"unsafe file name {name!r} (from {source}): '{target}' is a symbolic link; {FOLLOW_HINT}",
                    uri=endpoint.uri,
                    path=target,
                )
            if self._write_in(folder, leaf, target, exchange.message.body):
                exchange.message.headers[c.FILE_NAME_PRODUCED] = target
        finally:
            os.close(folder)

    def _write_in(self, folder: int, leaf: str, target: str, body: Any) -> bool:
        """Write ``body`` as ``leaf`` in the open ``folder``; False when ``ignore`` dropped it."""
        endpoint = self.endpoint
        mode = endpoint.values["file_exist"]
        try:
            if mode in ("fail", "ignore"):
                os.stat(leaf, dir_fd=folder, follow_symlinks=False)
                if mode == "ignore":
                    return False
                raise _exists(endpoint, target)
        except FileNotFoundError:
            pass
        try:
            if mode == "append":
                fd = os.open(leaf, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o666, dir_fd=folder)
                with open(fd, "ab") as f:
                    self._write(f, body, target)
            else:
                self._write_atomically(folder, leaf, target, body, mode)
        except FileExistsError:
            if mode == "ignore":
                return False
            raise _exists(endpoint, target) from None
        except OSError as exc:
            raise FileOperationError(
                f"cannot write file '{target}': {exc.strerror or exc}", uri=endpoint.uri, path=target
            ) from exc
        return True

    def _write_atomically(self, folder: int, leaf: str, target: str, body: Any, mode: str) -> None:
        temp = f".{leaf}.{uuid.uuid4().hex[:12]}.part"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666, dir_fd=folder)
            with open(fd, "wb") as f:
                self._write(f, body, target)
            if mode == "override":  # a rename replaces a link that raced in; it never writes through it
                os.replace(temp, leaf, src_dir_fd=folder, dst_dir_fd=folder)
            else:  # fail / ignore: a link never replaces an existing name, so a racing writer loses cleanly
                os.link(temp, leaf, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
                os.unlink(temp, dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=folder)
            except FileNotFoundError:
                pass
            raise
        if self.endpoint.values["force_writes"]:
            try:
                os.fsync(folder)
            except OSError:
                pass

    def _write(self, f: Any, body: Any, target: str) -> None:
        endpoint = self.endpoint
        charset = endpoint.values["charset"]
        if isinstance(body, (bytes, bytearray, memoryview)):
            f.write(body)
        elif isinstance(body, str):
            f.write(body.encode(charset))
        elif isinstance(body, (dict, list)):
            f.write(json.dumps(body, ensure_ascii=False).encode(charset))
        elif isinstance(body, FileBody):
            body.copy_to(f)
        elif body is None:
            if not endpoint.values["allow_null_body"]:
                raise FileOperationError(
                    f"cannot write a None body to '{target}' (set allow_null_body=true to write an empty file)",
                    uri=endpoint.uri,
                    path=target,
                )
        elif hasattr(body, "read"):
            shutil.copyfileobj(body, _BytesSink(f, charset), 1 << 20)
        elif isinstance(body, (int, float)) and not isinstance(body, bool):
            f.write(str(body).encode(charset))
        else:
            raise FileOperationError(
                f"cannot write a body of type {type(body).__name__} to '{target}' (convert it to str or bytes first)",
                uri=endpoint.uri,
                path=target,
            )
        if endpoint.values["force_writes"]:
            f.flush()
            os.fsync(f.fileno())


def _exists(endpoint: FileEndpoint, target: str) -> FileOperationError:
    return FileOperationError(f"file '{target}' already exists (file_exist=fail)", uri=endpoint.uri, path=target)


class _BytesSink:
    """Lets a text file-like body be copied into a binary file."""

    def __init__(self, f: Any, charset: str) -> None:
        self.f, self.charset = f, charset

    def write(self, data: Any) -> None:
        self.f.write(data.encode(self.charset) if isinstance(data, str) else data)
