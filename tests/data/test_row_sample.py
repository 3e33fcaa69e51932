"""The sample a pass draws before it knows its length: the rows a pass that knew it would
draw, in their order, however the rows are cut into batches, and never many more kept."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.data.split import SAMPLE_STREAM, RowSample, row_uniform


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 300), st.lists(st.integers(0, 900), max_size=30),
       st.integers(0, 2**31))
def test_the_sample_is_what_a_pass_of_known_length_draws(n, size, cuts, seed):
    rows = np.arange(n) * 3 + 7  # positions need not start at 0 nor be consecutive
    values = np.random.default_rng(seed).normal(size=(n, 2))
    sample = RowSample(size, seed)
    edges = sorted({0, n, *(c % (n + 1) for c in cuts)})
    for lo, hi in zip(edges, edges[1:]):
        sample.add(rows[lo:hi], values[lo:hi], rows[lo:hi])
    X, kept = sample.result(n)
    chosen = row_uniform(rows, seed, SAMPLE_STREAM) < min(1.0, size / n)
    np.testing.assert_array_equal(kept, rows[chosen])
    np.testing.assert_array_equal(X, values[chosen])


def test_a_long_pass_keeps_about_size_rows_at_any_time():
    sample = RowSample(500, 3)
    most = 0
    for start in range(0, 2_000_000, 10_000):
        rows = np.arange(start, start + 10_000)
        sample.add(rows, rows)
        most = max(most, len(sample))
    (kept,) = sample.result(2_000_000)
    assert 400 < len(kept) < 600
    assert most < 2 * 500  # about 500 kept after every batch (chance moves it by ~25)


def test_a_sample_of_no_rows_offered_is_refused():
    with pytest.raises(ValueError, match="no rows"):
        RowSample(10, 1).result(0)
