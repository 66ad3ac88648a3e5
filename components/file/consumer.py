"""The ``file:FOLDER`` consumer: polls a folder, runs each file through the route, then moves it.

Every ``delay`` seconds the folder is listed (``recursive`` descends into
subfolders), filtered, sorted (``sort_by``, by name by default) and cut to
``max_messages_per_poll``; each file then runs through the route as one exchange whose body is
a lazy :class:`eip.file_body.FileBody` (nothing is read until a step asks; a 1 GB file splits in
constant memory with ``split(body().tokenize("\\n"), streaming=True)``). Headers follow Camel:
``CamelFileName`` (path relative to the folder), ``CamelFileNameOnly``, ``CamelFileNameConsumed``,
``CamelFileRelativePath``, ``CamelFileAbsolutePath``, ``CamelFileParent``, ``CamelFileLength``,
``CamelFileLastModified`` (ms since the epoch); properties ``CamelBatchIndex/Size/Complete``.

Names starting with ``.`` (files and folders) are never consumed: that is where ``.done``,
``.error``, in-progress folders and the producer's temporary files live. Symbolic links are
not followed: a link (to a file or a folder) is skipped with one warning per path, and the file
is opened with ``O_NOFOLLOW``, so a file swapped for a link after the poll is not read either.
With ``follow_symlinks=true`` links are followed when they resolve inside the input folder
(others are skipped, with one warning), each folder is listed once per poll, so a link loop
costs nothing, and the link itself (not its target) is what moves to ``.done``. An entry that
cannot be read (a link loop, no permission) is skipped with one warning; the poll goes on.
Moves (``move``, ``move_failed``, ``pre_move``) never go through a link either (see
``fileops.py``), and a ``${...}`` move template cannot leave the folder its fixed part names. ``include``/``exclude``
take a **regex** matched against the whole file name (not its folder), ignoring case, as Camel;
``ant_include``/``ant_exclude`` take comma-separated **globs** (``*``, ``?``, ``**`` for any
folders) matched against the path relative to the folder, case-sensitive.

When a file counts as done (through the exchange's unit of work, so after the whole route,
including every synchronous send and any confirmation a producer holds for):

* completed, or failed with the error handled (dead letter channel, ``handled=True``): moved to
  ``move`` (default ``.done``), or deleted with ``delete=true``, or left with ``noop=true``;
* failed, unhandled: moved to ``move_failed`` (default ``.error``; set it empty to leave the
  file where it is, to be picked up again at the next poll, Camel's default);
* ``move``/``move_failed``/``pre_move`` are folders relative to the input folder (or absolute);
  the file keeps its path relative to the input folder under them. ``move`` and
  ``move_failed`` may instead be ``${...}`` templates of the whole target path, e.g.
  ``.done/${date:now:%Y%m%d}/${file:name}``. A move never overwrites: a taken name gets a
  ``-1``, ``-2``... suffix before its extensions (Camel would replace the file).

What a crash loses: nothing. Without ``pre_move`` a file being processed is still in the input
folder and is consumed again after a restart. With ``pre_move`` (an in-progress folder, the
file is moved there before the route starts) the consumer moves whatever it finds there back to
the input folder when it starts, so it is consumed again. Either way a crash means the file may
be processed twice (at-least-once), never lost. Consumers of one folder in several processes:
``pre_move`` claims a file atomically (one process wins), but a process that starts moves the
in-progress files of the others back too, so expect duplicates then.

Read locks (``read_lock``): ``none``; ``changed``: a file is taken only when its size and
modification time stayed the same for ``read_lock_check_interval`` seconds (or, with
``read_lock_min_age``, when it is at least that old) and it has at least
``read_lock_min_length`` bytes, so a file still being written is never read half-done (the
check is made across polls, never blocking the poller); ``rename``: Camel's probe, the file is
renamed and renamed back and skipped if that fails. On Linux a rename succeeds even while a
writer has the file open, so ``rename`` does not detect half-written files there: use
``changed``, done files, or writers that write then rename (as the producer does).

``done_file_name``: a file is taken only when its marker exists next to it, e.g.
``${file:name}.done`` or ``${file:name.noext}.ready`` (a fixed name such as ``ready`` works for
the whole folder); marker files are never consumed themselves and are deleted after the file
was processed (or moved to ``move_failed``). ``idempotent`` (implied by ``noop``) skips a file
already consumed, keyed by absolute path, size and modification time, in an in-memory LRU of
``idempotent_cache_size`` keys (forgotten on restart); the key is recorded only when the file
was consumed successfully. A file whose exchange is still running is never picked up again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from components.file.fileinfo import FileInfo
from components.file.fileops import move_file, open_folder, remove_quietly, under
from eip import constants as c
from eip.component import Processor
from eip.errors import FileOperationError
from eip.exchange import Exchange
from eip.file_body import FileBody
from eip.polling import ScheduledPollingConsumer

if TYPE_CHECKING:
    from components.file.endpoint import FileEndpoint

log = logging.getLogger("components.file")


class FileConsumer(ScheduledPollingConsumer):
    """Polls the endpoint's folder; see the module doc for what happens to each file."""

    endpoint: FileEndpoint

    def __init__(self, endpoint: FileEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.clock: Callable[[], float] = time.monotonic  # replaceable in tests
        self._seen: dict[str, tuple[int, int, float]] = {}  # read_lock=changed: path -> size, mtime, since
        self._skipped: set[str] = set()  # entries skipped (and warned about) by the last poll

    def start(self) -> None:
        if self._stop_event is None or self._stop_event.is_set():
            try:
                self.endpoint.prepare_folder()
                self.recover()
            except (OSError, FileOperationError) as exc:  # the poller reports it again, once per streak
                log.error("%s: %s", self.endpoint.uri, exc)
        super().start()

    def recover(self) -> int:
        """Move files left in the in-progress folder (``pre_move``) or under a ``rename`` lock
        name by a crash back to the input folder; returns how many."""
        endpoint = self.endpoint
        if endpoint.in_flight_count():
            return 0  # our own exchanges are still running: their files are not orphans
        recovered = 0
        folder = endpoint.folder
        if (
            endpoint.pre_move is not None
            and endpoint.pre_move.folder
            and self._safe_folder(endpoint.pre_move.root, endpoint.pre_move.folder)
        ):
            base = endpoint.pre_move.folder
            for directory, _dirs, names in os.walk(base):
                for name in names:
                    source = os.path.join(directory, name)
                    target = os.path.join(folder, os.path.relpath(source, base))
                    try:
                        moved = self._move(source, target, folder)
                    except FileNotFoundError:
                        continue
                    recovered += 1
                    log.warning(
                        "%s: recovered '%s' from the in-progress folder as '%s' (the previous run "
                        "stopped while processing it); it will be consumed again",
                        endpoint.uri,
                        source,
                        moved,
                    )
        if endpoint.values["read_lock"] == "rename" and os.path.isdir(folder):
            for directory, dirs, names in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in names:
                    if name.startswith(".") and name.endswith(_RENAME_LOCK):
                        source = os.path.join(directory, name)
                        try:
                            self._move(source, os.path.join(directory, name[1 : -len(_RENAME_LOCK)]), folder)
                            recovered += 1
                        except FileNotFoundError:
                            continue
        return recovered

    def _safe_folder(self, root: str, folder: str) -> bool:
        """``folder`` exists and nothing between ``root`` and it is a link (unless followed)."""
        parts = under(root, folder)
        if parts is None or not os.path.isdir(folder):
            return False
        try:
            if self.endpoint.values["follow_symlinks"]:
                return under(os.path.realpath(root), os.path.realpath(folder)) is not None
            os.close(open_folder(root, parts, create=False, uri=self.endpoint.uri))
        except (OSError, FileOperationError) as exc:
            log.error("%s: not recovering files from '%s': %s", self.endpoint.uri, folder, exc)
            return False
        return True

    def _move(self, source: str, target: str, root: str) -> str:
        endpoint = self.endpoint
        return move_file(source, target, root, follow_symlinks=endpoint.values["follow_symlinks"], uri=endpoint.uri)

    # -- one poll -------------------------------------------------------------------------------
    def poll(self) -> int:
        endpoint = self.endpoint
        endpoint.prepare_folder()
        batch = [info for info in self.scan() if self._eligible(info)]
        for getter, reverse in reversed(endpoint.sort_keys):
            batch.sort(key=getter, reverse=reverse)
        if self.max_messages_per_poll:
            batch = batch[: self.max_messages_per_poll]
        processed = 0
        size = len(batch)
        for index, info in enumerate(batch):
            if not self.is_run_allowed():
                break
            if self._consume(info, index, size):
                processed += 1
        return processed

    def scan(self) -> list[FileInfo]:
        """The files in the folder that pass the name filters (hidden and marker files excluded,
        links skipped unless followed into the folder)."""
        endpoint = self.endpoint
        recursive = endpoint.values["recursive"]
        follow = endpoint.values["follow_symlinks"]
        skip_dirs = endpoint.skip_dirs
        skipped: set[str] = set()
        found: list[FileInfo] = []
        real_root = os.path.realpath(endpoint.folder) if follow else ""
        listed: set[tuple[int, int]] = set()  # follow_symlinks: folders listed this poll (loops)
        stack = [(endpoint.folder, "")]
        while stack:
            directory, prefix = stack.pop()
            try:
                entries = os.scandir(directory)
                if follow:
                    st = os.stat(directory)
                    if (st.st_dev, st.st_ino) in listed:
                        entries.close()
                        continue
                    listed.add((st.st_dev, st.st_ino))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                if not prefix:
                    raise  # the input folder itself: the poll fails and says why
                self._skip(directory, f"cannot be listed: {exc.strerror or exc}", skipped)
                continue
            with entries:
                for entry in entries:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    try:
                        if entry.is_symlink():
                            if not follow:
                                self._skip(
                                    entry.path,
                                    "is a symbolic link, which is not followed (follow_symlinks=false)",
                                    skipped,
                                )
                                continue
                            if under(real_root, os.path.realpath(entry.path)) is None:
                                self._skip(entry.path, "is a symbolic link that leads outside the folder", skipped)
                                continue
                        if entry.is_dir():
                            if recursive and entry.path not in skip_dirs:
                                stack.append((entry.path, f"{prefix}{name}/"))
                            continue
                        if not entry.is_file():
                            continue
                        relative = prefix + name
                        if not endpoint.name_matches(name, relative):
                            continue
                        st = entry.stat()
                    except FileNotFoundError:  # gone while we looked
                        continue
                    except OSError as exc:  # a link loop, no permission: skip it, take the rest
                        self._skip(entry.path, f"cannot be read: {exc.strerror or exc}", skipped)
                        continue
                    found.append(FileInfo(entry.path, relative, name, st.st_size, st.st_mtime_ns))
        self._skipped = skipped
        if self._seen:
            present = {f.path for f in found}
            for path in [p for p in self._seen if p not in present]:
                del self._seen[path]
        return found

    def _skip(self, path: str, why: str, skipped: set[str]) -> None:
        """Skip ``path``; warn only the first poll in a row that skips it."""
        skipped.add(path)
        if path not in self._skipped:
            log.warning("%s: skipping '%s': it %s", self.endpoint.uri, path, why)

    def _eligible(self, info: FileInfo) -> bool:
        endpoint = self.endpoint
        if endpoint.done_template is not None:
            marker = endpoint.done_file_for(info)
            if not os.path.exists(marker):
                return False
        if endpoint.idempotent and endpoint.idempotent_repository.contains(info.key):
            return False
        if endpoint.is_in_flight(info.path):
            return False
        if endpoint.values["read_lock"] == "changed":
            return self._unchanged(info)
        return True

    def _unchanged(self, info: FileInfo) -> bool:
        values = self.endpoint.values
        if info.size < values["read_lock_min_length"]:
            self._seen.pop(info.path, None)
            return False
        min_age = values["read_lock_min_age"]
        if min_age > 0:
            return time.time() - info.mtime_ns / 1e9 >= min_age
        now = self.clock()
        seen = self._seen.get(info.path)
        if seen is None or seen[0] != info.size or seen[1] != info.mtime_ns:
            self._seen[info.path] = (info.size, info.mtime_ns, now)
            return False
        if now - seen[2] < values["read_lock_check_interval"]:
            return False
        del self._seen[info.path]
        return True

    # -- one file -------------------------------------------------------------------------------
    def _consume(self, info: FileInfo, index: int, size: int) -> bool:
        endpoint = self.endpoint
        if not endpoint.claim(info.path):
            return False
        try:
            path = info.path
            if endpoint.values["read_lock"] == "rename" and not _rename_probe(path):
                endpoint.release(info.path)
                return False
            if endpoint.pre_move is not None:
                try:
                    path = self._move(path, endpoint.pre_move.target(info, None), endpoint.pre_move.root)
                except FileNotFoundError:  # another consumer took it, or it was deleted
                    endpoint.release(info.path)
                    return False
            body = FileBody(
                path, endpoint.values["charset"], endpoint.uri, follow_symlinks=endpoint.values["follow_symlinks"]
            )
            exchange = self.create_exchange(body, info.headers(path))
            props = exchange.properties
            props[c.BATCH_INDEX] = index
            props[c.BATCH_SIZE] = size
            props[c.BATCH_COMPLETE] = index == size - 1
            uow = exchange.unit_of_work
            assert uow is not None
            uow.on_completion(partial(self._commit, info, body))
            uow.on_failure(partial(self._rollback, info, body))
        except BaseException:
            endpoint.release(info.path)
            raise
        try:
            self.processor.process(exchange)
        except Exception as exc:  # the route entry should never raise; keep the file safe anyway
            log.exception("%s: route raised for file '%s'", endpoint.uri, info.path)
            if not uow.finished:
                exchange.exception = exchange.exception or exc
                uow.done(exchange)
        return True

    def _commit(self, info: FileInfo, body: FileBody, exchange: Exchange) -> None:
        endpoint = self.endpoint
        current = body.path
        try:
            if endpoint.values["noop"]:
                pass
            elif endpoint.values["delete"]:
                try:
                    os.remove(current)
                except FileNotFoundError:
                    pass
            else:
                body.relocate(self._move(current, endpoint.move.target(info, exchange), endpoint.move.root))
            if endpoint.done_template is not None and not endpoint.values["noop"]:
                remove_quietly(endpoint.done_file_for(info))
            if endpoint.idempotent:
                endpoint.idempotent_repository.add(info.key)
        except Exception as exc:
            self._put_back(info, body)
            raise FileOperationError(
                f"file '{current}' was processed but could not be moved or deleted: "
                f"{exc}; it stays to be consumed again",
                uri=endpoint.uri,
                path=current,
            ) from exc
        finally:
            endpoint.release(info.path)

    def _rollback(self, info: FileInfo, body: FileBody, exchange: Exchange) -> None:
        endpoint = self.endpoint
        current = body.path
        try:
            if endpoint.move_failed is not None and not endpoint.values["noop"]:
                body.relocate(
                    self._move(current, endpoint.move_failed.target(info, exchange), endpoint.move_failed.root)
                )
                if endpoint.done_template is not None:
                    remove_quietly(endpoint.done_file_for(info))
            else:
                self._put_back(info, body)
        except Exception as exc:  # noqa: BLE001 - a failed move must not lose the file: it stays
            log.error(
                "%s: file '%s' failed and could not be moved to '%s': %s; it stays to be consumed again",
                endpoint.uri,
                current,
                endpoint.values["move_failed"],
                exc,
            )
            self._put_back(info, body)
        finally:
            endpoint.release(info.path)

    def _put_back(self, info: FileInfo, body: FileBody) -> None:
        """A pre-moved file goes back to the input folder (so the next poll retries it)."""
        if self.endpoint.pre_move is None or body.path == info.path:
            return
        try:
            body.relocate(self._move(body.path, info.path, self.endpoint.folder))
        except OSError as exc:
            log.error(
                "%s: could not move '%s' back to the input folder: %s (it is recovered when the consumer starts again)",
                self.endpoint.uri,
                body.path,
                exc,
            )


_RENAME_LOCK = ".eiplock"


def _rename_probe(path: str) -> bool:
    """Camel's rename read lock: the file can be renamed (and renamed back)."""
    head, leaf = os.path.split(path)
    lock = os.path.join(head, f".{leaf}{_RENAME_LOCK}")
    try:
        os.rename(path, lock)
    except OSError:
        return False
    try:
        os.rename(lock, path)
    except OSError as exc:
        log.error("could not rename '%s' back to '%s': %s (recovered when the consumer starts again)", lock, path, exc)
        return False
    return True
