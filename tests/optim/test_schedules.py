"""Warmup + decay schedules against their closed forms at chosen steps."""
import math

import numpy as np
import pytest

from herolion import optim
from herolion.errors import ConfigError

PEAK, TOTAL, WARMUP = 1e-3, 1000, 100


@pytest.mark.parametrize("step, want", [
    (0, 0.0), (50, 0.5 * PEAK), (100, PEAK),
    (550, PEAK * 0.5 * (1 + math.cos(math.pi * 0.5))), (1000, 0.0), (5000, 0.0)])
def test_cosine(step, want):
    sched = optim.warmup_then_decay(PEAK, TOTAL, WARMUP, "cosine")
    np.testing.assert_allclose(float(sched(step)), want, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("step, want", [(100, PEAK), (325, 0.75 * PEAK + 0.25 * 0.1 * PEAK),
                                        (1000, 0.1 * PEAK)])
def test_linear_with_end_ratio(step, want):
    sched = optim.warmup_then_decay(PEAK, TOTAL, WARMUP, "linear", end_ratio=0.1)
    np.testing.assert_allclose(float(sched(step)), want, rtol=1e-5)


def test_rsqrt_and_constant():
    rsqrt = optim.warmup_then_decay(PEAK, TOTAL, WARMUP, "rsqrt", timescale=50)
    np.testing.assert_allclose(float(rsqrt(100 + 150)), PEAK / 2, rtol=1e-5)
    const = optim.warmup_then_decay(PEAK, TOTAL, 0, "constant")
    assert [float(const(s)) for s in (0, 10, 10_000)] == pytest.approx([PEAK] * 3)


def test_paper_recipe_10k_warmup_cosine():
    sched = optim.warmup_then_decay(1e-3, 300_000, 10_000, "cosine")
    assert float(sched(10_000)) == pytest.approx(1e-3)
    assert float(sched(5_000)) == pytest.approx(5e-4)
    assert float(sched(155_000)) == pytest.approx(5e-4, rel=1e-4)


@pytest.mark.parametrize("kwargs, field", [
    (dict(decay_type="cosin"), "schedule.decay_type"),
    (dict(warmup_steps=-1), "schedule.warmup_steps"),
    (dict(warmup_steps=2000), "schedule: total_steps"),
    (dict(end_ratio=2.0), "schedule.end_ratio"),
])
def test_bad_schedules_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}"):
        optim.warmup_then_decay(PEAK, TOTAL, **{"warmup_steps": 10, **kwargs})
