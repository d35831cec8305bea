"""``distinct_rows``: row-wise work computed once per distinct row gives exactly what computing every row gives, for
the helper itself and for the card-mode ops that use it (a decode batch's idle users are identical last rows)."""

import importlib

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu import distinct_rows

numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")


def _decode_like(rows=32, width=64, real=2, seed=0):
    """``real`` distinct rows, then idle rows all equal to one another."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, rows, width, generator=g)
    x[..., real:, :] = torch.randn(width, generator=g)
    return x


def test_trailing_repeats_counts_the_run_ending_at_the_last_row():
    x = _decode_like(real=5)
    assert distinct_rows.trailing_repeats(x) == 27
    x[0, 0, 20, 3] += 1  # breaks the run: rows 21..31 remain
    assert distinct_rows.trailing_repeats(x) == 11
    assert distinct_rows.trailing_repeats(_decode_like(real=30)) == 0  # two equal rows are not worth a split
    x = _decode_like(real=5)
    x[..., 5:, 0] = float("nan")
    assert distinct_rows.trailing_repeats(x) == 0


def test_trailing_repeats_needs_the_run_in_every_leading_slice():
    x = torch.cat([_decode_like(real=4, seed=1), _decode_like(real=10, seed=2)], dim=1)  # [1, 2, 32, 64]
    assert distinct_rows.trailing_repeats(x) == 22


def test_on_distinct_rows_equals_the_full_call_and_skips_the_repeats():
    x, y = _decode_like(real=3, seed=3), _decode_like(real=7, seed=4)
    row, column = torch.randn(64), torch.randn(1, 1, 32, 1)
    column[..., 10:, :] = 0.5
    seen = []

    def fn(a, b, r, c):
        seen.append(a.shape[-2])
        return (a * b + r) / (c + 2)

    got = distinct_rows.on_distinct_rows(fn, x, y, row, column)
    assert torch.equal(got, fn(x, y, row, column))
    assert seen[0] == 11  # column repeats from row 10 on, y from 7, x from 3: rows 0..10 computed
    assert distinct_rows.on_distinct_rows(lambda a, s: a * s, x, 3.0).shape == x.shape


def test_on_distinct_rows_without_repeats_calls_once_with_everything():
    x = torch.randn(4, 32, 16)
    calls = []
    out = distinct_rows.on_distinct_rows(lambda a: calls.append(a.shape) or a + 1, x)
    assert calls == [x.shape] and torch.equal(out, x + 1)


@pytest.fixture()
def card():
    with numerics_mode.use("card"):
        yield


def _tt(values, device, dtype=ttnn.bfloat16):
    return ttnn.from_torch(values, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


@pytest.mark.parametrize("op", ("rms_norm", "layer_norm", "add", "multiply", "silu", "softmax", "linear",
                                "linear_bias_bfp8_out"))
def test_card_ops_give_the_same_rows_whether_or_not_repeats_are_skipped(device, card, op, monkeypatch):
    """Each op on a decode-like input, then again with the helper forced to compute every row: equal bit for bit
    (the skipped rows' results are copies of a computed row, so this checks the fan-out, the operand slicing and
    that the ops are row-wise)."""
    x = _decode_like(width=96, real=3, seed=5)
    other = _decode_like(width=96, real=3, seed=6)
    g = torch.Generator().manual_seed(7)
    weight, bias = torch.randn(96, 64, generator=g), torch.randn(1, 1, 1, 64, generator=g)
    gamma = torch.randn(1, 1, 1, 96, generator=g)
    a, b = _tt(x, device), _tt(other, device)

    def run():
        if op == "rms_norm":
            return ttnn.rms_norm(a, epsilon=1e-5, weight=_tt(gamma, device), residual_input_tensor=b)
        if op == "layer_norm":
            return ttnn.layer_norm(a, epsilon=1e-5, weight=_tt(gamma, device))
        if op in ("add", "multiply"):
            return getattr(ttnn, op)(a, b)
        if op == "silu":
            return ttnn.silu(a)
        if op == "softmax":
            return ttnn.softmax(a, dim=-1)
        if op == "linear":
            return ttnn.linear(a, _tt(weight, device))
        return ttnn.linear(a, _tt(weight, device, ttnn.bfloat8_b), bias=_tt(bias, device), dtype=ttnn.bfloat8_b,
                           activation="silu")

    fanned = []
    fan_out = distinct_rows.fan_out_last
    monkeypatch.setattr(distinct_rows, "fan_out_last", lambda v, rows: fanned.append(v.shape[-2]) or fan_out(v, rows))
    skipped = ttnn.to_torch(run())
    assert fanned and max(fanned) == 4, "the op did not skip the repeated rows"  # 3 real rows + 1 idle
    calls = []
    monkeypatch.setattr(distinct_rows, "on_distinct_rows", lambda fn, *ops: calls.append(1) or fn(*ops))
    full = ttnn.to_torch(run())
    assert calls
    assert torch.equal(skipped, full)
