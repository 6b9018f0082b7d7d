"""The per-process cache of finished reports: a byte budget, least recently used out first."""

from __future__ import annotations

from webapp.views.finished_cache import MAX_ITEM_SHARE, FinishedCache


def test_the_least_recently_used_entries_leave_when_the_budget_is_exceeded():
    cache = FinishedCache(max_bytes=100 * MAX_ITEM_SHARE)  # room for MAX_ITEM_SHARE entries of 100 bytes
    keys = [f"k{index}" for index in range(MAX_ITEM_SHARE)]
    for key in keys:
        cache.put(key, key.upper(), 100)
    assert cache.get("k0") == "K0"  # now the most recently used
    cache.put("new", "NEW", 100)
    assert cache.get("k1") is None  # the least recently used made room
    assert [cache.get(key) for key in ["k0", *keys[2:], "new"]] == ["K0", *(k.upper() for k in keys[2:]), "NEW"]


def test_an_entry_bigger_than_its_share_of_the_budget_is_not_kept():
    cache = FinishedCache(max_bytes=800)
    cache.put("big", "x", 800 // MAX_ITEM_SHARE + 1)
    cache.put("small", "y", 800 // MAX_ITEM_SHARE)
    assert (cache.get("big"), cache.get("small")) == (None, "y")


def test_a_budget_of_zero_keeps_nothing():
    cache = FinishedCache(max_bytes=0)
    cache.put("key", "value", 1)
    assert cache.get("key") is None
