"""The One Euro filter that keeps the tracking ROI steady (MediaPipe's semantics)."""

import math

import numpy as np

from posetrack.stages.one_euro import OneEuroFilter


def test_first_value_passes_and_a_still_value_stays_put() -> None:
    smooth = OneEuroFilter(min_cutoff=0.01, beta=10.0)
    point = np.array([[120.0, 80.0], [130.0, 60.0]])
    assert np.array_equal(smooth(1 / 30, point), point)
    for i in range(2, 20):
        assert np.allclose(smooth(i / 30, point), point)


def test_at_rest_the_step_response_is_the_low_pass_at_min_cutoff() -> None:
    smooth = OneEuroFilter(min_cutoff=1.0, beta=0.0, derivate_cutoff=1.0)
    smooth(1 / 30, np.array([0.0]))
    out = smooth(2 / 30, np.array([1.0]))
    tau = 1.0 / (2.0 * math.pi * 1.0)
    assert np.allclose(out, 1.0 / (1.0 + tau * 30.0))


def test_speed_raises_the_cutoff_so_fast_motion_lags_less() -> None:
    def lag(beta: float) -> float:
        smooth = OneEuroFilter(min_cutoff=0.5, beta=beta)
        for i in range(1, 31):
            out = smooth(i / 30, np.array([10.0 * i]))  # 300 units per second
        return float(10.0 * 30 - out[0])

    assert lag(5.0) < 0.5 * lag(0.0)


def test_value_scale_makes_speed_relative_to_object_size() -> None:
    """The same motion on a twice-as-large object, scaled by 1/size, filters identically."""
    small, large = OneEuroFilter(0.01, 10.0), OneEuroFilter(0.01, 10.0)
    for i in range(1, 15):
        x = np.array([3.0 * i * i])
        a = small(i / 30, x, value_scale=1 / 100)
        b = large(i / 30, 2 * x, value_scale=1 / 200)
    assert np.allclose(2 * a, b)


def test_a_timestamp_that_does_not_advance_passes_through_without_state_change() -> None:
    smooth = OneEuroFilter(min_cutoff=0.5, beta=1.0)
    smooth(1 / 30, np.array([0.0]))
    smooth(2 / 30, np.array([5.0]))
    assert np.array_equal(smooth(2 / 30, np.array([99.0])), [99.0])
    assert np.array_equal(smooth(0.0, np.array([42.0])), [42.0])
    again = OneEuroFilter(min_cutoff=0.5, beta=1.0)
    again(1 / 30, np.array([0.0]))
    again(2 / 30, np.array([5.0]))
    assert np.allclose(smooth(3 / 30, np.array([6.0])), again(3 / 30, np.array([6.0])))


def test_reset_forgets_the_history() -> None:
    smooth = OneEuroFilter(min_cutoff=0.01, beta=0.0)
    smooth(1 / 30, np.array([0.0]))
    smooth(2 / 30, np.array([100.0]))
    smooth.reset()
    assert np.array_equal(smooth(3 / 30, np.array([100.0])), [100.0])
