"""The public names of ``legacy`` and its error tree."""

from __future__ import annotations

from pathlib import Path

import legacy
from legacy import errors
from legacy.mq import MqHeaderError


def test_public_names() -> None:
    for name in ("parse_copybook", "load_copybook", "copybook", "Layout", "CopybookSyntaxError", "RecordError"):
        assert name in legacy.__all__ and hasattr(legacy, name)
    assert all(hasattr(legacy, name) for name in legacy.__all__)


def test_every_error_is_a_legacy_format_error_of_legacy_s_own() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.LegacyFormatError), name
        assert getattr(legacy, name) is cls
    assert issubclass(MqHeaderError, errors.LegacyFormatError)
    # rooted outside the engine's tree, so that the codecs import without the engine
    assert errors.LegacyFormatError.__mro__[1:] == Exception.__mro__
    assert issubclass(errors.InvalidPackedDecimalError, errors.InvalidDataError)
    assert issubclass(errors.RedefinesConflictError, errors.EncodeError)


def test_copybook_accepts_a_layout_text_or_path(tmp_path: Path) -> None:
    text = "       01 R.\n           05 A PIC X(2).\n"
    layout = legacy.copybook(text)
    assert legacy.copybook(layout) is layout
    path = tmp_path / "r.cpy"
    path.write_text(text)
    assert legacy.copybook(str(path), "cp500").code_page.name == "cp500"
    assert legacy.copybook(path).record_length == 2


def test_record_error_context_is_filled_in_once() -> None:
    err = errors.InvalidDigitError("bad digit", offset=3)
    err.at(record_number=2, field_path="R.A", offset=9)
    assert (err.record_number, err.field_path, err.offset) == (2, "R.A", 3)
    assert str(err) == "record 2, field R.A, byte 3: bad digit"
