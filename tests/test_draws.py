"""Common random numbers: one hash in both engines, uniform, keyed only by who, what and when."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from model import draws


@numba.njit
def _compiled_uniforms(agents, day, decision):
    out = np.empty(agents.size)
    for n in range(agents.size):
        out[n] = draws.uniform(draws.agent_day(agents[n], day), decision)
    return out


@numba.njit
def _compiled_mix(words):
    out = np.empty_like(words)
    for n in range(words.size):
        out[n] = draws.mix(words[n])
    return out


@numba.njit
def _compiled_key(region, index):
    return draws.agent_key(region, index)


WORDS = np.random.default_rng(3).integers(0, 2**64 - 1, 5000, dtype=np.uint64, endpoint=True)


def test_python_and_compiled_hashes_are_the_same_function():
    compiled = _compiled_mix(WORDS)
    assert [draws.mix(int(w)) for w in WORDS] == compiled.tolist()
    keys = draws.Keys(11)
    agents = WORDS[:500]
    python = [draws.uniform(draws.agent_day(int(a), 738000), keys["adopt"]) for a in agents]
    assert python == _compiled_uniforms(agents, 738000, np.uint64(keys["adopt"])).tolist()
    assert python == draws.uniforms(keys, "adopt", agents, 738000).tolist()
    assert _compiled_key(np.uint64(0xDEADBEEF), 17) == draws.agent_key(0xDEADBEEF, 17)


def test_mix_is_a_bijection_with_avalanche():
    # bijection on a sample: no collisions
    assert len({draws.mix(int(w)) for w in WORDS}) == WORDS.size
    # flipping one input bit flips about half of the output bits
    flips = [
        bin(draws.mix(int(w)) ^ draws.mix(int(w) ^ (1 << bit))).count("1")
        for w in WORDS[:200]
        for bit in range(0, 64, 7)
    ]
    assert 30 < np.mean(flips) < 34


def test_uniforms_are_uniform_and_independent_across_agents_days_and_decisions():
    keys = draws.Keys(20200401)
    agents = (np.uint64(draws.region_key("Shenzhen")) << np.uint64(32)) | np.arange(20000, dtype=np.uint64)
    today = draws.uniforms(keys, "adopt", agents, 738000)
    tomorrow = draws.uniforms(keys, "adopt", agents, 738007)
    other = draws.uniforms(keys, "payment", agents, 738000)
    assert today.min() >= 0 and today.max() < 1
    for sample in (today, tomorrow, other):
        assert stats.kstest(sample, "uniform").pvalue > 1e-3
    for a, b in ((today, tomorrow), (today, other), (today[:-1], today[1:])):
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.03  # 4.2 standard errors at n = 20000


def test_a_draw_depends_on_seed_decision_agent_and_day_only():
    a, b = draws.Keys(1), draws.Keys(1)
    assert a["adopt"] == b["adopt"] and a["adopt"] != a["payment"] and a["adopt"] != draws.Keys(2)["adopt"]
    word = draws.agent_day(draws.agent_key(draws.region_key("Dalian"), 17), 738000)
    assert word == draws.agent_day(draws.agent_key(draws.region_key("Dalian"), 17), 738000)
    assert word != draws.agent_day(draws.agent_key(draws.region_key("Dalian"), 18), 738000)
    assert word != draws.agent_day(draws.agent_key(draws.region_key("Tianjin"), 17), 738000)
    assert word != draws.agent_day(draws.agent_key(draws.region_key("Dalian"), 17), 738007)


@pytest.mark.parametrize("seed", [0, 1, 2**63 - 1])
def test_keys_span_64_bits(seed):
    keys = draws.Keys(seed).array(["adopt", "engage", "payment"])
    assert keys.dtype == np.uint64 and len(set(keys.tolist())) == 3
