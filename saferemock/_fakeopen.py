"""``sm.fake_open``: an in-memory file map behind an autospecced mock of ``open``.

The fake keeps the real ``open`` as its model.  It asks the real ``open`` to validate
every call (mode, buffering, encoding and newline arguments, the path's type) by passing
an ``opener`` that stops it just before a file descriptor would be created, so every
``ValueError`` and ``TypeError`` is the real one.  It then builds the same stack of
``io`` objects the real ``open`` builds (a raw file, a ``BufferedReader``/``Writer``/
``Random``, a ``TextIOWrapper``) over an in-memory raw file, so reading, writing,
seeking, newline translation, encodings and errors behave as they do on disk.
"""

from __future__ import annotations

import errno
import io
import locale
import os
import sys
import types
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Final, TypeAlias, final

from saferemock._activation import Activation
from saferemock._builtins import (
    builtin_mock,
    check_module,
    consumer_module,
    install_builtin,
    real_builtin,
)
from saferemock._undo import Journal
from saferemock._warn import warn
from saferemock.exceptions import FakeFilesError

__all__ = ["FakeFiles", "FakeOpen", "fake_open"]

Contents: TypeAlias = str | bytes

# The interpreter's own open, captured before anyone can patch it.
_REAL_OPEN: Final = io.open


class _Validated(Exception):
    """Raised by `_stop_before_opening` once the real ``open`` accepted its arguments."""


def _stop_before_opening(path: str | bytes, flags: int) -> int:
    raise _Validated(path)


@final
class _Entry:
    """One in-memory file: its bytes, and how to show them (text with an encoding, or bytes)."""

    __slots__ = ("data", "encoding", "errors")

    def __init__(self, data: bytes, encoding: str | None, errors: str = "strict") -> None:
        self.data = bytearray(data)
        self.encoding = encoding
        self.errors = errors

    def contents(self) -> Contents:
        if self.encoding is None:
            return bytes(self.data)
        return self.data.decode(self.encoding, self.errors)


def _default_encoding() -> str:
    """Return what TextIOWrapper uses when ``open()`` gets ``encoding=None``."""
    if sys.flags.utf8_mode:
        return "utf-8"
    # locale.getencoding() (3.11+) does not warn under -X warn_default_encoding.
    getencoding = getattr(locale, "getencoding", None)
    return str(getencoding()) if getencoding is not None else locale.getpreferredencoding(False)


def _entry_for(contents: object, label: object) -> _Entry:
    if isinstance(contents, str):
        return _Entry(contents.encode(_default_encoding()), _default_encoding())
    if isinstance(contents, (bytes, bytearray)):
        return _Entry(bytes(contents), None)
    raise FakeFilesError(
        f"fake_open() takes file contents as str or bytes, not {contents!r} for {label!r}."
    )


def _path_text(path: Any) -> str:
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise FakeFilesError(
            f"fake_open() takes paths as str, bytes or os.PathLike objects, not {path!r}."
        ) from None


def _names_a_directory(text: str) -> bool:
    """Whether a path names a directory by its form: ``""``, ``"a/"``, ``"."``, ``"a/.."``."""
    return os.path.basename(text) in ("", os.curdir, os.pardir)


def _file_path(path: Any) -> str:
    """The text of a path given as a file of the map; a path that names no file is refused."""
    text = _path_text(path)
    if _names_a_directory(text):
        raise FakeFilesError(
            f"fake_open() takes paths that name a file, not {path!r}; give one such as "
            "'config.yaml'."
        )
    return text


def _anchor(text: str) -> str:
    """What identifies the file ``text`` names now: its absolute path, case-folded where
    the file system folds case.  A relative path is taken against the working directory
    at this moment, as ``open`` takes it."""
    return os.path.normcase(os.path.abspath(text))


@final
class _Slot:
    """One file of the map: where it is, how it was first named, and its contents."""

    __slots__ = ("absolute", "entry", "relative")

    def __init__(self, text: str, entry: _Entry) -> None:
        self.absolute = os.path.abspath(text)
        self.relative = not os.path.isabs(text)
        self.entry = entry

    def key(self) -> str:
        """The path to list: relative to the current working directory if first given so."""
        if self.relative:
            try:
                return os.path.relpath(self.absolute)
            except ValueError:  # another drive (Windows)
                pass
        return self.absolute


@final
class FakeFiles(MutableMapping[str, Contents]):
    """The files of one ``fake_open`` activation.

    A file given as ``str`` (or last written in text mode) reads back as ``str``, decoded
    with the encoding it was written with; one given as ``bytes`` (or last written in
    binary mode) reads back as ``bytes``.  A path names the file ``open`` would open: a
    relative one is taken against the working directory when it is given (for the files
    passed to ``fake_open``, when the fake starts), and any spelling of the same file
    (``./a.txt``, an absolute path, a ``pathlib.Path``) finds it.  Keys are listed as
    first given, normalised: absolute, or relative to the current working directory.

    Examples:
        >>> import saferemock as sm
        >>> with sm.fake_open({"./config.yaml": "debug: true"}) as fake:
        ...     fake.files["config.yaml"]
        'debug: true'
        >>> list(fake.files)
        ['config.yaml']
    """

    def __init__(self, files: Mapping[Any, Contents] | None = None) -> None:
        self._slots: dict[str, _Slot] = {}
        for path, contents in (files or {}).items():
            text = _file_path(path)
            existing = self._slots.get(_anchor(text))
            if existing is not None:
                raise FakeFilesError(
                    f"fake_open() got {path!r} twice (it names the same file as "
                    f"{existing.key()!r}); give each file once."
                )
            self._slots[_anchor(text)] = _Slot(text, _entry_for(contents, path))

    def find(self, path: object) -> str | None:
        """Return the key of the file ``path`` names, or None."""
        slot = self._slot(path)
        return None if slot is None else slot.key()

    def _slot(self, path: object) -> _Slot | None:
        text = _path_text(path)
        if _names_a_directory(text):
            return None
        return self._slots.get(_anchor(text))

    def _entry(self, path: object) -> _Entry:
        slot = self._slot(path)
        if slot is None:
            raise KeyError(path)
        return slot.entry

    def _create(self, path: object) -> _Entry:
        text = _file_path(path)
        slot = _Slot(text, _Entry(b"", None))
        self._slots[_anchor(text)] = slot
        return slot.entry

    def __getitem__(self, path: object) -> Contents:
        return self._entry(path).contents()

    def __setitem__(self, path: object, contents: Contents) -> None:
        entry = _entry_for(contents, path)
        slot = self._slot(path)
        if slot is None:
            text = _file_path(path)
            self._slots[_anchor(text)] = _Slot(text, entry)
        else:
            slot.entry = entry

    def __delitem__(self, path: object) -> None:
        if self._slot(path) is None:
            raise KeyError(path)
        del self._slots[_anchor(_path_text(path))]

    def __contains__(self, path: object) -> bool:
        try:
            return self._slot(path) is not None
        except FakeFilesError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter([slot.key() for slot in self._slots.values()])

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"FakeFiles({dict(self.items())!r})"


class _FakeRaw(io.RawIOBase):
    """The in-memory counterpart of ``io.FileIO``: reads and writes go straight to an entry."""

    def __init__(
        self,
        entry: _Entry,
        name: str | bytes,
        mode: str,
        *,
        readable: bool,
        writable: bool,
        appending: bool,
    ) -> None:
        super().__init__()
        self._file = entry
        self._readable = readable
        self._writable = writable
        self._appending = appending
        self._pos = len(entry.data) if appending else 0
        # How a write marks the entry: text with (encoding, errors), or bytes (None).
        self.kind: tuple[str, str] | None = None
        self.name = name
        self.mode = mode

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def readable(self) -> bool:
        self._check_open()
        return self._readable

    def writable(self) -> bool:
        self._check_open()
        return self._writable

    def seekable(self) -> bool:
        self._check_open()
        return True

    def isatty(self) -> bool:
        self._check_open()
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno: a fake_open file has no file descriptor")

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")
        data = self._file.data
        view = memoryview(buffer).cast("B")
        chunk = data[self._pos : self._pos + len(view)]
        view[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def readall(self) -> bytes:
        self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")
        chunk = bytes(self._file.data[self._pos :])
        self._pos += len(chunk)
        return chunk

    def write(self, buffer: Any) -> int:
        self._check_open()
        if not self._writable:
            raise io.UnsupportedOperation("File not open for writing")
        chunk = bytes(buffer)
        data = self._file.data
        if self._appending:
            self._pos = len(data)
        if self._pos > len(data):
            # Writing past the end leaves a hole that reads as zero bytes, as on disk.
            data.extend(bytes(self._pos - len(data)))
        data[self._pos : self._pos + len(chunk)] = chunk
        self._pos += len(chunk)
        self.mark()
        return len(chunk)

    def mark(self) -> None:
        """Make the file read back as this handle writes it: text, or bytes."""
        if self.kind is None:
            self._file.encoding = None
        else:
            self._file.encoding, self._file.errors = self.kind

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = len(self._file.data) + offset
        else:
            position = -1
        if position < 0:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self._pos = position
        return position

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def truncate(self, size: int | None = None) -> int:
        self._check_open()
        if not self._writable:
            raise io.UnsupportedOperation("File not open for writing")
        size = self._pos if size is None else size
        if size < 0:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        data = self._file.data
        if size < len(data):
            del data[size:]
        else:
            data.extend(bytes(size - len(data)))
        return size


@final
class _Opener:
    """The ``side_effect`` of the fake: ``open`` over a `FakeFiles` map."""

    __slots__ = ("files", "strict")

    def __init__(self, files: FakeFiles, strict: bool) -> None:
        self.files = files
        self.strict = strict

    def __call__(
        self,
        file: Any,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        closefd: bool = True,
        opener: Any = None,
    ) -> Any:
        __tracebackhide__ = True
        if isinstance(file, int):
            # A file descriptor is already open on the real system; only real open can use it.
            return _REAL_OPEN(file, mode, buffering, encoding, errors, newline, closefd, opener)
        binary = isinstance(mode, str) and "b" in mode
        text = isinstance(mode, str) and not binary
        # Real open warns in these two cases, attributing the warning to its caller, which
        # would be this frame: warn on the user's behalf instead and keep the real one quiet.
        validate_buffering = buffering
        if binary and buffering == 1:
            warn(
                "line buffering (buffering=1) isn't supported in binary mode, the default "
                "buffer size will be used",
                RuntimeWarning,
            )
            validate_buffering = -1
        elif text and encoding is None and sys.flags.warn_default_encoding:
            warn("'encoding' argument not specified", EncodingWarning)
            encoding = "locale"
        args = (file, mode, validate_buffering, encoding, errors, newline, closefd)
        try:
            _REAL_OPEN(*args, _stop_before_opening)
        except _Validated as validated:
            name: str | bytes = validated.args[0]
        else:  # pragma: no cover - real open calls the opener for every path
            raise AssertionError("open() did not call its opener")
        reading = "r" in mode or "U" in mode  # a bare "U" reads (Python 3.10 only)
        writing = "w" in mode
        appending = "a" in mode
        creating = "x" in mode
        updating = "+" in mode
        where = os.fsdecode(name)
        problem = self._not_a_file(where, name, making=not reading)
        if problem is not None:
            raise problem
        slot = self.files._slot(where)
        fresh = writing or creating
        if slot is None:
            if reading:
                if not self.strict:
                    return _REAL_OPEN(*args, opener)
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
            entry = self.files._create(where)
            fresh = True
        else:
            entry = slot.entry
            if creating:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name)
            if writing:
                del entry.data[:]
        raw_mode = (
            "xb" if creating else "ab" if appending else "rb" if reading or updating else "wb"
        )
        raw = _FakeRaw(
            entry,
            name,
            raw_mode + ("+" if updating else ""),
            readable=reading or updating,
            writable=not reading or updating,
            appending=appending,
        )
        try:
            result = self._wrap(raw, mode, buffering, encoding, errors, newline, binary, updating)
        except BaseException:
            raw.close()
            raise
        if fresh:
            # An empty file made by a text-mode open reads back as "", not b"".
            raw.mark()
        return result

    def _not_a_file(self, text: str, name: str | bytes, making: bool) -> OSError | None:
        """The error the OS gives for a path that cannot name a file, as far as the map says.

        Measured on Linux: ``""`` does not exist; a fake file used as a directory
        (``a.txt/b``, ``a.txt/.``) is not a directory; a path ending in a separator names
        a directory, which ``w``/``a``/``x`` refuse to make a file of (``EISDIR``) and
        which, read, is not a directory if the map has it as a file.
        """
        if not text:
            return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
        stripped = text.rstrip(os.sep + (os.altsep or "")) or text
        head = os.path.dirname(stripped)
        while head:
            if self.files._slot(head) is not None:
                return NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
            parent = os.path.dirname(head)
            if parent == head:
                break
            head = parent
        if stripped == text and not _names_a_directory(text):
            return None
        if making:
            return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        if self.files._slot(stripped) is not None:
            return NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
        return None

    @staticmethod
    def _wrap(
        raw: _FakeRaw,
        mode: str,
        buffering: int,
        encoding: str | None,
        errors: str | None,
        newline: str | None,
        binary: bool,
        updating: bool,
    ) -> Any:
        # The same layering as the real open (see _pyio.open).
        line_buffering = False
        if buffering == 1:
            buffering = -1
            line_buffering = True
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if binary:
                return raw
            raise ValueError("can't have unbuffered text I/O")
        buffer: io.BufferedIOBase
        if updating:
            buffer = io.BufferedRandom(raw, buffering)
        elif raw.writable():
            buffer = io.BufferedWriter(raw, buffering)
        else:
            buffer = io.BufferedReader(raw, buffering)
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, encoding, errors, newline, line_buffering)
        raw.kind = (text.encoding, text.errors or "strict")
        text.mode = mode  # type: ignore[misc]
        return text


def _check_files(files: object) -> Mapping[Any, Contents] | None:
    if files is None or isinstance(files, Mapping):
        return files
    raise FakeFilesError(
        f"fake_open() takes files as a mapping of path to contents, such as "
        f"{{'config.yaml': 'debug: true'}}, not {files!r}."
    )


@final
class FakeOpen(Activation[Any]):
    """One ``sm.fake_open(...)``: a context manager, a decorator, and ``start()``/``stop()``.

    Each activation serves a fresh copy of the files given; see `fake_open`.

    Examples:
        >>> import saferemock as sm
        >>> faker = sm.fake_open({"a.txt": "A"})
        >>> fake = faker.start()
        >>> with open("a.txt", "a") as f:
        ...     f.write("B")
        1
        >>> fake.files["a.txt"]
        'AB'
        >>> faker.stop()
        >>> @faker
        ... def read(fake):
        ...     with open("a.txt") as f:
        ...         return f.read(), fake.call_count
        >>> read()  # a new activation: the write above is gone
        ('A', 1)
    """

    _passes_value = True

    def __init__(
        self,
        files: Mapping[Any, Contents] | None,
        module: types.ModuleType | str | None,
        strict: bool,
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        files = _check_files(files)
        # Build once to validate paths and contents now; each activation copies afresh.
        FakeFiles(files)
        check_module(module, "fake_open")
        self._files = dict(files or {})
        self._module = module
        if not isinstance(strict, bool):
            raise TypeError(f"fake_open() takes strict=True or False, not {strict!r}.")
        self._strict = strict

    def describe(self) -> str:
        return "fake_open()"

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        consumer = consumer_module(self._module, "open")
        # Built now, not at construction: relative paths are taken against the working
        # directory the fake starts in (a decorated test's, after its fixtures ran).
        files = FakeFiles(self._files)
        fake = builtin_mock("open", real_builtin("open"), side_effect=_Opener(files, self._strict))
        fake.files = files
        install_builtin(journal, "open", fake, consumer)
        return fake

    def reset(self, value: Any, *, return_value: bool, side_effect: bool) -> None:
        super().reset(value, return_value=return_value, side_effect=side_effect)
        if side_effect:
            # The files are the fake's behaviour: a reset forgets calls, not files.
            value.side_effect = _Opener(value.files, self._strict)


def fake_open(
    files: Mapping[Any, Contents] | None = None,
    *,
    module: types.ModuleType | str | None = None,
    strict: bool = True,
) -> FakeOpen:
    """Serve ``open()`` from an in-memory map of path to ``str`` or ``bytes`` contents.

    The fake behaves as real file objects do, in every mode (``r``, ``rb``, ``w``,
    ``wb``, ``a``, ``ab``, ``r+``, ``w+``, ``x``...), with ``encoding``, ``errors`` and
    ``newline``; ``str`` contents read in binary mode come back encoded, and ``bytes``
    read in text mode decoded, as from a real file.  A path not in the map raises the
    real ``FileNotFoundError``, or goes to the real ``open`` with ``strict=False``;
    opening for writing (``w``, ``a``, ``x``) creates the file in memory, never on disk.
    What is written shows in ``fake.files[path]`` once flushed or closed.  Relative
    paths name files in the working directory, as for the real ``open``: the keys of
    ``files`` the one the fake starts in.  A fake file used as a directory
    (``"a.txt/"``, ``"a.txt/b"``) raises ``NotADirectoryError``.

    The yielded ``fake`` is an autospecced mock of ``open`` (``fake.assert_called_once_with``)
    with a ``files`` attribute (`FakeFiles`).  Globally it replaces ``open`` and
    ``io.open``, so ``pathlib.Path.open``/``read_text``/``write_bytes`` see it too, while
    pytest and other test machinery keep the real ``open``; ``module="myapp.io"`` limits
    it to that module.  ``os.open``, C extensions and file descriptors (``open(3)``) are
    not faked.

    Examples:
        >>> import saferemock as sm
        >>> with sm.fake_open({"config.yaml": "debug: true"}) as fake:
        ...     with open("config.yaml") as f:
        ...         f.read()
        ...     with open("out.txt", "w") as f:
        ...         f.write("done")
        'debug: true'
        4
        >>> fake.files["out.txt"]
        'done'
        >>> fake.assert_any_call("config.yaml")
    """
    __tracebackhide__ = True
    return FakeOpen(files, module, strict)
