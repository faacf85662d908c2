"""sm.fake_open: an in-memory file map behind an autospecced mock of open."""

# These tests call open() and io.open() bare on purpose: the calls are what is tested.
# ruff: noqa: SIM115, UP015, UP020

from __future__ import annotations

import asyncio
import builtins
import codecs
import errno
import io
import locale
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from typing import Any

import _pytest.python
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statecheck import Snapshot, active_runs, builtin_slots

import saferemock as sm

# The interpreter's own open, for the real side of each comparison.
REAL_OPEN: Callable[..., Any] = io.open
ENCODING = "utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(*builtin_slots())
    yield
    assert active_runs() == []
    snap.assert_unchanged()


def _consumer(name: str = "fake_open_consumer") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(
        "def read(path, mode='r', **kw):\n"
        "    with open(path, mode, **kw) as f:\n"
        "        return f.read()\n",
        vars(module),
    )
    return module


def _read(path: Any, mode: str = "r", **kwargs: Any) -> Any:
    with open(path, mode, **kwargs) as f:
        return f.read()


def _outcome(action: Callable[[], Any]) -> Any:
    try:
        return ("ok", action())
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def _same_error(fake: BaseException, real: BaseException) -> None:
    assert type(fake) is type(real)
    assert fake.args == real.args
    assert str(fake) == str(real)
    if isinstance(real, OSError):
        assert isinstance(fake, OSError)
        assert (fake.errno, fake.strerror, fake.filename, fake.filename2) == (
            real.errno,
            real.strerror,
            real.filename,
            real.filename2,
        )


# -- reading -------------------------------------------------------------------------------


def test_reads_text_and_records_the_call() -> None:
    with sm.fake_open({"config.yaml": "debug: true\n"}) as fake:
        with open("config.yaml") as f:
            assert f.read() == "debug: true\n"
        assert f.closed
    fake.assert_called_once_with("config.yaml")


def test_the_fake_is_an_autospecced_mock_of_open() -> None:
    with sm.fake_open({"a.txt": "A"}) as fake:
        with pytest.raises(TypeError, match=re.escape("too many positional arguments")):
            open("a.txt", "r", -1, None, None, None, True, None, "extra")
        with pytest.raises(
            TypeError, match=re.escape("got an unexpected keyword argument 'bogus'")
        ):
            open("a.txt", bogus=True)
        with pytest.raises(TypeError, match=re.escape("missing a required argument: 'file'")):
            open()
        with pytest.raises(TypeError):
            REAL_OPEN("a.txt", "r", -1, None, None, None, True, None, "extra")
    assert fake.call_count == 0


def test_read_methods_iteration_and_lines() -> None:
    content = "one\ntwo\nthree"
    with sm.fake_open({"lines.txt": content}):
        with open("lines.txt") as f:
            assert f.readline() == "one\n"
            assert f.tell() == 4
            assert f.readlines() == ["two\n", "three"]
            assert f.readline() == ""
            f.seek(0)
            assert list(f) == ["one\n", "two\n", "three"]
            f.seek(0)
            assert f.read(2) == "on"
        with open("lines.txt", "rb") as f:
            assert list(f) == [b"one\n", b"two\n", b"three"]
            f.seek(-5, os.SEEK_END)
            assert f.read() == b"three"


def test_text_contents_read_in_binary_mode_come_back_encoded() -> None:
    with sm.fake_open({"greeting.txt": "héllo"}):
        with open("greeting.txt", "rb") as f:
            assert f.read() == "héllo".encode(ENCODING)
        with open("greeting.txt", encoding=ENCODING) as f:
            assert f.read() == "héllo"


def test_bytes_contents_read_in_text_mode_are_decoded_with_the_given_encoding() -> None:
    data = "héllo wörld".encode("utf-16")
    with sm.fake_open({"u16.txt": data, "latin.txt": "é".encode("latin-1")}):
        with open("u16.txt", encoding="utf-16") as f:
            assert f.read() == "héllo wörld"
        with open("latin.txt", encoding="latin-1") as f:
            assert f.read() == "é"
        with open("latin.txt", encoding="utf-8") as f, pytest.raises(UnicodeDecodeError):
            f.read()
        with open("latin.txt", encoding="utf-8", errors="replace") as f:
            assert f.read() == "\ufffd"


def test_newline_translation_is_the_real_one() -> None:
    with sm.fake_open({"crlf.txt": b"a\r\nb\rc\n"}) as fake:
        with open("crlf.txt") as f:
            assert f.read() == "a\nb\nc\n"
        with open("crlf.txt", newline="") as f:
            assert f.readlines() == ["a\r\n", "b\r", "c\n"]
        with open("crlf.txt", newline="\r\n") as f:
            assert f.readlines() == ["a\r\n", "b\rc\n"]
        with open("out.txt", "w", newline="\r\n") as f:
            f.write("x\ny\n")
        assert fake.files["out.txt"] == "x\r\ny\r\n"
        with pytest.raises(ValueError, match=re.escape("illegal newline value: bad")):
            open("crlf.txt", newline="bad")


def test_paths_are_normalised_and_pathlike_objects_accepted(tmp_path: pathlib.Path) -> None:
    absolute = tmp_path / "data.txt"
    with sm.fake_open({"./sub/../a.txt": "A", absolute: b"B", b"c.txt": "C"}) as fake:
        assert _read("a.txt") == "A"
        assert _read(pathlib.Path("a.txt")) == "A"
        assert _read(os.path.abspath("a.txt")) == "A"
        assert _read(str(absolute), "rb") == b"B"
        assert _read("c.txt") == "C"
        assert _read(b"c.txt") == "C"
    assert list(fake.files) == ["a.txt", str(absolute), "c.txt"]
    assert fake.files[pathlib.Path("./a.txt")] == "A"


# -- relative paths and the working directory ---------------------------------------------


def test_a_relative_key_names_the_file_in_the_directory_the_fake_started_in(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    with sm.fake_open({"a.txt": "A"}) as fake:
        assert _read("a.txt") == "A"
        monkeypatch.chdir(tmp_path / "sub")
        with pytest.raises(FileNotFoundError) as info:
            open("a.txt")  # sub/a.txt: another file, as on disk
        assert info.value.filename == "a.txt"
        assert _read("../a.txt") == "A"
        assert _read(tmp_path / "a.txt") == "A"
        assert "a.txt" not in fake.files
        assert fake.files["../a.txt"] == "A"
        assert list(fake.files) == [os.path.join(os.pardir, "a.txt")]
        monkeypatch.chdir(tmp_path)
        assert list(fake.files) == ["a.txt"]


def test_relative_keys_are_taken_when_the_fake_starts_not_when_it_is_made(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    faker = sm.fake_open({"a.txt": "A"})

    @sm.fake_open({"b.txt": "B"})
    def decorated(fake: Any) -> list[str]:
        return [_read("b.txt"), *fake.files]

    monkeypatch.chdir(tmp_path / "two")  # as a fixture would, before the test runs
    with faker:
        assert _read(tmp_path / "two" / "a.txt") == "A"
        with pytest.raises(FileNotFoundError):
            open(tmp_path / "one" / "a.txt")
    assert decorated() == ["B", "b.txt"]


def test_a_relative_path_opened_for_writing_is_taken_where_it_is_opened(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    with sm.fake_open() as fake:
        with open("out.txt", "w") as f:
            f.write("top")
        monkeypatch.chdir(tmp_path / "sub")
        with open("out.txt", "w") as f:
            f.write("sub")
        fake.files["set.txt"] = "set in sub"
        assert dict(fake.files) == {
            os.path.join(os.pardir, "out.txt"): "top",
            "out.txt": "sub",
            "set.txt": "set in sub",
        }
        monkeypatch.chdir(tmp_path)
        assert _read("out.txt") == "top"
        assert _read(os.path.join("sub", "out.txt")) == "sub"
        assert sorted(fake.files) == sorted(
            ["out.txt", os.path.join("sub", "out.txt"), os.path.join("sub", "set.txt")]
        )
        del fake.files["sub/set.txt"]
        assert len(fake.files) == 2
    assert not (tmp_path / "out.txt").exists()


# -- paths that cannot name a file ---------------------------------------------------------

# Measured against the real open in a directory holding the file a.txt and nothing else.
_NOT_A_FILE_PATHS = [
    "a.txt/",
    "a.txt/b",
    "a.txt/.",
    "a.txt/b/",
    "a.txt/../a.txt",
    "missing/",
    "",
]


@pytest.mark.parametrize("mode", ["r", "rb", "r+", "w", "wb", "a", "x", "w+"])
@pytest.mark.parametrize("path", _NOT_A_FILE_PATHS)
def test_a_path_through_a_file_fails_as_on_disk(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, path: str, mode: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("on disk")
    with pytest.raises(OSError) as real:
        REAL_OPEN(path, mode)
    (tmp_path / "a.txt").unlink()
    with sm.fake_open({"a.txt": "in memory"}) as fake, pytest.raises(OSError) as faked:
        open(path, mode)
    _same_error(faked.value, real.value)
    assert list(fake.files) == ["a.txt"]  # nothing was created
    for strict in (True, False):  # the map says a.txt is a file, whatever strict says
        with sm.fake_open({"a.txt": "in memory"}, strict=strict), pytest.raises(OSError) as again:
            open(os.fsencode(path), mode)
        assert (type(again.value), again.value.errno) == (type(real.value), real.value.errno)


def test_opening_a_fake_file_with_a_trailing_separator_is_not_a_directory_error() -> None:
    with sm.fake_open({"a.txt": "A"}), pytest.raises(NotADirectoryError) as info:
        open("a.txt/")
    assert (info.value.errno, info.value.filename) == (errno.ENOTDIR, "a.txt/")
    assert str(info.value) == f"[Errno {errno.ENOTDIR}] {os.strerror(errno.ENOTDIR)}: 'a.txt/'"


def test_the_empty_path_is_no_file() -> None:
    with sm.fake_open({"a.txt": "A"}) as fake:
        assert "" not in fake.files
        with pytest.raises(KeyError):
            fake.files[""]
        with pytest.raises(sm.FakeFilesError) as info:
            fake.files[""] = "x"
    assert str(info.value) == (
        "fake_open() takes paths that name a file, not ''; give one such as 'config.yaml'."
    )


# -- unknown paths -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["r", "rb", "r+", "rb+"])
def test_unknown_path_raises_the_real_file_not_found_error(
    tmp_path: pathlib.Path, mode: str
) -> None:
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError) as real:
        REAL_OPEN(missing, mode)
    with sm.fake_open({"other.txt": "x"}), pytest.raises(FileNotFoundError) as fake:
        open(missing, mode)
    _same_error(fake.value, real.value)
    assert fake.value.filename == missing


def test_unknown_path_error_for_path_and_bytes_arguments(tmp_path: pathlib.Path) -> None:
    for path in (tmp_path / "missing.txt", os.fsencode(tmp_path / "missing.txt")):
        with pytest.raises(FileNotFoundError) as real:
            REAL_OPEN(path)
        with sm.fake_open(), pytest.raises(FileNotFoundError) as fake:
            open(path)
        _same_error(fake.value, real.value)


def test_exclusive_creation_of_an_existing_file_raises_the_real_error(
    tmp_path: pathlib.Path,
) -> None:
    existing = tmp_path / "exists.txt"
    existing.write_text("on disk")
    with pytest.raises(FileExistsError) as real:
        REAL_OPEN(str(existing), "x")
    with sm.fake_open({str(existing): "in memory"}), pytest.raises(FileExistsError) as fake:
        open(str(existing), "x")
    _same_error(fake.value, real.value)


def test_strict_false_sends_unknown_reads_to_the_real_open(tmp_path: pathlib.Path) -> None:
    on_disk = tmp_path / "disk.txt"
    on_disk.write_text("from disk")
    shadowed = tmp_path / "shadowed.txt"
    shadowed.write_text("disk version")
    with sm.fake_open({shadowed: "memory version"}, strict=False) as fake:
        assert _read(on_disk) == "from disk"
        assert _read(shadowed) == "memory version"
        with pytest.raises(FileNotFoundError):
            open(tmp_path / "nowhere.txt")
        # Writing never reaches the disk, known path or not.
        with open(tmp_path / "new.txt", "w") as f:
            f.write("new")
    assert not (tmp_path / "new.txt").exists()
    assert fake.files[tmp_path / "new.txt"] == "new"
    assert shadowed.read_text() == "disk version"


def test_file_descriptors_go_to_the_real_open(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "fd.txt"
    path.write_text("through a descriptor")
    fd = os.open(path, os.O_RDONLY)
    with sm.fake_open() as fake, open(fd) as f:
        assert f.read() == "through a descriptor"
    fake.assert_called_once_with(fd)


# -- writing -------------------------------------------------------------------------------


def test_written_contents_show_when_flushed_and_when_closed() -> None:
    with sm.fake_open() as fake:
        f = open("out.txt", "w")
        f.write("first\n")
        assert fake.files["out.txt"] == ""
        f.flush()
        assert fake.files["out.txt"] == "first\n"
        f.write("second\n")
        assert fake.files["out.txt"] == "first\n"
        f.close()
        assert fake.files["out.txt"] == "first\nsecond\n"
    assert fake.files["out.txt"] == "first\nsecond\n"


@pytest.mark.parametrize(
    ("mode", "initial", "expected"),
    [
        ("w", "old", "new"),
        ("a", "old", "oldnew"),
        ("r+", "old-tail", "new-tail"),
        ("w+", "old", "new"),
        ("x", None, "new"),
    ],
)
def test_text_write_modes(mode: str, initial: str | None, expected: str) -> None:
    files = {} if initial is None else {"f.txt": initial}
    with sm.fake_open(files) as fake:
        with open("f.txt", mode) as f:
            f.write("new")
            if "+" in mode:
                f.seek(0)
                assert f.read() == expected
    assert fake.files["f.txt"] == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("wb", b"\x00\x01"), ("ab", b"old\x00\x01"), ("rb+", b"\x00\x01d"), ("xb", None)],
)
def test_binary_write_modes(mode: str, expected: bytes | None) -> None:
    with sm.fake_open({"f.bin": b"old"}) as fake:
        if expected is None:
            with pytest.raises(FileExistsError):
                open("f.bin", mode)
            return
        with open("f.bin", mode) as f:
            f.write(b"\x00\x01")
    assert fake.files["f.bin"] == expected


def test_writelines_seek_tell_and_truncate() -> None:
    with sm.fake_open() as fake:
        with open("log.txt", "w+") as f:
            f.writelines(["a\n", "b\n", "c\n"])
            assert f.tell() == 6
            f.seek(2)
            f.truncate()
            f.seek(0, os.SEEK_END)
            f.write("z")
        with open("data.bin", "wb") as f:
            f.seek(3)
            f.write(b"x")
    assert fake.files["log.txt"] == "a\nz"
    assert fake.files["data.bin"] == b"\x00\x00\x00x"


def test_print_to_a_fake_file() -> None:
    with sm.fake_open() as fake:
        with open("report.txt", "w") as f:
            print("total", 3, file=f)
    assert fake.files["report.txt"] == "total 3\n"


def test_writing_in_binary_mode_makes_the_file_read_back_as_bytes() -> None:
    with sm.fake_open({"t.txt": "text"}) as fake:
        with open("t.txt", "ab") as f:
            f.write(b"!")
        assert fake.files["t.txt"] == b"text!"
        with open("t.txt", "a", encoding="utf-8") as f:
            f.write("?")
        assert fake.files["t.txt"] == "text!?"


def test_files_mapping_can_be_changed_during_the_test() -> None:
    with sm.fake_open({"a.txt": "A"}) as fake:
        fake.files["b.txt"] = b"B"
        fake.files["./a.txt"] = "A2"
        assert _read("b.txt", "rb") == b"B"
        assert _read("a.txt") == "A2"
        del fake.files["a.txt"]
        with pytest.raises(FileNotFoundError):
            open("a.txt")
        with pytest.raises(KeyError):
            fake.files["a.txt"]
        with pytest.raises(KeyError):
            del fake.files["a.txt"]
        assert "b.txt" in fake.files
        assert 42 not in fake.files
        assert len(fake.files) == 1
    assert repr(fake.files) == "FakeFiles({'b.txt': b'B'})"


# -- behaving like real file objects -------------------------------------------------------

MODES = ["r", "rb", "w", "wb", "a", "ab", "r+", "rb+", "w+", "wb+", "a+", "ab+", "x", "xb"]


@pytest.mark.parametrize("mode", MODES)
def test_file_objects_have_the_real_types_and_attributes(tmp_path: pathlib.Path, mode: str) -> None:
    real_path = tmp_path / "real.txt"
    if "x" not in mode:
        real_path.write_bytes(b"abc")
    files = {} if "x" in mode else {"fake.txt": b"abc"}
    with sm.fake_open(files):
        fake = open("fake.txt", mode)
    real = REAL_OPEN(real_path, mode)
    with fake, real:
        assert type(fake) is type(real)
        assert fake.mode == real.mode
        assert fake.name == "fake.txt"
        assert (fake.readable(), fake.writable(), fake.seekable()) == (
            real.readable(),
            real.writable(),
            real.seekable(),
        )
        assert fake.tell() == real.tell()
        assert fake.isatty() is False
        if "b" not in mode:
            assert fake.buffer.raw.mode == real.buffer.raw.mode
        else:
            assert fake.raw.mode == real.raw.mode


@pytest.mark.parametrize(
    ("mode", "action"),
    [
        ("r", lambda f: f.write("x")),
        ("w", lambda f: f.read()),
        ("rb", lambda f: f.write(b"x")),
        ("wb", lambda f: f.read()),
        ("rb", lambda f: f.truncate()),
        ("r", lambda f: f.seek(-1)),
        ("rb", lambda f: f.seek(-1)),
        ("r", lambda f: f.seek(1, os.SEEK_CUR)),
    ],
)
def test_unsupported_operations_fail_as_on_a_real_file(
    tmp_path: pathlib.Path, mode: str, action: Callable[[Any], Any]
) -> None:
    real_path = tmp_path / "real.txt"
    real_path.write_text("abc")
    with REAL_OPEN(real_path, mode) as real:
        expected = _outcome(lambda: action(real))
    with sm.fake_open({"fake.txt": "abc"}), open("fake.txt", mode) as fake:
        assert _outcome(lambda: action(fake)) == expected
    assert expected[0] != "ok"


@pytest.mark.parametrize("buffering", [0, 1, 5, -1])
@pytest.mark.parametrize("mode", ["rb", "r", "wb"])
def test_buffering_argument_as_real_open(tmp_path: pathlib.Path, mode: str, buffering: int) -> None:
    real_path = tmp_path / "real.txt"
    real_path.write_bytes(b"abc\n")

    def use(opener: Callable[..., Any], path: Any) -> Any:
        with opener(path, mode, buffering) as f:
            # buffering=0 gives an io.RawIOBase: real open's is an io.FileIO, ours is not.
            kind = next(
                k for k in (io.RawIOBase, io.BufferedIOBase, io.TextIOBase) if isinstance(f, k)
            )
            return (kind.__name__, f.read() if "r" in mode else f.write(b"z"))

    if mode == "rb" and buffering == 1:
        with pytest.warns(RuntimeWarning, match="line buffering"):
            expected = _outcome(lambda: use(REAL_OPEN, real_path))
        with sm.fake_open({"f": b"abc\n"}), pytest.warns(RuntimeWarning) as record:
            assert _outcome(lambda: use(open, "f")) == expected
        assert record[0].filename == __file__
        return
    expected = _outcome(lambda: use(REAL_OPEN, real_path))
    with sm.fake_open({"f": b"abc\n"}):
        assert _outcome(lambda: use(open, "f")) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("a.txt", "rz"),
        ("a.txt", "rw"),
        ("a.txt", "rb", -1, "utf-8"),
        ("a.txt", "rb", -1, None, "strict"),
        ("a.txt", "rb", -1, None, None, "\n"),
        ("a.txt", "r", -1, None, None, None, False),
        (3.5,),
        ("a.txt", "r", -1, "no-such-codec"),
    ],
)
def test_invalid_arguments_raise_what_real_open_raises(
    tmp_path: pathlib.Path, args: tuple[Any, ...]
) -> None:
    os.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    expected = _outcome(lambda: REAL_OPEN(*args).close())
    with sm.fake_open({"a.txt": "x"}):
        assert _outcome(lambda: open(*args).close()) == expected
    assert expected[0] != "ok"


def test_encoding_warning_points_at_the_callers_line(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "import warnings, saferemock as sm\n"
        "warnings.simplefilter('always')\n"
        "with sm.fake_open({'a.txt': 'x'}):\n"
        "    open('a.txt').close()\n"
        "open(__file__).close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", str(script)],
        capture_output=True,
        text=True,
        check=True,
    )
    warning = "EncodingWarning: 'encoding' argument not specified"
    assert result.stderr.splitlines()[::2] == [
        f"{script}:4: {warning}",
        f"{script}:5: {warning}",
    ]


def test_closed_files_refuse_io_as_real_ones_do(tmp_path: pathlib.Path) -> None:
    real_path = tmp_path / "real.txt"
    real_path.write_text("abc")
    for mode, buffering in (("r", -1), ("rb", -1), ("rb", 0)):
        real = REAL_OPEN(real_path, mode, buffering)
        real.close()
        with sm.fake_open({"f": "abc"}):
            fake = open("f", mode, buffering)
        fake.close()
        assert _outcome(fake.read) == _outcome(real.read)


def test_fake_files_have_no_descriptor() -> None:
    with sm.fake_open({"f": "x"}), open("f") as f:
        with pytest.raises(
            io.UnsupportedOperation, match="a fake_open file has no file descriptor"
        ):
            f.fileno()


# -- differential: random operation sequences against real files ----------------------------

_TEXT = st.text(alphabet="ab\n\ré", max_size=6)
_BYTES = st.binary(max_size=6)


def _ops(binary: bool) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    op = st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 5)),
        st.tuples(st.just("readline")),
        st.tuples(st.just("readlines")),
        st.tuples(st.just("write"), _BYTES if binary else _TEXT),
        st.tuples(st.just("seek"), st.integers(-3, 8), st.integers(0, 2)),
        st.tuples(st.just("tell")),
        st.tuples(st.just("truncate"), st.one_of(st.none(), st.integers(0, 8))),
        st.tuples(st.just("flush")),
    )
    return st.lists(op, max_size=8)


def _run(f: Any, ops: list[tuple[Any, ...]]) -> list[Any]:
    results = []
    for name, *args in ops:
        results.append(_outcome(lambda name=name, args=args: getattr(f, name)(*args)))
    results.append(_outcome(f.close))
    return results


def _differential(mode: str, initial: bytes | None, ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        real_path = os.path.join(directory, "f")
        if initial is not None:
            with REAL_OPEN(real_path, "wb") as f:
                f.write(initial)
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "errors": "surrogateescape"}
        real_result = _outcome(lambda: _run(REAL_OPEN(real_path, mode, **kwargs), ops))
        on_disk = None
        if os.path.exists(real_path):
            with REAL_OPEN(real_path, "rb") as f:
                on_disk = f.read()
    files = {} if initial is None else {"f": initial}
    with sm.fake_open(files) as fake:
        fake_result = _outcome(lambda: _run(open("f", mode, **kwargs), ops))
    assert fake_result == real_result
    if on_disk is not None:
        contents = fake.files["f"]
        assert (
            contents if isinstance(contents, bytes) else contents.encode("utf-8", "surrogateescape")
        ) == on_disk


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["rb", "wb", "ab", "rb+", "wb+", "ab+", "xb"]),
    initial=_BYTES,
    ops=_ops(binary=True),
)
def test_binary_files_behave_as_real_files(mode: str, initial: bytes, ops: list[Any]) -> None:
    _differential(mode, None if "x" in mode else initial, ops)


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["r", "w", "a", "r+", "w+", "a+", "x"]),
    initial=_TEXT.map(lambda text: text.encode("utf-8")),
    ops=_ops(binary=False),
)
def test_text_files_behave_as_real_files(mode: str, initial: bytes, ops: list[Any]) -> None:
    _differential(mode, None if "x" in mode else initial, ops)


# -- where the fake is seen -----------------------------------------------------------------


def test_global_mode_covers_io_open_and_pathlib(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "p.txt"
    with sm.fake_open({"in.txt": "text", "in.bin": b"\x00"}) as fake:
        with io.open("in.txt") as f:
            assert f.read() == "text"
        assert pathlib.Path("in.txt").read_text() == "text"
        assert pathlib.Path("in.bin").read_bytes() == b"\x00"
        with pathlib.Path("in.txt").open() as f:
            assert f.read() == "text"
        pathlib.Path(target).write_text("written")
        pathlib.Path("out.bin").write_bytes(b"\x01")
        with codecs.open("in.txt", encoding="utf-8") as f:
            assert f.read() == "text"
    assert not target.exists()
    assert fake.files[target] == "written"
    assert fake.files["out.bin"] == b"\x01"
    assert fake.call_count == 7


def test_module_mode_limits_the_fake_to_one_consumer(tmp_path: pathlib.Path) -> None:
    consumer = _consumer()
    other = _consumer("other_consumer")
    real_file = tmp_path / "config.yaml"
    real_file.write_text("from disk")
    snap = Snapshot(consumer, other)
    with sm.fake_open({real_file: "from memory"}, module=consumer) as fake:
        assert consumer.read(real_file) == "from memory"
        assert other.read(real_file) == "from disk"
        assert _read(real_file) == "from disk"
        assert real_file.read_text() == "from disk"
        assert vars(consumer)["open"] is fake
    snap.assert_unchanged()
    fake.assert_called_once_with(real_file, "r")


def test_module_mode_by_dotted_name() -> None:
    consumer = _consumer("fake_open_dotted_consumer")
    with sm.patch.dict(sys.modules, {"fake_open_dotted_consumer": consumer}):
        with sm.fake_open({"a": "A"}, module="fake_open_dotted_consumer"):
            assert consumer.read("a") == "A"
        assert "open" not in vars(consumer)


def test_pytest_machinery_keeps_the_real_open(tmp_path: pathlib.Path) -> None:
    real_file = tmp_path / "real.txt"
    real_file.write_text("real")
    machinery: dict[str, Any] = {"__name__": "_pytest.probe", "path": real_file}
    code = compile("with open(path) as f:\n    result = f.read()", _pytest.python.__file__, "exec")
    with sm.fake_open({real_file: "fake"}):
        exec(code, machinery)
        assert _read(real_file) == "fake"
    assert machinery["result"] == "real"


# -- activation: decorators, start/stop, scope ----------------------------------------------


@sm.fake_open({"deco.txt": "decorated"})
def _decorated(fake: Any) -> str:
    with open("deco.txt") as f:
        text = f.read()
    fake.assert_called_once_with("deco.txt")
    return text


def test_decorator_passes_the_fake_and_starts_fresh_each_call() -> None:
    assert _decorated() == "decorated"
    assert _decorated() == "decorated"


def test_async_decorator() -> None:
    @sm.fake_open({"a.txt": "async"})
    async def read(fake: Any) -> str:
        await asyncio.sleep(0)
        with open("a.txt") as f:
            return f.read()

    assert asyncio.run(read()) == "async"


def test_class_decorator_passes_the_fake_to_each_test_method() -> None:
    @sm.fake_open({"cls.txt": "class"})
    class Suite:
        def test_one(self, fake: Any) -> Any:
            assert _read("cls.txt") == "class"
            return fake

        def helper(self) -> Any:
            return builtins.open

    fake = Suite().test_one()
    fake.assert_called_once_with("cls.txt", "r")
    assert Suite().helper() is REAL_OPEN


def test_start_stop_and_each_activation_starts_from_the_given_files() -> None:
    faker = sm.fake_open({"a.txt": "A"})
    fake = faker.start()
    with open("a.txt", "w") as f:
        f.write("changed")
    assert fake.files["a.txt"] == "changed"
    faker.stop()
    with faker as second:
        assert _read("a.txt") == "A"
    assert second is not fake
    with pytest.raises(
        sm.SaferemockError,
        match=re.escape(
            "Cannot stop fake_open(): it is not active; call start() first or stop it only once."
        ),
    ):
        faker.stop()


def test_scope_and_stopall_undo_it() -> None:
    with sm.scope():
        sm.fake_open({"a": "A"}).start()
        assert _read("a") == "A"
    assert builtins.open is REAL_OPEN
    sm.fake_open().start()
    sm.stopall()
    assert builtins.open is REAL_OPEN
    assert io.open is REAL_OPEN


# -- restoring state -------------------------------------------------------------------------


def test_state_restored_after_an_exception_inside() -> None:
    consumer = _consumer()
    snap = Snapshot(*builtin_slots(), consumer)
    with pytest.raises(ZeroDivisionError), sm.fake_open({"a": "A"}):
        1 / 0
    with pytest.raises(ZeroDivisionError), sm.fake_open({"a": "A"}, module=consumer):
        1 / 0
    snap.assert_unchanged()


def test_nested_fakes_each_see_their_own_files() -> None:
    consumer = _consumer()
    snap = Snapshot(*builtin_slots(), consumer)
    with sm.fake_open({"a": "outer"}) as outer:
        with sm.fake_open({"a": "inner"}, module=consumer):
            with sm.fake_open({"a": "innermost"}) as innermost:
                assert _read("a") == "innermost"
                assert consumer.read("a") == "inner"
            assert _read("a") == "outer"
        assert consumer.read("a") == "outer"
    snap.assert_unchanged()
    outer.assert_has_calls([])
    assert innermost.call_count == 1


def test_interleaved_stops_restore_exactly() -> None:
    snap = Snapshot(*builtin_slots())
    first = sm.fake_open({"a": "first"})
    second = sm.patch_builtin("open", return_value="patched")
    first.start()
    second.start()
    assert open("a") == "patched"
    first.stop()
    assert open("a") == "patched"
    second.stop()
    snap.assert_unchanged()
    assert builtins.open is REAL_OPEN


def test_nothing_is_left_behind_when_start_fails() -> None:
    snap = Snapshot(*builtin_slots(), sys.modules)
    with pytest.raises(sm.TargetImportError):
        sm.fake_open({"a": "A"}, module="no_such_consumer_module_xyz").start()
    snap.assert_unchanged()


# -- argument errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.txt": 42}, "fake_open() takes file contents as str or bytes, not 42 for 'a.txt'."),
        (
            {42.5: "x"},
            "fake_open() takes paths as str, bytes or os.PathLike objects, not 42.5.",
        ),
        (
            ["a.txt"],
            "fake_open() takes files as a mapping of path to contents, such as "
            "{'config.yaml': 'debug: true'}, not ['a.txt'].",
        ),
        (
            {"a.txt": "1", "./a.txt": "2"},
            "fake_open() got './a.txt' twice (it names the same file as 'a.txt'); give each "
            "file once.",
        ),
        (
            {"": "x"},
            "fake_open() takes paths that name a file, not ''; give one such as 'config.yaml'.",
        ),
        (
            {b"": b"x"},
            "fake_open() takes paths that name a file, not b''; give one such as 'config.yaml'.",
        ),
        (
            {"conf/": "x"},
            "fake_open() takes paths that name a file, not 'conf/'; give one such as "
            "'config.yaml'.",
        ),
        (
            {".": "x"},
            "fake_open() takes paths that name a file, not '.'; give one such as 'config.yaml'.",
        ),
        (
            {"conf/..": "x"},
            "fake_open() takes paths that name a file, not 'conf/..'; give one such as "
            "'config.yaml'.",
        ),
    ],
)
def test_bad_files_argument(files: Any, message: str) -> None:
    with pytest.raises(sm.FakeFilesError, match=re.escape(message)):
        sm.fake_open(files)


def test_bad_module_argument() -> None:
    with pytest.raises(
        sm.InvalidTargetError,
        match=re.escape(
            "fake_open() takes module= as a module or its dotted name such as 'myapp.io', not 42."
        ),
    ):
        sm.fake_open(module=42)


def test_setting_bad_contents_through_files_raises() -> None:
    with sm.fake_open() as fake, pytest.raises(sm.FakeFilesError):
        fake.files["a"] = 3


# -- the seed's anti-pattern, rewritten --------------------------------------------------------


def _load_messages(path: str) -> dict[str, str]:
    with open(path) as f:
        return dict(line.split(": ", 1) for line in f.read().splitlines())


def test_mock_open_accepts_any_path_where_fake_open_checks_it() -> None:
    from unittest import mock

    # The seed: mock_open answers every path with the same data, even a wrong one.
    with mock.patch("builtins.open", mock.mock_open(read_data="foo: bar")):
        assert _load_messages("./path/to/non/existing/file.yaml") == {"foo": "bar"}
    with sm.fake_open({"ui/messages.yaml": "foo: bar"}) as fake:
        assert _load_messages("ui/messages.yaml") == {"foo": "bar"}
        with pytest.raises(FileNotFoundError):
            _load_messages("./path/to/non/existing/file.yaml")
    fake.assert_any_call("ui/messages.yaml")
