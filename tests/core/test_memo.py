"""app.core.memo: a one-text function kept by its text, emptied when full."""

from __future__ import annotations

import pytest

from app.core.memo import memo_by_text


def test_each_text_is_computed_once_until_the_store_is_full():
    calls: list[str] = []

    @memo_by_text(size=3)
    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert [shout(t) for t in ("a", "b", "a", "c", "b")] == ["A", "B", "A", "C", "B"]
    assert calls == ["a", "b", "c"]
    shout("d")  # the store was full: emptied, then d kept
    assert shout("a") == "A"
    assert calls == ["a", "b", "c", "d", "a"]
    assert shout.__name__ == "shout"


def test_a_none_result_is_kept_and_an_error_is_not():
    calls: list[str] = []

    @memo_by_text()
    def parse(text: str) -> int | None:
        calls.append(text)
        if text == "boom":
            raise ValueError(text)
        return int(text) if text.isdigit() else None

    assert parse("x") is None and parse("x") is None
    assert calls == ["x"]
    for _ in range(2):
        with pytest.raises(ValueError):
            parse("boom")
    assert calls == ["x", "boom", "boom"]
