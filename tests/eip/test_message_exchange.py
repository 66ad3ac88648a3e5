"""Message, headers and Exchange basics."""

from __future__ import annotations

from eip import Exchange, ExchangePattern, Headers, Message


def test_headers_are_case_insensitive_and_keep_spelling():
    headers = Headers({"Content-Type": "json"})
    assert headers["content-type"] == "json" and "CONTENT-TYPE" in headers
    headers["CONTENT-type"] = "xml"
    assert len(headers) == 1 and headers["Content-Type"] == "xml"
    assert list(headers) == ["CONTENT-type"]
    del headers["content-type"]
    assert headers.get("content-type") is None
    assert Headers(a=1) == {"A": 1} or Headers(a=1) == {"a": 1}


def test_exchange_copy_is_independent_but_shares_the_body():
    body = {"k": "v"}
    original = Exchange(body, {"h": 1}, pattern=ExchangePattern.IN_OUT)
    original.properties["p"] = 1
    copy = original.copy()
    copy.message.headers["h"] = 2
    copy.properties["p"] = 2
    assert original.message.headers["h"] == 1 and original.properties["p"] == 1
    assert copy.message.body is body
    assert copy.exchange_id != original.exchange_id
    assert copy.pattern is ExchangePattern.IN_OUT


def test_message_ids_are_unique_and_stable():
    a, b = Message("x"), Message("y")
    assert a.message_id != b.message_id and a.message_id == a.message_id
    assert a.copy().message_id == a.message_id


def test_public_api_is_honest():
    import eip

    for name in eip.__all__:
        assert hasattr(eip, name), name
    public = {n for n in dir(eip) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(eip, n)).__name__ == "module"}
    assert public - modules - set(eip.__all__) == set()
