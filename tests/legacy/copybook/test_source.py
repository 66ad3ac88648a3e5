"""Copybook source formats: fixed columns, comments, continuation, free format."""

from __future__ import annotations

from legacy.copybook.lexer import tokenize
from legacy.copybook.source import detect_format, source_lines


def words(text: str, fmt: str = "auto") -> list[str]:
    return [t.text for t in tokenize(source_lines(text, fmt)) if t.kind != "end"]


def test_fixed_format_drops_sequence_and_identification_areas() -> None:
    text = (f"000100 {'01  REC.':<65}SEQ00001\n"
            f"000200 {'    05  A   PIC X(4).':<65}SEQ00002\n")
    assert words(text) == ["01", "REC", ".", "05", "A", "PIC", "X(4)", "."]


def test_comment_and_page_eject_lines_are_skipped() -> None:
    text = ("      * a comment with PIC X(10).\n"
            "      / page eject\n"
            "       01  REC.\n"
            "      D    05  DEBUG-ONLY PIC X.\n"
            "           05  A  PIC 9.\n")
    assert words(text) == ["01", "REC", ".", "05", "A", "PIC", "9", "."]


def test_text_may_start_in_column_7_as_in_cobrix_copybooks() -> None:
    text = "      01 RECORD.\n         05 A PIC X.\n"
    lines = source_lines(text)
    assert detect_format(text.splitlines()) == "fixed"
    assert lines[0].column == 7 and lines[0].text.startswith("01")


def test_continued_literal_runs_to_column_72() -> None:
    text = ("       01  REC.\n"
            "           05  A  PIC X(60).\n"
            "               88  LONG-VALUE  VALUE 'ABCDEFGHIJ\n"
            "      -    'KLMNOP'.\n")
    tokens = [t for t in tokenize(source_lines(text)) if t.kind == "string"]
    # the first part runs to column 72 (24 spaces after J), the rest follows the quote
    assert tokens[0].text == "ABCDEFGHIJ" + " " * 24 + "KLMNOP"


def test_free_format_is_detected_and_inline_comments_removed() -> None:
    text = "01 REC.\n  05 A PIC X(2). *> the A field\n* a comment line\n  05 B PIC 9.\n"
    assert detect_format(text.splitlines()) == "free"
    assert words(text) == ["01", "REC", ".", "05", "A", "PIC", "X(2)", ".", "05", "B", "PIC", "9", "."]


def test_tabs_and_end_of_file_marks() -> None:
    text = "\t01 REC.\n\t\t05 A\tPIC X.\n\x1a"
    assert words(text) == ["01", "REC", ".", "05", "A", "PIC", "X", "."]


def test_pictures_keep_their_points_and_commas() -> None:
    text = "       01 R.\n           05 A PIC ZZ,ZZ9.99-.\n           05 B PIC 9(8).9(2).\n"
    assert words(text) == ["01", "R", ".", "05", "A", "PIC", "ZZ,ZZ9.99-", ".", "05", "B", "PIC", "9(8).9(2)", "."]
