"""File-system steps the consumer and the producer share: folders opened without following links,
a move that never overwrites, a quiet remove.

Symbolic links: below a *root* (the endpoint's folder, or a move folder outside it) no step
goes through a link. :func:`open_folder` opens each path component with ``O_NOFOLLOW``
relative to the one before (``dir_fd``), so a folder swapped for a link between a check and
the write is refused, not followed; callers then create, link and rename names relative to the
folder's descriptor. With ``follow_symlinks`` the path is resolved first and must stay under
the resolved root; the resolved path is then walked the same way.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Sequence

from components.file.names import split_ext
from eip.errors import UnsafeFileNameError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
FOLLOW_HINT = "symbolic links are not followed (follow_symlinks=true follows those that stay inside the folder)"


def under(root: str, path: str) -> list[str] | None:
    """``path``'s components below ``root`` (both normalised, not resolved), or None when
    ``path`` is not below ``root``."""
    relative = os.path.relpath(os.path.normpath(path), os.path.normpath(root))
    if relative == os.curdir:
        return []
    parts = relative.split(os.sep)
    return None if parts[0] == os.pardir or os.path.isabs(relative) else parts


def resolve_under(root: str, path: str, *, uri: str | None) -> tuple[str, list[str]]:
    """``follow_symlinks``: the resolved root and ``path``'s resolved components below it;
    UnsafeFileNameError when a link leads outside."""
    real_root = os.path.realpath(root)
    parts = under(real_root, os.path.realpath(path))
    if parts is None:
        raise UnsafeFileNameError(
            f"'{path}' resolves outside the folder '{root}' through a symbolic link", uri=uri, path=path
        )
    return real_root, parts


def is_link_at(folder_fd: int, name: str) -> bool:
    """Whether ``name`` in the folder ``folder_fd`` is a symbolic link (False when missing)."""
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def open_folder(root: str, parts: Sequence[str], *, create: bool, uri: str | None) -> int:
    """A descriptor of the folder ``root/parts...``, opened one component at a time without
    following links (``root`` itself is the user's and may be one). Missing folders are made
    with ``create``, else FileNotFoundError; a component that is a link raises
    UnsafeFileNameError, one that is a file NotADirectoryError. The caller closes it."""
    if create:
        os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for index, part in enumerate(parts):
            try:
                child = _open_child(fd, root, parts, index, uri)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, dir_fd=fd)
                except FileExistsError:
                    pass  # made by a racing writer, or a link that the next open refuses
                child = _open_child(fd, root, parts, index, uri)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_child(fd: int, root: str, parts: Sequence[str], index: int, uri: str | None) -> int:
    """``parts[index]`` inside the folder ``fd``, never through a link (UnsafeFileNameError)."""
    part = parts[index]
    try:
        return os.open(part, os.O_RDONLY | _DIRECTORY | NOFOLLOW, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP) and is_link_at(fd, part):
            path = os.path.join(root, *parts[: index + 1])
            raise UnsafeFileNameError(f"'{path}' is a symbolic link; {FOLLOW_HINT}", uri=uri, path=path) from None
        raise


def _suffixed(leaf: str, n: int) -> str:
    stem, ext = split_ext(leaf)
    return f"{stem}-{n}{ext}"


def move_file(
    source: str, target: str, root: str | None = None, *, follow_symlinks: bool = False, uri: str | None = None
) -> str:
    """Move ``source`` to ``target`` without overwriting: a taken target gets a ``-N`` suffix.

    ``target`` must lie below ``root`` (default: its own folder), and no folder between them
    may be a symbolic link (with ``follow_symlinks``: none may lead outside ``root``); else
    UnsafeFileNameError. A ``source`` that is a link is moved as the link, never its target.
    The move is a hard link then an unlink of the source, so it is atomic for competing movers:
    only the caller whose unlink succeeds owns the file; a loser removes its link and gets
    FileNotFoundError, as when the source vanished. Across file systems it copies, then
    deletes the source (a crash in between leaves both copies, never none). Returns the path
    the file now has."""
    root = os.path.dirname(target) if root is None else root
    parts = under(root, target)
    if not parts:
        raise UnsafeFileNameError(
            f"cannot move '{source}' to '{target}': it is not inside '{root}'", uri=uri, path=target
        )
    leaf = parts.pop()
    if follow_symlinks:
        root, parts = resolve_under(root, os.path.join(root, *parts), uri=uri)
    folder = os.path.join(root, *parts)
    fd = open_folder(root, parts, create=True, uri=uri)
    try:
        candidate, n = leaf, 0
        while True:
            try:
                os.link(source, candidate, dst_dir_fd=fd, follow_symlinks=False)
            except FileExistsError:
                n += 1
                candidate = _suffixed(leaf, n)
                continue
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise
                # EXDEV (another file system), EPERM/ENOTSUP (no hard links here): copy instead.
                candidate = _copy_into(source, fd, leaf, n)
                return os.path.join(folder, candidate)
            try:
                os.unlink(source)
            except FileNotFoundError:
                os.unlink(candidate, dir_fd=fd)  # another mover owns the file
                raise
            return os.path.join(folder, candidate)
    finally:
        os.close(fd)


def _copy_into(source: str, folder_fd: int, leaf: str, n: int) -> str:
    """Copy ``source`` (a link as a link) to a free name in ``folder_fd``, then remove it."""
    if os.path.islink(source):
        target = os.readlink(source)
        candidate = _free_name(leaf, n, lambda name: os.symlink(target, name, dir_fd=folder_fd))
        os.unlink(source)
        return candidate
    src = os.open(source, os.O_RDONLY | NOFOLLOW)
    with os.fdopen(src, "rb") as reader:
        fds: list[int] = []
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW
        candidate = _free_name(leaf, n, lambda name: fds.append(os.open(name, flags, 0o666, dir_fd=folder_fd)))
        dst = fds[0]
        with os.fdopen(dst, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()  # before utime, or the last write sets the mtime again
            st = os.fstat(reader.fileno())
            os.fchmod(writer.fileno(), stat.S_IMODE(st.st_mode))
            os.utime(writer.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
    os.unlink(source)
    return candidate


def _free_name(leaf: str, n: int, create: Callable[[str], object]) -> str:
    """The first of ``leaf``, ``leaf-N``... that ``create`` makes without FileExistsError."""
    while True:
        candidate = leaf if n == 0 else _suffixed(leaf, n)
        try:
            create(candidate)
        except FileExistsError:
            n += 1
            continue
        return candidate


def remove_quietly(path: str) -> None:
    """Remove ``path``; a file that is already gone is fine."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
