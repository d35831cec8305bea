"""Feasibility prototype (issue 11): card mode's matmul Dst (``card_matmul.dst_fast``'s formulation) as one
compiled C++ kernel, timed against ``dst_fast`` and exact mode's bf16 ``torch.mm`` in one process.

    python benchmarks/card_matmul_compiled.py [--repeat 7] [--decode-step LAYERS]

Not wired into card mode: a measurement of what a compiled kernel would give (docs/card-numerics.md, "A compiled
kernel: measured"). Builds ``KERNEL`` with ``torch.utils.cpp_extension.load_inline`` (needs g++ and a ``ninja``
executable; -O3 -march=native, no OpenMP: one thread) on first use, into torch's extension cache.

The kernel, ``dst(x, w, phases, fp32_dest)``: x ``[M, K]`` float32 SrcB values, w ``[K, N]`` bfloat16 or float32
(TF32 values) SrcA values in any strides (K-major as the emulator stores large weights), K zero-padded to whole
32-wide tiles. Per block of 32 output columns, per K tile: the tile's SrcA slices (hi: sign, exponent, hidden + 4
bits; lo: the next 5 bits, the TF32 LSB dropped) are built once (each weight element is read once per call); then
per fidelity phase (SrcA slice ``p & 1``, SrcB slice ``p >> 1``: hidden + 6 bits / the next 4), per 16-wide K
half, per row: the float32 sum of the 16 exact slice products in K order, vectorised over the 32 columns
(the 16 x 16 K-major blocks transposed in AVX-512 registers), added
into Dst and rounded (BF16 Dst: ``(bits + 0x8000) & ~0xFFFF``, ties away from zero on the magnitude, as
``card_matmul.round_into_dst``; FP32 Dst: the float32 add).

The columns: ``kernel`` / ``dst_fast`` / ``exact`` (``torch.mm`` of the bf16 activation and the K-major bf16
weight, as exact mode runs it: torch's default threads, and one thread) median time per call; ``equal`` the
fraction of outputs bit-equal to ``dst_fast``, ``max ulp`` their largest difference in last places of the Dst
format (bf16 / float32), and that difference relative to sum|x w|. With an FP32 Dst the two differ only in how
a chunk's float32 sum is rounded (``dst_fast`` sums in BLAS order and forms a SrcA-lo sum as whole minus hi),
so outputs that nearly cancel show large ulp counts at a 2^-25 relative size. Then the kernel against the
bit-exact ``dst_reference`` on the shapes and with the bounds of
tests/emu/test_card_fast_path.py.

Measured 2026-12-03 (2 cores, a CI run using the CPU in the same hour, load average 0.7-2: medians of 9; random
bf16 weights stored K-major, bf16-valued activations; the kernel and ``dst_fast`` on one thread):

| shape | fidelity | Dst | kernel | dst_fast | exact (2 threads) | exact (1 thread) | dst_fast / kernel | kernel / exact 1 thread | equal | max ulp | max \|diff\| / sum\|xw\| |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 1x2048 @ 2048x2048 | LoFi | BF16 | 0.90 ms | 5.4 ms | 0.42 ms | 0.64 ms | 6.0x | 1.41x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x2048 | LoFi | FP32 | 0.87 ms | 5.5 ms | 0.42 ms | 0.64 ms | 6.3x | 1.37x | 97.0 % | 256 | 2^-26.8 |
| 1x2048 @ 2048x2048 | HiFi2 | BF16 | 1.23 ms | 9.6 ms | 0.42 ms | 0.64 ms | 7.8x | 1.92x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x2048 | HiFi2 | FP32 | 1.27 ms | 9.1 ms | 0.42 ms | 0.64 ms | 7.1x | 1.99x | 63.6 % | 640 | 2^-24.8 |
| 1x2048 @ 2048x8192 | LoFi | BF16 | 3.76 ms | 23.5 ms | 1.40 ms | 2.45 ms | 6.2x | 1.53x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x8192 | LoFi | FP32 | 3.62 ms | 22.7 ms | 1.40 ms | 2.45 ms | 6.3x | 1.47x | 97.1 % | 1024 | 2^-25.8 |
| 1x2048 @ 2048x8192 | HiFi2 | BF16 | 5.80 ms | 36.6 ms | 1.40 ms | 2.45 ms | 6.3x | 2.36x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x8192 | HiFi2 | FP32 | 6.05 ms | 35.0 ms | 1.40 ms | 2.45 ms | 5.8x | 2.47x | 64.4 % | 8192 | 2^-24.8 |
| 1x8192 @ 8192x2048 | LoFi | BF16 | 3.37 ms | 25.7 ms | 1.20 ms | 2.65 ms | 7.6x | 1.27x | 100.0 % | 0 | 0 |
| 1x8192 @ 8192x2048 | LoFi | FP32 | 3.38 ms | 25.9 ms | 1.20 ms | 2.65 ms | 7.7x | 1.27x | 93.8 % | 128 | 2^-26.8 |
| 1x8192 @ 8192x2048 | HiFi2 | BF16 | 5.35 ms | 47.8 ms | 1.20 ms | 2.65 ms | 9.0x | 2.02x | 100.0 % | 0 | 0 |
| 1x8192 @ 8192x2048 | HiFi2 | FP32 | 5.07 ms | 40.9 ms | 1.20 ms | 2.65 ms | 8.1x | 1.91x | 46.8 % | 11264 | 2^-26.3 |
| 1x2048 @ 2048x512 | LoFi | BF16 | 0.20 ms | 1.4 ms | 0.09 ms | 0.18 ms | 7.2x | 1.10x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x512 | LoFi | FP32 | 0.19 ms | 1.2 ms | 0.09 ms | 0.18 ms | 6.3x | 1.08x | 97.5 % | 256 | 2^-26.8 |
| 1x2048 @ 2048x512 | HiFi2 | BF16 | 0.28 ms | 2.2 ms | 0.09 ms | 0.18 ms | 7.9x | 1.57x | 100.0 % | 0 | 0 |
| 1x2048 @ 2048x512 | HiFi2 | FP32 | 0.27 ms | 1.9 ms | 0.09 ms | 0.18 ms | 7.1x | 1.51x | 65.2 % | 640 | 2^-24.8 |
| 2x2048 @ 2048x2048 | LoFi | BF16 | 0.92 ms | 7.7 ms | 0.32 ms | 0.59 ms | 8.3x | 1.56x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x2048 | LoFi | FP32 | 0.89 ms | 7.3 ms | 0.32 ms | 0.59 ms | 8.2x | 1.50x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x2048 | HiFi2 | BF16 | 1.22 ms | 10.5 ms | 0.32 ms | 0.59 ms | 8.6x | 2.06x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x2048 | HiFi2 | FP32 | 1.21 ms | 11.0 ms | 0.32 ms | 0.59 ms | 9.1x | 2.05x | 62.1 % | 256 | 2^-24.8 |
| 2x2048 @ 2048x8192 | LoFi | BF16 | 4.93 ms | 36.9 ms | 1.46 ms | 2.61 ms | 7.5x | 1.88x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x8192 | LoFi | FP32 | 4.20 ms | 35.8 ms | 1.46 ms | 2.61 ms | 8.5x | 1.61x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x8192 | HiFi2 | BF16 | 5.72 ms | 42.4 ms | 1.46 ms | 2.61 ms | 7.4x | 2.19x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x8192 | HiFi2 | FP32 | 5.59 ms | 44.9 ms | 1.46 ms | 2.61 ms | 8.0x | 2.14x | 62.8 % | 8192 | 2^-24.8 |
| 2x8192 @ 8192x2048 | LoFi | BF16 | 3.82 ms | 37.4 ms | 1.31 ms | 2.25 ms | 9.8x | 1.70x | 100.0 % | 0 | 0 |
| 2x8192 @ 8192x2048 | LoFi | FP32 | 3.78 ms | 35.3 ms | 1.31 ms | 2.25 ms | 9.3x | 1.68x | 100.0 % | 0 | 0 |
| 2x8192 @ 8192x2048 | HiFi2 | BF16 | 5.44 ms | 43.6 ms | 1.31 ms | 2.25 ms | 8.0x | 2.42x | 100.0 % | 0 | 0 |
| 2x8192 @ 8192x2048 | HiFi2 | FP32 | 5.68 ms | 45.2 ms | 1.31 ms | 2.25 ms | 8.0x | 2.52x | 44.9 % | 7168 | 2^-25.8 |
| 2x2048 @ 2048x512 | LoFi | BF16 | 0.26 ms | 3.2 ms | 0.11 ms | 0.15 ms | 12.3x | 1.79x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x512 | LoFi | FP32 | 0.26 ms | 3.0 ms | 0.11 ms | 0.15 ms | 11.5x | 1.75x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x512 | HiFi2 | BF16 | 0.37 ms | 4.9 ms | 0.11 ms | 0.15 ms | 13.4x | 2.52x | 100.0 % | 0 | 0 |
| 2x2048 @ 2048x512 | HiFi2 | FP32 | 0.30 ms | 4.4 ms | 0.11 ms | 0.15 ms | 14.6x | 2.02x | 63.0 % | 128 | 2^-24.8 |

Also measured, same session: 2x2048 @ 2048x128256 (lm_head), HiFi2, BF16 Dst, medians of 3-5: kernel 84 ms,
``dst_fast`` 609 ms, exact 26 ms (2 threads) / 49 ms (1 thread); 99.998 % bit-equal to ``dst_fast``.

Against ``dst_reference`` (bf16 activation x bf16 or TF32 weight, 1x200 @ 200x70 and 37x80 @ 80x48, LoFi / HiFi2 /
HiFi3 / HiFi4, BF16 / FP32 Dst: 32 cases, all within test_card_fast_path.py's bounds): BF16 Dst max |kernel - ref|
2^-7.1 x sum|x w|, 27-75 % bit-equal, relative RMS error vs float64 0.93-1.13x the reference's; FP32 Dst
2^-11.6 x sum|x w|, relative RMS error <= 1.005x the reference's (0.000 at HiFi4 with bf16 weights: every bit is
multiplied, so only the float32 rounding of the chunk sums remains, far below the reference's alignment window).

``--decode-step 2 --repeat 5`` (2 layers + lm_head, two runs): exact 0.066 / 0.064 s, card 1.349 / 1.308 s
(20.5x), card with the kernel 0.372 / 0.437 s (5.7x / 6.8x); card logits with / without the kernel PCC 0.99958
(0.002-0.05 % of the two-row matmuls' Dst outputs differ by ``dst_fast``'s rounding of its sums).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

KERNEL = r"""
#include <torch/extension.h>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace {

constexpr int NB = 32;  // output columns per block (measured: 32 beats 16, 64, 128: fewer weight rows in flight)

inline uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t load_bits(const float* p) { return bits_of(*p); }
inline uint32_t load_bits(const at::BFloat16* p) { uint16_t h; std::memcpy(&h, p, 2); return uint32_t(h) << 16; }

inline void split(uint32_t b, bool need_lo, float* hi, float* lo) {
  // SrcA slices: hi = sign, exponent, hidden + 4 bits; lo = the next 5 bits (exact difference; TF32 LSB dropped)
  *hi = float_of(b & 0xFFF80000u);
  if (need_lo) *lo = float_of(b & 0xFFFFC000u) - *hi;
}

#ifdef __AVX512F__
inline __m512i load16(const float* p) { return _mm512_loadu_si512(p); }
inline __m512i load16(const at::BFloat16* p) {
  return _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16);
}

// r[i] = row i of a 16 x 16 block of 32-bit words -> r[c] = column c
inline void transpose16(__m512i* r) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // r[4i + c], 128-bit lane l: column 4l + c of rows 4i .. 4i + 3
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // 4 x 4 transpose of 128-bit lanes
    const __m512i u0 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x44), u1 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xEE);
    const __m512i u2 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x44);
    const __m512i u3 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xEE);
    t[c] = _mm512_shuffle_i32x4(u0, u2, 0x88);
    t[4 + c] = _mm512_shuffle_i32x4(u0, u2, 0xDD);
    t[8 + c] = _mm512_shuffle_i32x4(u1, u3, 0x88);
    t[12 + c] = _mm512_shuffle_i32x4(u1, u3, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}
#endif

// the SrcA slices of a full 32 (K) x NB (N) tile of K-major storage (column j at w + j * sn)
template <typename W>
void fill_k_major(const W* w, int64_t sn, bool need_lo, float (*wa)[32][NB]) {
#ifdef __AVX512F__
  const __m512i hi_mask = _mm512_set1_epi32(int(0xFFF80000u)), full_mask = _mm512_set1_epi32(int(0xFFFFC000u));
  __m512i r[16];
  for (int j0 = 0; j0 < NB; j0 += 16)
    for (int h = 0; h < 32; h += 16) {
      for (int i = 0; i < 16; ++i) r[i] = load16(w + (j0 + i) * sn + h);
      transpose16(r);
      for (int kk = 0; kk < 16; ++kk) {
        const __m512 hi = _mm512_castsi512_ps(_mm512_and_si512(r[kk], hi_mask));
        _mm512_store_ps(&wa[0][h + kk][j0], hi);
        if (need_lo)
          _mm512_store_ps(&wa[1][h + kk][j0],
                          _mm512_sub_ps(_mm512_castsi512_ps(_mm512_and_si512(r[kk], full_mask)), hi));
      }
    }
#else
  for (int j = 0; j < NB; ++j)
    for (int kk = 0; kk < 32; ++kk) split(load_bits(w + j * sn + kk), need_lo, &wa[0][kk][j], &wa[1][kk][j]);
#endif
}

// One MVMUL for R rows: s = the float32 sum of the 16 products (K order) per column; Dst += s, then rounded
template <int R>
inline void mvmul(const float* x, int64_t x_stride, const float (*a)[NB], float* d, bool fp32_dest) {
  alignas(64) float s[R][NB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NB; ++j) s[r][j] = x[r * x_stride] * a[0][j];
  for (int kk = 1; kk < 16; ++kk)
    for (int r = 0; r < R; ++r) {
      const float xv = x[r * x_stride + kk];
      for (int j = 0; j < NB; ++j) s[r][j] += xv * a[kk][j];  // products exact: any contraction is too
    }
  for (int r = 0; r < R; ++r) {
    float* dr = d + r * NB;
    if (fp32_dest) {
      for (int j = 0; j < NB; ++j) dr[j] += s[r][j];
    } else {
      for (int j = 0; j < NB; ++j) dr[j] = float_of((bits_of(dr[j] + s[r][j]) + 0x8000u) & 0xFFFF0000u);
    }
  }
}

template <typename W>
void dst_kernel(const float* xb, int64_t m_rows, int64_t kp, const W* w, int64_t k, int64_t n, int64_t sk,
                int64_t sn, const std::vector<int>& phases, bool need_lo, bool fp32_dest, float* out) {
  // xb: [2][m_rows][kp] SrcB hi / lo slices, zero past k
  alignas(64) float wa[2][32][NB];
  std::vector<float> d_store(m_rows * NB);
  float* d = d_store.data();
  for (int64_t n0 = 0; n0 < n; n0 += NB) {
    const int64_t nn = std::min<int64_t>(NB, n - n0);
    std::fill(d_store.begin(), d_store.end(), 0.0f);
    for (int64_t t0 = 0; t0 < kp; t0 += 32) {
      const int64_t kt = std::min<int64_t>(32, k - t0);
      if (kt == 32 && nn == NB && sk == 1) {
        fill_k_major(w + n0 * sn + t0, sn, need_lo, wa);
      } else {  // edge blocks and other strides
        std::memset(wa, 0, sizeof(wa));
        for (int64_t j = 0; j < nn; ++j)
          for (int64_t kk = 0; kk < kt; ++kk)
            split(load_bits(w + (n0 + j) * sn + (t0 + kk) * sk), need_lo, &wa[0][kk][j], &wa[1][kk][j]);
      }
      for (int p : phases) {
        const float (*a)[NB] = wa[p & 1];
        for (int h = 0; h < 32; h += 16) {
          for (int64_t r = 0; r < m_rows;) {  // rows in groups of up to 4: independent chains per group
            const float* xr = xb + ((p >> 1) * m_rows + r) * kp + t0 + h;
            float* dr = d + r * NB;
            switch (std::min<int64_t>(4, m_rows - r)) {
              case 4: mvmul<4>(xr, kp, a + h, dr, fp32_dest); r += 4; break;
              case 3: mvmul<3>(xr, kp, a + h, dr, fp32_dest); r += 3; break;
              case 2: mvmul<2>(xr, kp, a + h, dr, fp32_dest); r += 2; break;
              default: mvmul<1>(xr, kp, a + h, dr, fp32_dest); r += 1;
            }
          }
        }
      }
    }
    for (int64_t r = 0; r < m_rows; ++r)
      std::memcpy(out + r * n + n0, d + r * NB, nn * sizeof(float));
  }
}

}  // namespace

torch::Tensor dst(torch::Tensor x, torch::Tensor w, std::vector<int64_t> phases, bool fp32_dest) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(0), "x [M, K], w [K, N]");
  TORCH_CHECK(x.scalar_type() == torch::kFloat32, "x float32");
  const int64_t m = x.size(0), k = x.size(1), n = w.size(1), kp = (k + 31) / 32 * 32;
  auto xc = x.contiguous();
  auto xb = torch::zeros({2, m, kp}, x.options());
  auto xb_bits = xb.view(torch::kInt32);
  xb[0].narrow(1, 0, k).copy_(xc.view(torch::kInt32).bitwise_and(-(1 << 17)).view(torch::kFloat32));
  xb[1].narrow(1, 0, k).copy_(xc - xb[0].narrow(1, 0, k));
  std::vector<int> ph(phases.begin(), phases.end());
  bool need_lo = false;
  for (int p : ph) need_lo |= (p & 1) != 0;
  auto out = torch::empty({m, n}, x.options());
  if (w.scalar_type() == torch::kBFloat16)
    dst_kernel(xb.data_ptr<float>(), m, kp, w.data_ptr<at::BFloat16>(), k, n, w.stride(0), w.stride(1), ph,
               need_lo, fp32_dest, out.data_ptr<float>());
  else {
    TORCH_CHECK(w.scalar_type() == torch::kFloat32, "w bfloat16 or float32");
    dst_kernel(xb.data_ptr<float>(), m, kp, w.data_ptr<float>(), k, n, w.stride(0), w.stride(1), ph, need_lo,
               fp32_dest, out.data_ptr<float>());
  }
  return out;
}
"""


def build():
    """The compiled module (``dst``), built on first use."""
    from torch.utils.cpp_extension import load_inline

    return load_inline("card_dst_prototype", cpp_sources=KERNEL, functions=["dst"],
                       extra_cflags=["-O3", "-march=native"], verbose=False)


DECODE_SHAPES = [(m, k, n) for m in (1, 2) for k, n in ((2048, 2048), (2048, 8192), (8192, 2048), (2048, 512))]


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ulps(a: torch.Tensor, b: torch.Tensor, fp32_dest: bool) -> int:
    """Largest difference of ``a`` and ``b`` (float32 Dst values) in last places of the Dst format."""
    def ordered(v):
        i = v.contiguous().view(torch.int32).long()
        return torch.where(i < 0, -(i & 0x7FFFFFFF), i)
    d = (ordered(a) - ordered(b)).abs().max().item() if a.numel() else 0
    return int(d if fp32_dest else d // 65536)


def compare_speed(mod, repeat: int) -> list[dict]:
    from ttbringup.emu import card_matmul

    rows = []
    for m, k, n in DECODE_SHAPES:
        torch.manual_seed(0)
        x = torch.randn(m, k).bfloat16().float()
        w = (torch.randn(n, k) / k ** 0.5).bfloat16().T  # [K, N], K-major storage
        xbf = x.bfloat16()
        exact = median_time(lambda: torch.mm(xbf, w), repeat)
        with card_matmul.one_thread():
            exact_1 = median_time(lambda: torch.mm(xbf, w), repeat)
        magnitude = x.double().abs() @ w.double().abs()
        for fidelity in ("LoFi", "HiFi2"):
            phases = list(card_matmul.fpu.phases(fidelity))
            for fp32_dest in (False, True):
                t_kernel = median_time(lambda: mod.dst(x, w, phases, fp32_dest), repeat)
                t_fast = median_time(lambda: card_matmul.dst_fast(x, w, fidelity, fp32_dest), repeat)
                got, want = mod.dst(x, w, phases, fp32_dest), card_matmul.dst_fast(x, w, fidelity, fp32_dest)
                rows.append({"shape": f"{m}x{k} @ {k}x{n}", "fidelity": fidelity,
                             "dst": "FP32" if fp32_dest else "BF16", "kernel_s": t_kernel, "fast_s": t_fast,
                             "exact_s": exact, "exact_1_s": exact_1,
                             "rel": float(((got.double() - want.double()).abs() / magnitude).max()),
                             "equal": float((got.view(torch.int32) == want.view(torch.int32))
                                                              .double().mean()),
                             "max_ulp": ulps(got, want, fp32_dest)})
                print(_row(rows[-1]), flush=True)
    return rows


def _row(r: dict) -> str:
    return (f"| {r['shape']} | {r['fidelity']} | {r['dst']} | {1e3 * r['kernel_s']:.2f} ms | {1e3 * r['fast_s']:.1f} ms"
            f" | {1e3 * r['exact_s']:.2f} ms | {1e3 * r['exact_1_s']:.2f} ms | {r['fast_s'] / r['kernel_s']:.1f}x"
            f" | {r['kernel_s'] / r['exact_1_s']:.2f}x | {100 * r['equal']:.1f} % | {r['max_ulp']}"
            f" | {_log2(r['rel'])} |")


def _log2(v: float) -> str:
    return "0" if v == 0 else f"2^{math.log2(v):.1f}"


def compare_reference(mod) -> list[str]:
    """The kernel against the bit-exact reference with test_card_fast_path.py's bounds, bf16 and TF32 weights."""
    from ttbringup.emu import card_matmul

    lines = []
    for (m, k, n), w_dtype in (((1, 200, 70), torch.bfloat16), ((37, 80, 48), torch.bfloat16),
                               ((1, 200, 70), torch.float32), ((37, 80, 48), torch.float32)):
        torch.manual_seed(20)
        x = torch.randn(m, k).bfloat16().float()
        w = card_matmul.src_values(torch.randn(k, n), card_matmul.DataType.FLOAT32).to(w_dtype) \
            if w_dtype == torch.float32 else torch.randn(k, n).bfloat16()
        for fidelity in ("LoFi", "HiFi2", "HiFi3", "HiFi4"):
            for fp32_dest in (False, True):
                got = mod.dst(x, w, list(card_matmul.fpu.phases(fidelity)), fp32_dest)
                ref = card_matmul.dst_reference(x, w.float(), fidelity, fp32_dest)
                xs, ws = x.double(), w.double()
                exact, magnitude = xs @ ws, xs.abs() @ ws.abs()
                bound = 2.0 ** (-11 if fp32_dest else -6)
                worst = float(((got.double() - ref.double()).abs() / magnitude.clamp_min(1e-300)).max())
                rms = lambda v: float((v.double() - exact).pow(2).mean().sqrt() / exact.pow(2).mean().sqrt())
                ratio = rms(got) / rms(ref) if rms(ref) else float("nan")
                ok = worst <= bound and (torch.equal(got, ref) if rms(ref) == 0 else
                                         ratio <= 1.05 if fp32_dest else 0.5 <= ratio <= 1.5)
                lines.append(f"| {m}x{k} @ {k}x{n} {str(w_dtype)[6:]} | {fidelity} | {'FP32' if fp32_dest else 'BF16'}"
                             f" | {_log2(worst)} | {ratio:.3f} | "
                             f"{100 * float((got == ref).double().mean()):.0f} % | {'yes' if ok else 'NO'} |")
    return lines


def decode_step(mod, num_layers: int, steps: int) -> dict:
    """Decode step times of real-shape Llama-3.2-1B (random weights, the first ``num_layers`` layers + lm_head;
    benchmarks/run.py's card-decode child) in exact mode, card mode, and card mode with ``dst_fast`` replaced by
    the kernel for this measurement only; plus the logits' agreement of the two card runs."""
    import importlib

    from ttbringup import backend
    from ttbringup.evaluation.release import releasing_layers

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench

    ttnn = backend.load("emu", announce=False)
    numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
    card_matmul = importlib.import_module("ttbringup.emu.card_matmul")
    hf_id = "meta-llama/Llama-3.2-1B"
    hf = bench.random_hf_model(hf_id, torch.bfloat16, num_layers)
    gen = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, hf.config.vocab_size, (1, 8), generator=gen)
    tokens = torch.randint(0, hf.config.vocab_size, (steps,), generator=gen).tolist()
    compiled = lambda x, w, fidelity, fp32_dest: mod.dst(x.to(torch.float32), w, list(card_matmul.fpu.phases(fidelity)),
                                                        fp32_dest)
    out = {}
    device = ttnn.open_device(device_id=0)
    try:
        with releasing_layers(hf):
            tt = bench.load_bringup(hf_id).build_model(hf, device, 2048)
        del hf
        for name, mode, dst in (("exact", "exact", None), ("card", "card", None), ("card_kernel", "card", compiled)):
            saved = card_matmul.dst_fast
            if dst is not None:
                card_matmul.dst_fast = dst
            try:
                with numerics_mode.use(mode):
                    _, times, out[name + "_logits"] = bench.run_steps(tt, prompt, tokens)
            finally:
                card_matmul.dst_fast = saved
            out[name + "_s"] = statistics.median(times)
    finally:
        ttnn.close_device(device)
    out["logits_equal"] = bool(torch.equal(out["card_logits"], out["card_kernel_logits"]))
    out["logits_pcc"] = bench.pcc(out["card_logits"], out["card_kernel_logits"])
    return out


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--decode-step", type=int, metavar="LAYERS", default=0,
                        help="instead: time the decode step of real-shape Llama-3.2-1B cut to LAYERS layers")
    args = parser.parse_args()
    if args.repeat < 1:
        _fail("--repeat must be at least 1")
    if args.decode_step < 0:
        _fail("--decode-step must be a layer count")
    t0 = time.perf_counter()
    try:
        mod = build()
    except (OSError, RuntimeError) as e:  # no g++ / ninja, or the build failed
        _fail(f"cannot build the kernel: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    if args.decode_step:
        r = decode_step(mod, args.decode_step, args.repeat)
        print(f"decode step, {args.decode_step} layers + lm_head, median of {args.repeat}: exact {r['exact_s']:.3f} s, "
              f"card {r['card_s']:.3f} s ({r['card_s'] / r['exact_s']:.1f}x), card with the kernel "
              f"{r['card_kernel_s']:.3f} s ({r['card_kernel_s'] / r['exact_s']:.1f}x); card logits with / without "
              f"the kernel: equal {r['logits_equal']}, PCC {r['logits_pcc']:.6f}")
        return
    print(f"build (or load from the cache): {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}")
    print("| shape | fidelity | Dst | kernel | dst_fast | exact (2 threads) | exact (1 thread) | dst_fast / kernel "
          "| kernel / exact 1 thread | equal | max ulp | max \\|diff\\| / sum\\|xw\\| |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    compare_speed(mod, args.repeat)
    print("\n| vs dst_reference | fidelity | Dst | max \\|kernel - ref\\| / sum\\|xw\\| | rel RMS kernel / ref "
          "| equal | within the test's bounds |")
    print("|---|---|---|---:|---:|---:|---|")
    for line in compare_reference(mod):
        print(line, flush=True)


if __name__ == "__main__":
    main()
