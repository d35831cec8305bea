// Card-mode matmul Dst values, compiled: the arithmetic of card_matmul.dst_fast (see its docstring and
// ttbringup/emu/card/compiled.py) in one pass over the weight.
//
// dst(x, w, phases, fp32_dest, block_tiles, fold_last): x [M, K] float32 SrcB values (in0), w [K, N] bfloat16 or
// float32 (TF32 values) SrcA values (in1) in any strides, K zero-padded to whole 32-wide tiles. Output [M, N]
// float32 values: the Dst after the last K block, or with fold_last the partials every block was folded into.
// dst_block_float(x, mant, exp, scale, n, phases, fp32_dest, block_tiles, fold_last): the same for a bfloat8_b /
// bfloat4_b weight read as stored (codes and shared exponents), so it is never decoded into a float32 copy.
//
// K blocks (packer_l1_acc, card_matmul.k_blocked states the contract): K is split into blocks of block_tiles tiles
// (0: one block); every block's Dst starts cleared and is packed into the partials (block 0 as is, later ones with
// L1 accumulation: bf16 words for a BF16 Dst, added exactly and rounded to nearest even; float32 for an FP32 Dst,
// added in float32; denormals flushed), except the last, which accumulates on top of the partials reloaded into
// Dst, or with fold_last (a fused bias) is folded like the others.
//
// Per block of NB output columns, per 32-wide K tile: the tile's SrcA slices (hi: sign, exponent, hidden + 4
// bits; lo: the next 5 bits, the TF32 LSB dropped) are built once, so each weight element is read once per
// call. Then per fidelity phase p (SrcA slice p & 1, SrcB slice p >> 1: hidden + 6 bits / the next 4), per
// 16-wide K half, per row: the float32 sum of the 16 slice products in K order (each product is exact, so a
// fused multiply-add changes nothing), added into Dst and rounded once (BF16 Dst: (bits + 0x8000) & ~0xFFFF,
// ties away from zero on the magnitude; FP32 Dst: the float32 add). Column blocks are independent and run in
// parallel on torch's intra-op threads; the result does not depend on the thread count.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace {

constexpr int NB = 32;  // output columns per block (measured: 32 beats 16, 64 and 128)
constexpr uint32_t SRCA_HI = 0xFFF80000u, SRCA_FULL = 0xFFFFC000u, SRCB_HI = 0xFFFE0000u;

inline uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t load_bits(const float* p) { return bits_of(*p); }
inline uint32_t load_bits(const at::BFloat16* p) { uint16_t h; std::memcpy(&h, p, 2); return uint32_t(h) << 16; }

inline void split(uint32_t b, float* hi, float* lo) {
  *hi = float_of(b & SRCA_HI);
  *lo = float_of(b & SRCA_FULL) - *hi;
}

// The packer's view of a Dst value (card/packer.py): the bf16 word a BF16 Dst packs (NaN -> inf, zero exponent
// -> +0) or the float32 word an FP32 Dst packs (as is).
inline uint32_t packed(uint32_t b, bool fp32_dest) {
  if (fp32_dest) return b;
  const uint32_t h = b & 0xFFFF0000u;
  const uint32_t no_nan = (h & 0x7FFF0000u) > 0x7F800000u ? (h & 0x80000000u) | 0x7F800000u : h;
  return (no_nan & 0x7F800000u) == 0 ? 0u : no_nan;
}

inline uint32_t flush_denormal(uint32_t b) { return (b & 0x7F800000u) == 0 ? (b & 0x80000000u) : b; }

// Packer L1 accumulation of one packed word onto the partials word (card/packer.py l1_acc_bf16 / l1_acc_fp32):
// denormal operands and results -> signed zero; bf16: the sum of two bf16 values rounded to nearest even (their
// float32 sum is exact unless one is below 2^-16 of the other, where both round to the larger), +inf + -inf ->
// 0x7FC0; fp32: the float32 add, NaN -> 0x7FC00000. Written as selects, so the fold loops vectorise.
inline uint32_t l1_acc(uint32_t partial, uint32_t word, bool fp32_dest) {
  const uint32_t r = bits_of(float_of(flush_denormal(partial)) + float_of(flush_denormal(word)));
  const bool nan = (r & 0x7FFFFFFFu) > 0x7F800000u;  // inf + -inf, or a NaN an FP32 Dst packed
  const uint32_t bf16 = (r + 0x7FFFu + ((r >> 16) & 1u)) & 0xFFFF0000u;
  const bool tiny = (r & 0x7F800000u) == 0;  // a denormal sum underflows before it is rounded (as packer.py's)
  return nan ? 0x7FC00000u : tiny ? (r & 0x80000000u) : fp32_dest ? r : bf16;
}

// Partials reloaded into Dst: a BF16 Dst through SrcA (zero exponent -> +0), an FP32 Dst unpacked as is.
inline uint32_t reloaded(uint32_t partial, bool fp32_dest) {
  return !fp32_dest && (partial & 0x7F800000u) == 0 ? 0u : partial;
}

// One K block's Dst d (count values) packed into the partials p (as is for the first block, else with L1
// accumulation); then Dst is cleared, or with reload set to the reloaded partials.
template <bool FP32_DEST>
void fold(float* d, uint32_t* p, int64_t count, bool first, bool reload) {
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t word = packed(bits_of(d[i]), FP32_DEST);
    const uint32_t sum = first ? word : l1_acc(p[i], word, FP32_DEST);
    p[i] = sum;
    d[i] = reload ? float_of(reloaded(sum, FP32_DEST)) : 0.0f;
  }
}

inline void fold(float* d, uint32_t* p, int64_t count, bool first, bool reload, bool fp32_dest) {
  if (fp32_dest) fold<true>(d, p, count, first, reload);
  else fold<false>(d, p, count, first, reload);
}

struct KBlocks {
  int64_t tiles;   // K tiles per block (the last may be shorter)
  bool fold_last;  // the last block is folded into the partials too (fused bias)
};

using Slices = float[2][32][NB];  // [SrcA hi / lo][K row of the tile][column of the block]

#ifdef __AVX512F__
inline __m512i load16(const float* p) { return _mm512_loadu_si512(p); }
inline __m512i load16(const at::BFloat16* p) {
  return _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16);
}

inline void store_slices(__m512i v, bool need_lo, float* hi_out, float* lo_out) {
  const __m512 hi = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(SRCA_HI))));
  _mm512_store_ps(hi_out, hi);
  if (need_lo)
    _mm512_store_ps(lo_out, _mm512_sub_ps(_mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(SRCA_FULL)))),
                                          hi));
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
  for (int c = 0; c < 4; ++c) {  // 4 x 4 transpose of the 128-bit lanes
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

// The slices of a full 32 (K) x NB (N) tile whose K is contiguous (column j at w + j * sn): large weights.
template <typename W>
void fill_k_major(const W* w, int64_t sn, bool need_lo, Slices& wa) {
#ifdef __AVX512F__
  __m512i r[16];
  for (int j0 = 0; j0 < NB; j0 += 16)
    for (int h = 0; h < 32; h += 16) {
      for (int i = 0; i < 16; ++i) r[i] = load16(w + (j0 + i) * sn + h);
      transpose16(r);
      for (int kk = 0; kk < 16; ++kk) store_slices(r[kk], need_lo, &wa[0][h + kk][j0], &wa[1][h + kk][j0]);
    }
#else
  for (int j = 0; j < NB; ++j)
    for (int kk = 0; kk < 32; ++kk) split(load_bits(w + j * sn + kk), &wa[0][kk][j], &wa[1][kk][j]);
#endif
}

// The same for a tile whose N is contiguous (K row kk at w + kk * sk).
template <typename W>
void fill_n_major(const W* w, int64_t sk, bool need_lo, Slices& wa) {
  for (int kk = 0; kk < 32; ++kk) {
#ifdef __AVX512F__
    for (int j0 = 0; j0 < NB; j0 += 16) store_slices(load16(w + kk * sk + j0), need_lo, &wa[0][kk][j0], &wa[1][kk][j0]);
#else
    for (int j = 0; j < NB; ++j) split(load_bits(w + kk * sk + j), &wa[0][kk][j], &wa[1][kk][j]);
#endif
  }
}

// One MVMUL for R rows of x (row stride x_stride) against 16 K rows of a slice: Dst rows d += the sums, rounded.
template <int R>
inline void mvmul(const float* x, int64_t x_stride, const float (*a)[NB], float* d, bool fp32_dest) {
  alignas(64) float s[R][NB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NB; ++j) s[r][j] = x[r * x_stride] * a[0][j];
  for (int kk = 1; kk < 16; ++kk)
    for (int r = 0; r < R; ++r) {
      const float xv = x[r * x_stride + kk];
      for (int j = 0; j < NB; ++j) s[r][j] += xv * a[kk][j];
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

// A dense weight (bfloat16 or float32 values, any strides): fills a tile's slices.
template <typename W>
struct Dense {
  const W* w;
  int64_t k, sk, sn;
  void fill(int64_t t0, int64_t n0, int64_t nn, bool need_lo, Slices& wa) const {
    const int64_t kt = std::min<int64_t>(32, k - t0);
    if (kt == 32 && nn == NB && sk == 1) {
      fill_k_major(w + n0 * sn + t0, sn, need_lo, wa);
    } else if (kt == 32 && nn == NB && sn == 1) {
      fill_n_major(w + n0 + t0 * sk, sk, need_lo, wa);
    } else {  // edge tiles
      std::memset(wa, 0, sizeof(wa));
      for (int64_t kk = 0; kk < kt; ++kk)
        for (int64_t j = 0; j < nn; ++j) split(load_bits(w + (n0 + j) * sn + (t0 + kk) * sk), &wa[0][kk][j], &wa[1][kk][j]);
    }
  }
};

// A block-float weight as stored (bfloat8_b / bfloat4_b): int8 codes [Kp, Np] (N contiguous) and one shared
// exponent per 16 columns [Kp, Np / 16]; a value is code * scale[exponent] (exact in float32).
struct BlockFloat {
  const int8_t* mant;
  const uint8_t* exp;
  const float* scale;
  int64_t k, np;
  float value(int64_t kk, int64_t j) const { return float(mant[kk * np + j]) * scale[exp[kk * (np / 16) + j / 16]]; }
  void fill(int64_t t0, int64_t n0, int64_t nn, bool need_lo, Slices& wa) const {
    const int64_t kt = std::min<int64_t>(32, k - t0);
#ifdef __AVX512F__
    if (kt == 32 && nn == NB) {
      for (int kk = 0; kk < 32; ++kk)
        for (int j0 = 0; j0 < NB; j0 += 16) {
          const int64_t row = t0 + kk, col = n0 + j0;
          const __m128i codes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mant + row * np + col));
          const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(codes)),
                                         _mm512_set1_ps(scale[exp[row * (np / 16) + col / 16]]));
          store_slices(_mm512_castps_si512(v), need_lo, &wa[0][kk][j0], &wa[1][kk][j0]);
        }
      return;
    }
#endif
    std::memset(wa, 0, sizeof(wa));
    for (int64_t kk = 0; kk < kt; ++kk)
      for (int64_t j = 0; j < nn; ++j) split(bits_of(value(t0 + kk, n0 + j)), &wa[0][kk][j], &wa[1][kk][j]);
  }
};

// Output column blocks [b0, b1) of the product; xb: [2][m][kp] SrcB hi / lo slices, zero past k.
template <typename Weight>
void dst_blocks(const float* xb, int64_t m, int64_t kp, const Weight& w, int64_t n, const std::vector<int>& phases,
                bool need_lo, bool fp32_dest, const KBlocks& kb, float* out, int64_t b0, int64_t b1) {
  alignas(64) Slices wa;
  std::vector<float> d_store(m * NB);
  std::vector<uint32_t> partials(m * NB);
  float* d = d_store.data();
  const int64_t block_k = 32 * kb.tiles;
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t n0 = b * NB, nn = std::min<int64_t>(NB, n - n0);
    std::fill(d_store.begin(), d_store.end(), 0.0f);
    for (int64_t t0 = 0; t0 < kp; t0 += 32) {
      const int64_t k_block = t0 / block_k;
      if (t0 > 0 && t0 % block_k == 0)  // a K block ended: pack it into the partials, then clear or reload Dst
        fold(d, partials.data(), m * NB, k_block == 1, t0 + block_k >= kp && !kb.fold_last, fp32_dest);
      w.fill(t0, n0, nn, need_lo, wa);
      for (int p : phases) {  // phases outer, the two K halves of the tile inner (the LLK order)
        const float (*a)[NB] = wa[p & 1];
        for (int h = 0; h < 32; h += 16) {
          for (int64_t r = 0; r < m;) {  // rows in groups of up to 4: independent chains per group
            const float* xr = xb + ((p >> 1) * m + r) * kp + t0 + h;
            float* dr = d + r * NB;
            switch (std::min<int64_t>(4, m - r)) {
              case 4: mvmul<4>(xr, kp, a + h, dr, fp32_dest); r += 4; break;
              case 3: mvmul<3>(xr, kp, a + h, dr, fp32_dest); r += 3; break;
              case 2: mvmul<2>(xr, kp, a + h, dr, fp32_dest); r += 2; break;
              default: mvmul<1>(xr, kp, a + h, dr, fp32_dest); r += 1;
            }
          }
        }
      }
    }
    if (kb.fold_last) {  // the last block too goes into the partials (the first as is when it is the only one)
      fold(d, partials.data(), m * NB, kp <= block_k, false, fp32_dest);
      std::memcpy(d, partials.data(), m * NB * sizeof(float));
    }
    for (int64_t r = 0; r < m; ++r) std::memcpy(out + r * n + n0, d + r * NB, nn * sizeof(float));
  }
}

// The SrcB slices of x ([2][M][Kp], zero past K) and the phase list, checked.
struct Operands {
  torch::Tensor xb;
  std::vector<int> phases;
  bool need_lo = false;
  int64_t m, k, kp;
};

Operands operands(const torch::Tensor& x, const std::vector<int64_t>& phases) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == torch::kFloat32, "dst: x must be float32 [M, K]");
  Operands o;
  o.m = x.size(0);
  o.k = x.size(1);
  o.kp = (o.k + 31) / 32 * 32;
  for (int64_t p : phases) {
    TORCH_CHECK(p >= 0 && p < 4, "dst: a phase is 0..3");
    o.phases.push_back(int(p));
    o.need_lo |= (p & 1) != 0;
  }
  auto xc = x.contiguous();
  o.xb = torch::zeros({2, o.m, o.kp}, x.options());
  auto hi = xc.view(torch::kInt32).bitwise_and(int32_t(SRCB_HI)).view(torch::kFloat32);
  o.xb[0].narrow(1, 0, o.k).copy_(hi);
  o.xb[1].narrow(1, 0, o.k).copy_(xc - hi);
  return o;
}

template <typename Weight>
torch::Tensor run(const Operands& o, const Weight& w, int64_t n, bool fp32_dest, const KBlocks& kb) {
  auto out = torch::empty({o.m, n}, o.xb.options());
  if (o.m == 0 || n == 0) return out;
  const float* xp = o.xb.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, (n + NB - 1) / NB, 1, [&](int64_t b0, int64_t b1) {
    dst_blocks(xp, o.m, o.kp, w, n, o.phases, o.need_lo, fp32_dest, kb, op, b0, b1);
  });
  return out;
}

}  // namespace

KBlocks k_blocks(int64_t block_tiles, bool fold_last, int64_t kp) {
  TORCH_CHECK(block_tiles >= 0, "dst: block_tiles must be >= 0 (0: one block)");
  return KBlocks{block_tiles == 0 ? kp / 32 + 1 : block_tiles, fold_last};
}

torch::Tensor dst(torch::Tensor x, torch::Tensor w, std::vector<int64_t> phases, bool fp32_dest, int64_t block_tiles,
                  bool fold_last) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(0), "dst: x [M, K], w [K, N]");
  TORCH_CHECK(w.scalar_type() == torch::kBFloat16 || w.scalar_type() == torch::kFloat32,
              "dst: w must be bfloat16 or float32");
  const Operands o = operands(x, phases);
  const KBlocks kb = k_blocks(block_tiles, fold_last, o.kp);
  const int64_t n = w.size(1), sk = w.stride(0), sn = w.stride(1);
  if (w.scalar_type() == torch::kBFloat16)
    return run(o, Dense<at::BFloat16>{w.data_ptr<at::BFloat16>(), o.k, sk, sn}, n, fp32_dest, kb);
  return run(o, Dense<float>{w.data_ptr<float>(), o.k, sk, sn}, n, fp32_dest, kb);
}

// x [M, K] times the first n columns of a block-float weight's storage (mant int8 [Kp, Np], exp uint8
// [Kp, Np / 16], contiguous, K <= Kp, n <= Np) with value = code * scale[exp] (scale float32 [256]).
torch::Tensor dst_block_float(torch::Tensor x, torch::Tensor mant, torch::Tensor exp, torch::Tensor scale, int64_t n,
                              std::vector<int64_t> phases, bool fp32_dest, int64_t block_tiles, bool fold_last) {
  TORCH_CHECK(mant.dim() == 2 && mant.scalar_type() == torch::kInt8 && mant.is_contiguous(),
              "dst_block_float: mant must be contiguous int8 [Kp, Np]");
  TORCH_CHECK(exp.scalar_type() == torch::kUInt8 && exp.is_contiguous() && exp.dim() == 2 &&
                  exp.size(0) == mant.size(0) && exp.size(1) * 16 == mant.size(1),
              "dst_block_float: exp must be contiguous uint8 [Kp, Np / 16]");
  TORCH_CHECK(scale.scalar_type() == torch::kFloat32 && scale.numel() == 256 && scale.is_contiguous(),
              "dst_block_float: scale must be float32 [256]");
  TORCH_CHECK(x.dim() == 2 && x.size(1) <= mant.size(0) && n <= mant.size(1),
              "dst_block_float: x [M, K] with K <= Kp and n <= Np");
  const Operands o = operands(x, phases);
  return run(o, BlockFloat{mant.data_ptr<int8_t>(), exp.data_ptr<uint8_t>(), scale.data_ptr<float>(), o.k,
                           mant.size(1)}, n, fp32_dest, k_blocks(block_tiles, fold_last, o.kp));
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("dst", &dst, "card-mode matmul Dst values of a dense weight (dst_kernel.cpp)");
  m.def("dst_block_float", &dst_block_float, "card-mode matmul Dst values of a block-float weight as stored");
}
