"""File-system steps the consumer and the producer share: a move that never overwrites, a quiet remove."""

from __future__ import annotations

import errno
import os
import shutil

from components.file.names import split_ext


def _suffixed(path: str, n: int) -> str:
    head, leaf = os.path.split(path)
    stem, ext = split_ext(leaf)
    return os.path.join(head, f"{stem}-{n}{ext}")


def move_file(source: str, target: str) -> str:
    """Move ``source`` to ``target`` without overwriting: a taken target gets a ``-N`` suffix.

    The move is a hard link then an unlink of the source, so it is atomic for competing movers:
    only the caller whose unlink succeeds owns the file; a loser removes its link and gets
    FileNotFoundError, as when the source vanished. Across file systems it copies, then
    deletes the source (a crash in between leaves both copies, never none). Returns the path
    the file now has."""
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    candidate, n = target, 0
    while True:
        try:
            os.link(source, candidate)
        except FileExistsError:
            n += 1
            candidate = _suffixed(target, n)
            continue
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise
            # EXDEV (another file system), EPERM/ENOTSUP (no hard links here): copy instead.
            while os.path.lexists(candidate):
                n += 1
                candidate = _suffixed(target, n)
            shutil.move(source, candidate)
            return candidate
        try:
            os.unlink(source)
        except FileNotFoundError:
            os.unlink(candidate)  # another mover owns the file
            raise
        return candidate


def remove_quietly(path: str) -> None:
    """Remove ``path``; a file that is already gone is fine."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
