"""Memos: bounded, keyed by value or by identity, and holding what their identity keys name."""

from __future__ import annotations

from zeet_iam_audit.memo import IdentityMemo, Memo


def test_memo_answers_by_value_and_starts_again_when_full() -> None:
    memo: Memo[tuple[str, int], str] = Memo(limit=2)
    assert memo.put(("a", 1), "first") == "first"
    assert memo.get(("a", 1)) == "first"
    memo.put(("b", 2), "second")
    assert len(memo) == 2
    memo.put(("c", 3), "third")  # full: forgotten, then remembered
    assert len(memo) == 1
    assert memo.get(("a", 1)) is None
    assert memo.get(("c", 3)) == "third"


def test_identity_memo_tells_equal_objects_apart_and_holds_them() -> None:
    memo: IdentityMemo[str] = IdentityMemo()
    first, second = ["same"], ["same"]  # equal values, different objects
    memo.put(first, "for the first", key="k")
    assert memo.get(first, "k") == "for the first"
    assert memo.get(second, "k") is None
    assert memo.get(first, "other key") is None
    # The entry holds its object: while it exists the object lives, so its id names only it.
    del first
    assert len(memo) == 1
    assert memo.get(second, "k") is None


def test_identity_memo_is_bounded() -> None:
    memo: IdentityMemo[int] = IdentityMemo(limit=3)
    owners = [object() for _ in range(4)]
    for number, owner in enumerate(owners):
        memo.put(owner, number)
    assert len(memo) == 1
    assert memo.get(owners[3]) == 3
    assert memo.get(owners[0]) is None
