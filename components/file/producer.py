"""The ``file:FOLDER`` producer: writes the body to a file, atomically.

The file name is ``file_name`` (a template: ``${header.order_id}.json``,
``${file:onlyname.noext}.csv``), else the ``CamelFileName`` header, else the message id. A name
that would leave the folder (``..``, an absolute path, a NUL) is rejected with
``UnsafeFileNameError``; subfolders in it are created (``mkdirs``). Bodies: bytes as they are,
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

from components.file.fileops import remove_quietly
from components.file.names import check_relative_name
from eip import constants as c
from eip.component import Producer
from eip.errors import FileOperationError
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
        target = os.path.join(endpoint.folder, *relative.split("/"))
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            if not endpoint.values["mkdirs"]:
                raise FileOperationError(f"folder '{directory}' does not exist (mkdirs=false)",
                                         uri=endpoint.uri, path=target)
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise FileOperationError(f"cannot create folder '{directory}': {exc.strerror or exc}",
                                         uri=endpoint.uri, path=target) from exc
        mode = endpoint.values["file_exist"]
        if mode in ("fail", "ignore") and os.path.lexists(target):
            if mode == "ignore":
                return
            raise _exists(endpoint, target)
        body = exchange.message.body
        try:
            if mode == "append":
                with open(target, "ab") as f:
                    self._write(f, body, target)
            else:
                self._write_atomically(target, body, mode)
        except FileExistsError:
            if mode == "ignore":
                return
            raise _exists(endpoint, target) from None
        except OSError as exc:
            raise FileOperationError(f"cannot write file '{target}': {exc.strerror or exc}", uri=endpoint.uri,
                                     path=target) from exc
        exchange.message.headers[c.FILE_NAME_PRODUCED] = target

    def _write_atomically(self, target: str, body: Any, mode: str) -> None:
        head, leaf = os.path.split(target)
        temp = os.path.join(head, f".{leaf}.{uuid.uuid4().hex[:12]}.part")
        try:
            with open(temp, "xb") as f:
                self._write(f, body, target)
            if mode == "override":
                os.replace(temp, target)
            else:  # fail / ignore: a link never replaces an existing name, so a racing writer loses cleanly
                os.link(temp, target)
                os.unlink(temp)
        except BaseException:
            remove_quietly(temp)
            raise
        if self.endpoint.values["force_writes"]:
            _fsync_dir(head)

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
                raise FileOperationError(f"cannot write a None body to '{target}' (set allow_null_body=true "
                                         "to write an empty file)", uri=endpoint.uri, path=target)
        elif hasattr(body, "read"):
            shutil.copyfileobj(body, _BytesSink(f, charset), 1 << 20)
        elif isinstance(body, (int, float)) and not isinstance(body, bool):
            f.write(str(body).encode(charset))
        else:
            raise FileOperationError(f"cannot write a body of type {type(body).__name__} to '{target}' "
                                     "(convert it to str or bytes first)", uri=endpoint.uri, path=target)
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


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
