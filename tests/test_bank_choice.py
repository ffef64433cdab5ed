"""The banks' races (``phases.choose_bank``, ``phases.choose_acquirer``): ties go to the lower index.

Called as plain Python (the agent engine runs the phases as written), on a region of one business whose two
banks share a decision key, so that their race times are equal whenever their pulls are.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from model import draws, phases

KEY = draws.Keys(7)["acquirer"]


def _acquirer(current: int, joined: list[float], live: list[float]) -> int:
    ctx = SimpleNamespace(
        region_key=np.array([draws.region_key("Shenzhen")], np.uint64),
        business_offsets=np.array([0], np.int64),
        acquirer_pull=np.array(live),
    )
    k = SimpleNamespace(acquirer=np.array([KEY, KEY], np.uint64))
    return phases.choose_acquirer(0, 0, current, np.array(joined), ctx, k)


@pytest.mark.parametrize(
    ("current", "joined", "live", "kept"),
    [
        (0, [0.0, 1.0], [1.0, 0.0], 0),  # bank 1 joins and ties with the present bank 0: it stays at 0
        (1, [1.0, 0.0], [0.0, 1.0], 0),  # bank 0 joins and ties with the present bank 1: it moves to 0
    ],
)
def test_a_tie_between_a_joining_and_the_present_bank_goes_to_the_lower_index(current, joined, live, kept):
    assert _acquirer(current, joined, live) == kept


def test_a_joining_bank_wins_a_business_only_by_a_shorter_race():
    """Equal draws: the bank that pulls more has the shorter time and wins; one that pulls less does not."""
    assert _acquirer(0, [0.0, 2.0], [1.0, 0.0]) == 1
    assert _acquirer(0, [0.0, 0.5], [1.0, 0.0]) == 0
    assert _acquirer(-1, [0.0, 0.5], [0.0, 0.0]) == 1  # no bank was live: the first to join takes it
    assert _acquirer(1, [0.0, 0.0], [0.0, 1.0]) == 1  # no bank joined: nothing moves


def test_choose_bank_breaks_a_tie_towards_the_lower_index():
    word = draws.agent_day(draws.agent_key(draws.region_key("Shenzhen"), 0), 0)
    keys = np.array([KEY, KEY, KEY], np.uint64)
    assert phases.choose_bank(word, np.array([0.0, 1.0, 1.0]), keys) == 1
    assert phases.choose_bank(word, np.array([0.0, 1.0, 3.0]), keys) == 2
    assert phases.choose_bank(word, np.zeros(3), keys) == -1
