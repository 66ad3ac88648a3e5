"""legacy.mq: RFH2 folders and MQDLH headers, built and parsed, and checked against IBM's own classes."""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from legacy.mq import (
    DeadLetterHeader,
    MqHeaderError,
    Rfh2,
    build_folder,
    codec_for,
    format_field,
    format_name,
    id_bytes,
    id_text,
    is_no_id,
    parse_folder,
    parse_put_date_time,
    put_date_time,
    unwrap,
)
from legacy.mq.rfh2 import decode_name, encode_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from ibmmq_standin import install

VALUES: dict[str, Any] = {
    "tenant": "acme", "attempt": 3, "urgent": True, "off": False, "ratio": 0.25, "blob": b"\x00\xff",
    "missing": None, "big": 1 << 40, "huge": 1 << 70, "text": "a < b & c > d", "unicode": "Grüße ✓",
}


@pytest.fixture(scope="module")
def ibmmq() -> Any:
    try:
        return install()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def test_folder_values_keep_their_types() -> None:
    name, values = parse_folder(build_folder("usr", VALUES))
    expected = dict(VALUES, huge=str(1 << 70))  # beyond i8: written as text
    assert (name, values) == ("usr", expected)


def test_folder_text_is_what_jms_writes() -> None:
    text = build_folder("usr", {"a": "x", "n": 3, "ok": True, "none": None})
    assert text == ("<usr><a>x</a><n dt='i4'>3</n><ok dt='boolean'>1</ok><none xsi:nil='true'></none></usr>")


def test_folder_written_by_a_jms_client_is_read() -> None:
    text = ("<usr><Region>EMEA</Region><Count dt='i8'>12</Count><Rate dt=\"r4\">1.5</Rate>"
            "<Flag dt='boolean'>true</Flag><Raw dt='bin.hex'>0aFF</Raw><Odd dt='date'>2024-01-01</Odd>"
            "<!-- a comment --><Empty/></usr>")
    assert parse_folder(text) == ("usr", {"Region": "EMEA", "Count": 12, "Rate": 1.5, "Flag": True,
                                          "Raw": b"\x0a\xff", "Odd": "2024-01-01", "Empty": ""})


def test_groups_become_dotted_names_and_back() -> None:
    text = build_folder("usr", {"order.id": 7, "order.region": "EU", "plain": "p"})
    assert text == "<usr><order><id dt='i4'>7</id><region>EU</region></order><plain>p</plain></usr>"
    assert parse_folder(text)[1] == {"order.id": 7, "order.region": "EU", "plain": "p"}
    with pytest.raises(MqHeaderError, match="also a group"):
        build_folder("usr", {"a.b": 1, "a": 2})


@pytest.mark.parametrize("name", ["Content Type", "1st", "a_x0020_b", "naïve", "emoji🙂", "x:y", "-dash", "_ok"])
def test_names_that_are_not_xml_names_survive(name: str) -> None:
    encoded = encode_name(name)
    assert parse_folder(f"<usr><{encoded}>v</{encoded}></usr>")[1] == {name: "v"}
    assert decode_name(encoded) == name


@pytest.mark.parametrize(("text", "problem"), [
    ("<usr><a>1</usr>", "not well-formed"),
    ("<usr/><mcd/>", "one element"),
    ("<usr><n dt='i4'>three</n></usr>", "'n'"),
    ("<usr><b dt='boolean'>maybe</b></usr>", "not a boolean"),
    ('<!DOCTYPE usr [<!ENTITY x "y">]><usr>&x;</usr>', "not well-formed"),
])
def test_bad_folders_raise(text: str, problem: str) -> None:
    with pytest.raises(MqHeaderError, match=problem):
        parse_folder(text)


def test_rfh2_round_trip_in_both_byte_orders() -> None:
    header = Rfh2({"mcd": {"Msd": "jms_text"}, "usr": VALUES}, format="MQSTR", encoding=785, ccsid=37)
    for encoding in (546, 785):
        data = header.pack(encoding) + "body".encode("cp037")
        assert len(header.pack(encoding)) % 4 == 0
        back, end = Rfh2.unpack(data, encoding)
        assert back.folders == {"mcd": {"Msd": "jms_text"}, "usr": dict(VALUES, huge=str(1 << 70))}
        assert (back.format, back.encoding, back.ccsid, back.name_value_ccsid) == ("MQSTR", 785, 37, 1208)
        assert data[end:].decode("cp037") == "body"


def test_rfh2_layout_is_the_mq_one() -> None:
    data = Rfh2({"usr": {"a": "b"}}, format="MQSTR").pack(546)
    struc_id, version, length, encoding, ccsid, fmt, flags, nv_ccsid, folder_length = struct.unpack(
        "<4s4i8s3i", data[:40])
    assert (struc_id, version, length, encoding, ccsid, fmt, flags, nv_ccsid) == \
        (b"RFH ", 2, len(data), 546, 1208, b"MQSTR   ", 0, 1208)
    assert data[40:40 + folder_length] == b"<usr><a>b</a></usr>".ljust(folder_length)


def test_rfh2_built_here_is_read_by_ibms_class(ibmmq: Any) -> None:
    data = Rfh2({"mcd": {"Msd": "jms_bytes"}, "usr": {"tenant": "acme", "n": 3}}, format="").pack(546)
    theirs = ibmmq.RFH2()
    theirs.unpack(data + b"payload", 546)
    assert theirs.StrucLength == len(data) and theirs.Format == b"        "
    assert sorted(theirs.get_folders()) == ["mcd", "usr"]
    assert theirs["usr"].rstrip() == b"<usr><tenant>acme</tenant><n dt='i4'>3</n></usr>"


def test_rfh2_built_by_ibms_class_is_read_here(ibmmq: Any) -> None:
    theirs = ibmmq.RFH2(Format=ibmmq.CMQC.MQFMT_STRING, CodedCharSetId=1208, NameValueCCSID=1208)
    theirs.add_folder(b"<mcd><Msd>jms_text</Msd></mcd>")
    theirs.add_folder(b"<usr><Colour>blue</Colour><Size dt='i4'>42</Size></usr>")
    data = theirs.pack(ibmmq.CMQC.MQENC_NATIVE) + b"hello"
    message = unwrap(data, "MQHRF2", 546, 1208)
    assert message.properties == {"Colour": "blue", "Size": 42}
    assert message.folder("mcd") == {"Msd": "jms_text"}
    assert (message.format, data[message.offset:]) == ("MQSTR", b"hello")


def test_chained_rfh2_headers_are_all_taken_off() -> None:
    inner = Rfh2({"usr": {"b": 2, "shared": "inner"}}, format="MQSTR")
    outer = Rfh2({"usr": {"a": 1, "shared": "outer"}}, format="MQHRF2")
    data = outer.pack() + inner.pack() + b"x"
    message = unwrap(data, "MQHRF2", 546, 1208)
    assert len(message.headers) == 2 and message.properties == {"a": 1, "b": 2, "shared": "inner"}
    assert data[message.offset:] == b"x"


def test_ebcdic_strucid_from_zos_is_recognised() -> None:
    data = bytearray(Rfh2({"usr": {"a": "b"}}, format="MQSTR").pack(785))
    data[0:4] = "RFH ".encode("cp500")
    data[20:28] = "MQSTR   ".encode("cp500")
    header, _ = Rfh2.unpack(bytes(data), 785)
    assert header.format == "MQSTR" and header.properties == {"a": "b"}


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda d: b"XXXX" + d[4:], "not an RFH2"),
    (lambda d: d[:20], "needs 36 bytes"),
    (lambda d: d[:8] + struct.pack("<i", 9999) + d[12:], "does not fit"),
    (lambda d: d[:4] + struct.pack("<i", 3) + d[8:], "version 3"),
    (lambda d: d[:36] + struct.pack("<i", 4000) + d[40:], "runs past"),
])
def test_malformed_rfh2_raises_with_the_offset(mutate: Any, problem: str) -> None:
    data = Rfh2({"usr": {"a": "b"}}).pack()
    with pytest.raises(MqHeaderError, match=problem) as caught:
        Rfh2.unpack(mutate(data), 546)
    assert caught.value.offset is not None


def test_dead_letter_header_round_trip_and_layout() -> None:
    header = DeadLetterHeader(2362, "ORDERS", "QM1", format="MQSTR", encoding=785, ccsid=37,
                              put_appl_name="eip", put_date="20240506", put_time="07080910")
    for encoding in (546, 785):
        data = header.pack(encoding)
        assert len(data) == 172 and data[:4] == b"DLH "
        assert DeadLetterHeader.unpack(data + b"rest", encoding) == (header, 172)
    assert data[12:18] == b"ORDERS" and data[12:60].endswith(b" ")  # blank-padded, as MQ writes it


def test_dead_letter_header_matches_ibms_class(ibmmq: Any) -> None:
    ours = DeadLetterHeader(2362, "ORDERS", "QM1", format="MQSTR", ccsid=37).pack()
    theirs = ibmmq.DLH().get_header(ours)
    assert (theirs.Reason, theirs.DestQName.rstrip(), theirs.DestQMgrName.rstrip(), theirs.Format,
            theirs.CodedCharSetId) == (2362, b"ORDERS", b"QM1", b"MQSTR   ", 37)
    built = ibmmq.DLH(Reason=2085, DestQName=b"X", Format=ibmmq.CMQC.MQFMT_NONE, CodedCharSetId=1208).pack()
    back, _ = DeadLetterHeader.unpack(built)
    assert (back.reason, back.dest_q_name, back.format, back.ccsid) == (2085, "X", "", 1208)


def test_dead_letter_header_fills_the_put_date_and_rejects_long_names() -> None:
    header, _ = DeadLetterHeader.unpack(DeadLetterHeader(2362, "Q").pack())
    assert len(header.put_date) == 8 and len(header.put_time) == 8
    with pytest.raises(MqHeaderError, match="longer than the 48"):
        DeadLetterHeader(2362, "Q" * 49).pack()
    with pytest.raises(MqHeaderError, match="not an MQDLH"):
        DeadLetterHeader.unpack(b"x" * 172)


def test_md_helpers() -> None:
    assert id_bytes(b"abc") == b"abc" + bytes(21)
    raw = bytes(range(24))
    assert id_bytes(id_text(raw)) == raw and id_text(raw) == "ID:" + raw.hex()
    assert id_bytes("text") == b"text".ljust(24, b"\0")
    assert is_no_id(bytes(24)) and not is_no_id(raw)
    with pytest.raises(MqHeaderError, match="at most 24"):
        id_bytes(b"x" * 25)
    with pytest.raises(MqHeaderError, match="hexadecimal"):
        id_bytes("ID:zz")
    date, time = put_date_time()
    stamp = parse_put_date_time(date, time)
    assert stamp is not None and stamp.tzinfo is not None
    assert parse_put_date_time("", "") is None and parse_put_date_time("2024xx01", "12000000") is None
    assert format_field("MQSTR") == b"MQSTR   " and format_name(b"MQSTR   ") == "MQSTR"
    assert format_name("MQSTR".encode("cp500") + b"\x40\x40\x40", ebcdic=True) == "MQSTR"
    with pytest.raises(ValueError):
        format_field("TOOLONGNAME")


@pytest.mark.parametrize(("ccsid", "codec"), [(1208, "utf-8"), (37, "cp037"), (500, "cp500"), (1047, "cp1047"),
                                              (819, "latin-1"), (1140, "cp1140"), (1148, "cp1148")])
def test_ccsids_map_to_codecs(ccsid: int, codec: str) -> None:
    import codecs

    assert codecs.lookup(codec_for(ccsid)).name == codecs.lookup(codec).name


def test_unknown_ccsid_raises() -> None:
    with pytest.raises(MqHeaderError, match="CCSID 4242"):
        codec_for(4242)
