"""The Wormhole B0 matrix unit (FPU): fidelity-phase products, MVMUL / ELWMUL / ELWADD / ELWSUB and
the rounding of every instruction's result into Dst.

Operands are Src words (``formats`` conventions: 32-bit float layout, the 19 Src bits on top, i.e.
bf16 words with the low 16 bits zero or TF32 words with the low 13 bits zero).  Dst words are FP32
words (``dest="fp32"``) or bf16 words in the upper half (``dest="bf16"``).  Only 8-bit-exponent
source formats (bf16, bfp8/4 unpacked to bf16, tf32) are modelled, not FP16 or int8.

Modelled behaviour (ttsim's ``mvmul`` / ``elwmul`` / ``elwadd`` / accumulate-and-encode datapath,
tests/data/card_golden/README.md rules 1-5):

* ``fidelity_slice``: a Src datum's 11-bit significand (hidden + 10) is cut into SrcA-hi (hidden +
  top 4), SrcA-lo (the next 5; the TF32 LSB is never used), SrcB-hi (hidden + top 6) and SrcB-lo
  (the next 4, scaled into a 7-bit field).  Phase bit 0 selects SrcA-lo (exponent - 5), bit 1
  SrcB-lo (exponent - 7).  A datum with a zero exponent counts as zero.
* ``phases(fidelity)``: LoFi {0}, HiFi2 {0, 1}, HiFi3 {0, 1, 2}, HiFi4 {0, 1, 2, 3}.
* ``accumulate``: add up to two sum-of-products terms (sign, biased exponent, 25-bit-scale
  magnitude) and the Dst word: align all to the largest exponent (sop terms rounded half toward
  +inf on the signed value, the Dst term half away from zero; 31+ binades apart -> 0); with a BF16
  Dst first round each term to 11 significant bits; add; renormalise (with Wormhole's wrong shift
  for a sum of exactly -1 unit); round half away from zero to 24 (FP32) or 8 (BF16) significant
  bits; a biased exponent <= 0 gives +0, >= 255 gives inf; exact cancellation gives +0.
* ``group_sums``: one MVMUL's 16 exact products (5 x 7 bit slices) per output, summed in two groups
  of 8 (K 0-7, K 8-15 of the 16-wide slice): each product aligned to its group's largest exponent
  (zero products carry exponent 0; a product whose slice is zero keeps its exponent), rounding half
  up on the magnitude, then added with signs.
* ``matmul_tiles``: ``Dst += in0 @ in1`` with in0 in SrcB, in1 in SrcA, K in tiles of 32 in order;
  per K tile, for each fidelity phase (outer), two MVMULs (K 0-15, K 16-31), each rounding into
  Dst.  Optionally returns Dst after every K tile.
* ``eltwise_mul``: ELWMUL in0 (SrcA) x in1 (SrcB), one exact phase product per phase accumulated
  into Dst (which starts at zero) and rounded, phases in order.
* ``eltwise_add`` / ``eltwise_sub``: ELWADD / ELWSUB (SrcA +- SrcB, no fidelity, Dst not
  accumulated): the operands are ordered by magnitude, the smaller 11-bit significand aligned to the
  larger exponent with round half up (0 when 12+ binades apart), the 12-bit signed sum rounded into
  Dst by ``accumulate``.
"""

from __future__ import annotations

import torch

from .formats import bit_length

FIDELITY_PHASES = {"LoFi": (0,), "HiFi2": (0, 1), "HiFi3": (0, 1, 2), "HiFi4": (0, 1, 2, 3)}
DEST_MODES = ("bf16", "fp32")


def phases(fidelity: str) -> tuple[int, ...]:
    """The fidelity phases a MathFidelity runs, in order."""
    try:
        return FIDELITY_PHASES[fidelity]
    except KeyError:
        raise ValueError(f"unknown fidelity {fidelity!r}; expected one of {sorted(FIDELITY_PHASES)}") from None


def _check_dest(dest: str) -> bool:
    if dest not in DEST_MODES:
        raise ValueError(f"unknown Dst mode {dest!r}; expected 'bf16' or 'fp32'")
    return dest == "fp32"


def src_fields(src: torch.Tensor):
    """(sign, biased exponent, 11-bit significand, is_zero) of Src words."""
    v = (src >> 13) & 0x7FFFF
    return (v >> 18) & 1, (v >> 10) & 255, (v & 0x3FF) | 0x400, (v & 0x3FFFF) < 0x400


def fidelity_slice(src: torch.Tensor, reg: str, phase: int):
    """(sign, exponent, slice, is_zero) of Src words for one fidelity phase; ``reg`` 'A' or 'B'."""
    s, e, m, z = src_fields(src)
    if reg == "A":
        m = (m >> 1) & 31 if phase & 1 else m >> 6
    elif reg == "B":
        m = (m & 15) << 3 if phase & 2 else m >> 4
    else:
        raise ValueError("reg must be 'A' or 'B'")
    return s, e, m, z


def product_exponent_adjust(phase: int) -> int:
    """Exponent bias of a phase product (8-bit-exponent formats): -127, -5 for SrcA-lo, -7 for SrcB-lo."""
    return -127 - (5 if phase & 1 else 0) - (7 if phase & 2 else 0)


def _align_sop(m, s, e_term, e):
    d = e - e_term
    dc = d.clamp(1, 30)
    shifted = (m + (torch.ones_like(dc) << (dc - 1)) - s) >> dc
    return torch.where(d <= 0, m, torch.where(d < 31, shifted, torch.zeros_like(m)))


def accumulate(s0, e0, m0, s1, e1, m1, dst: torch.Tensor, dest: str) -> torch.Tensor:
    """Round ``term0 + term1 + Dst`` into a new Dst word (see the module docstring)."""
    fp32 = _check_dest(dest)
    sd = (dst >> 31) & 1
    ed = (dst >> 23) & 255
    md = torch.where(ed == 0, torch.zeros_like(dst), (dst & 0x7FFFFF) | 0x800000)
    e = torch.maximum(torch.maximum(e0, e1), ed)
    early_zero = e <= 0  # everything underflowed before normalisation
    m0 = _align_sop(m0, s0, e0, e)
    m1 = _align_sop(m1, s1, e1, e)
    dd = e - ed
    ddc = dd.clamp(1, 30)
    md = torch.where(dd <= 0, md, torch.where(dd < 31, (md + (torch.ones_like(ddc) << (ddc - 1))) >> ddc, 0))
    if not fp32:  # each term rounded to 11 significant bits first
        m0 = (m0 + (1 << 12) - s0) & ~0x1FFF
        m1 = (m1 + (1 << 12) - s1) & ~0x1FFF
        md = (md + (1 << 12)) & ~0x1FFF
    man = md + torch.where(s0 == sd, m0, -m0) + torch.where(s1 == sd, m1, -m1)
    sign = torch.where(man < 0, 1 - sd, sd)
    man = man.abs()
    cancelled = man == 0
    shift = 24 - bit_length(man)  # left shift that puts the leading one at bit 23
    shift = torch.where((sign == 1) & (man == 1), shift - 27, shift)  # Wormhole renormalisation bug
    e = e - shift
    if not fp32:
        shift = shift - 16
    rs = (-shift).clamp(1, 62)
    man = torch.where(shift < 0, (man + (torch.ones_like(rs) << (rs - 1))) >> rs, man << shift.clamp(0, 40))
    if not fp32:
        man = man << 16
    e = torch.where((man & 0x1000000) != 0, e + 1, e)
    man = man & 0x7FFFFF
    out = (sign << 31) | (e.clamp(0, 255) << 23) | man
    out = torch.where(e >= 255, (sign << 31) | (255 << 23), out)
    return torch.where(early_zero | cancelled | (e <= 0), torch.zeros_like(out), out)


def _zero_term(like: torch.Tensor):
    z = torch.zeros_like(like)
    return z, z, z


def group_sums(a: torch.Tensor, b: torch.Tensor, phase: int):
    """Sum-of-products terms of MVMULs: ``a`` (K, N) SrcA words (in1), ``b`` (M, K) SrcB words (in0),
    K a multiple of 8.  Returns (sign, exponent, magnitude << 13) each of shape (M, N, K // 8): group g
    covers K = 8 g .. 8 g + 7 (int32 tensors)."""
    sa, ea, ma, za = fidelity_slice(a, "A", phase)
    sb, eb, mb, zb = fidelity_slice(b, "B", phase)
    adj = product_exponent_adjust(phase)
    # A zero operand gives magnitude 0 and an exponent far below any product's: the group result is
    # the same as with ttsim's exponent 0 for zero terms (a group is live only if its maximum
    # exponent is > 0, and a zero magnitude contributes nothing).  Signs ride on the magnitudes.
    ma = torch.where(za, 0, torch.where(sa == 1, -ma, ma)).to(torch.int32)
    mb = torch.where(zb, 0, torch.where(sb == 1, -mb, mb)).to(torch.int32)
    ea = torch.where(za, -4096, ea + adj).to(torch.int32)
    eb = torch.where(zb, -4096, eb).to(torch.int32)
    m_dim, k_dim = b.shape
    n_dim = a.shape[1]
    at = lambda t: t.transpose(0, 1).reshape(1, n_dim, k_dim // 8, 8)  # noqa: E731
    bt = lambda t: t.reshape(m_dim, 1, k_dim // 8, 8)  # noqa: E731
    # int32 is enough: |products| < 2^12, aligned terms < 2^13 (+ 2^30 rounding bias), sums < 2^16
    man = bt(mb) * at(ma)  # signed exact products (M, N, K // 8, 8)
    exp = bt(eb) + at(ea)
    emax = exp.amax(dim=-1, keepdim=True)
    d = torch.sub(emax, exp, out=exp).clamp_(max=30)
    # round half up on the magnitude: +-((2|m| + 2^d) >> (d + 1)) == (2m + 2^d - [m < 0]) >> (d + 1)
    neg = (man < 0).to(torch.int32)
    man.mul_(2).add_(torch.bitwise_left_shift(torch.ones((), dtype=torch.int32), d)).sub_(neg)
    total = torch.bitwise_right_shift(man, d.add_(1)).sum(dim=-1, dtype=torch.int32)
    emax = emax.squeeze(-1)
    live = emax > 0
    g_sign = (live & (total < 0)).to(torch.int32)
    g_man = torch.where(live, total.abs() << 13, 0)  # < 2^29
    g_exp = torch.where(live, emax, 0)
    return g_sign, g_exp, g_man


def matmul_tiles(
    in0: torch.Tensor,
    in1: torch.Tensor,
    fidelity: str,
    dest: str,
    dst: torch.Tensor | None = None,
    return_per_k_tile: bool = False,
    n_chunk: int = 256,
):
    """``Dst += in0 @ in1`` as the LLK matmul drives the FPU.

    ``in0`` (M, K) and ``in1`` (K, N) are Src words (bf16 / tf32 words as unpacked), K a multiple of
    32 (M and N are free: every output element is computed independently; the tile structure only
    fixes the K order).  ``dst`` is the initial Dst (M, N) (zeros when None).  Returns Dst words
    (M, N), or with ``return_per_k_tile`` a (K // 32, M, N) stack of Dst after each K tile.  Work is
    chunked over N to bound memory."""
    return matmul_tiles_configs(in0, in1, [(fidelity, dest)], dst, return_per_k_tile, n_chunk)[0]


def matmul_tiles_configs(
    in0: torch.Tensor,
    in1: torch.Tensor,
    configs: list[tuple[str, str]],
    dst: torch.Tensor | None = None,
    return_per_k_tile: bool = False,
    n_chunk: int = 256,
) -> list[torch.Tensor]:
    """``matmul_tiles`` for several (fidelity, dest) configurations of the same operands at once,
    sharing the per-phase MVMUL group sums (which do not depend on Dst).  Returns one result per
    configuration, each exactly what ``matmul_tiles`` returns for it."""
    for _, dest in configs:
        _check_dest(dest)
    m_dim, k_dim = in0.shape
    k2, n_dim = in1.shape
    if k2 != k_dim or k_dim % 32:
        raise ValueError(f"bad shapes {tuple(in0.shape)} @ {tuple(in1.shape)} (K must match and be a multiple of 32)")
    needed = sorted({p for fid, _ in configs for p in phases(fid)})
    if dst is None:
        dst = torch.zeros(m_dim, n_dim, dtype=torch.int64)
    # group sums per phase over all N (int32, computed in N chunks to bound the (M, N, K) temporaries)
    sums = {
        p: [torch.cat(parts, dim=1) for parts in zip(*(group_sums(in1[:, n0 : n0 + n_chunk], in0, p) for n0 in range(0, n_dim, n_chunk)))]
        for p in needed
    }
    outs = []
    for fid, dest in configs:
        d = dst.clone()
        per_k = []
        for t in range(k_dim // 32):
            for p in phases(fid):  # phases outer, the two K halves of the tile inner
                s_, e_, m_ = sums[p]
                for h in range(2):
                    g0 = 4 * t + 2 * h
                    d = accumulate(s_[..., g0], e_[..., g0], m_[..., g0], s_[..., g0 + 1], e_[..., g0 + 1], m_[..., g0 + 1], d, dest)
            if return_per_k_tile:
                per_k.append(d)
        outs.append(torch.stack(per_k) if return_per_k_tile else d)
    return outs


def eltwise_mul(a: torch.Tensor, b: torch.Tensor, fidelity: str, dest: str, dst: torch.Tensor | None = None) -> torch.Tensor:
    """ELWMUL of SrcA words ``a`` (in0) and SrcB words ``b`` (in1), same shape, at ``fidelity``
    into a Dst that starts as ``dst`` (zeros when None).  Returns the Dst words."""
    _check_dest(dest)
    d = torch.zeros_like(a) if dst is None else dst.clone()
    zs = _zero_term(a)
    for p in phases(fidelity):
        sa, ea, ma, za = fidelity_slice(a, "A", p)
        sb, eb, mb, zb = fidelity_slice(b, "B", p)
        exp = ea + eb + product_exponent_adjust(p)
        zero = za | zb | (exp <= 0)
        man = torch.where(zero, 0, (ma * mb) << 13)
        exp = torch.where(zero, 0, exp)
        sgn = torch.where(zero, 0, sa ^ sb)
        d = accumulate(sgn, exp, man, *zs, d, dest)
    return d


def eltwise_add(a: torch.Tensor, b: torch.Tensor, dest: str, subtract: bool = False) -> torch.Tensor:
    """ELWADD (``a + b``) or ELWSUB (``a - b``) of SrcA words ``a`` and SrcB words ``b`` -> Dst words."""
    _check_dest(dest)
    va = (a >> 13) & 0x7FFFF
    vb = (b >> 13) & 0x7FFFF
    if subtract:
        vb = vb ^ (1 << 18)
    va = torch.where((va & 0x3FFFF) < 0x400, 0, va)
    vb = torch.where((vb & 0x3FFFF) < 0x400, 0, vb)
    swap = (va & 0x3FFFF) < (vb & 0x3FFFF)
    big, small = torch.where(swap, vb, va), torch.where(swap, va, vb)
    s_big, s_small = (big >> 18) & 1, (small >> 18) & 1
    e_big, e_small = (big >> 10) & 255, (small >> 10) & 255
    m_big = torch.where(big != 0, (big & 0x3FF) | 0x400, 0)
    m_small = torch.where(small != 0, (small & 0x3FF) | 0x400, 0)
    d = e_big - e_small
    dc = d.clamp(1, 11)
    aligned = (m_small + (torch.ones_like(dc) << (dc - 1))) >> dc
    m_small = torch.where(d <= 0, m_small, torch.where(d < 12, aligned, 0))
    man = torch.where(s_big == s_small, m_big + m_small, m_big - m_small) << 13
    zs = _zero_term(a)
    return accumulate(s_big, e_big, man, *zs, torch.zeros_like(a), dest)
