// Four doubles processed as one value (GCC/Clang vector extensions), for the gait kernels that
// treat four series at once, lane-interleaved: point p of series l at x[p * 4 + l].
//
// Why explicit vectors: the kernels' reductions (sums, extremes, arg-max) must not depend on
// what the auto-vectoriser decides, and without -ffast-math it will not reassociate them. Each
// lane is one series, so lanes never mix and every result is a fixed sequence of IEEE
// operations: the same bits with SSE2, AVX2 or AVX-512 (no FMA contraction is enabled: see
// CADENCE_SIMD_CLONES below).
//
// Only internal-linkage, always-inline helpers take or return `vd`: a 32-byte vector crossing a
// real call would change the calling convention between the SSE2 and AVX2 clones.
#pragma once

#include <cstring>

namespace cadence::gait::lanes {

inline constexpr int kWidth = 4;
typedef double vd __attribute__((vector_size(kWidth * sizeof(double))));
typedef long long vi __attribute__((vector_size(kWidth * sizeof(long long))));
typedef float vf __attribute__((vector_size(kWidth * sizeof(float))));

#define CADENCE_LANES_INLINE [[gnu::always_inline]] static inline

CADENCE_LANES_INLINE vd splat(double v) { return vd{v, v, v, v}; }
CADENCE_LANES_INLINE vd load(const double* p) {  // unaligned
  vd v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
CADENCE_LANES_INLINE vd load(const float* p) {  // 4 floats, widened exactly
  vf v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, vd);
}
CADENCE_LANES_INLINE void store(double* p, vd v) { std::memcpy(p, &v, sizeof v); }
// Comparisons give all-ones / all-zeros lanes; select(m, a, b) = m ? a : b per lane.
CADENCE_LANES_INLINE vd select(vi m, vd a, vd b) {
  return reinterpret_cast<vd>((m & reinterpret_cast<vi>(a)) | (~m & reinterpret_cast<vi>(b)));
}
CADENCE_LANES_INLINE vd vmin(vd a, vd b) { return select(a < b, a, b); }  // NaN-free inputs
CADENCE_LANES_INLINE vd vmax(vd a, vd b) { return select(a > b, a, b); }
CADENCE_LANES_INLINE vd vabs(vd a) {  // clears the sign bit, as std::fabs
  constexpr long long m = 0x7fffffffffffffffLL;
  return reinterpret_cast<vd>(reinterpret_cast<vi>(a) & vi{m, m, m, m});
}

// 4 x 4 transpose: rows a0..a3 (4 consecutive points of 4 series) -> columns (one point of each
// series per output), so that o[k][l] = a_l[k].
CADENCE_LANES_INLINE void transpose(vd a0, vd a1, vd a2, vd a3, vd* o) {
  const vd t0 = __builtin_shufflevector(a0, a1, 0, 4, 2, 6);
  const vd t1 = __builtin_shufflevector(a0, a1, 1, 5, 3, 7);
  const vd t2 = __builtin_shufflevector(a2, a3, 0, 4, 2, 6);
  const vd t3 = __builtin_shufflevector(a2, a3, 1, 5, 3, 7);
  o[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  o[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  o[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  o[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

}  // namespace cadence::gait::lanes

// The hot kernels are compiled twice, for plain x86-64 (SSE2) and for AVX2, and the loader
// picks one (GCC/Clang function multi-versioning, an ifunc). AVX2 only, not FMA: a fused
// multiply-add rounds once instead of twice, so enabling it would make results depend on the
// CPU. Sanitizer builds keep the single portable version (ifunc resolvers run before the
// sanitizer runtime is set up).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define CADENCE_NO_SIMD_CLONES 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CADENCE_NO_SIMD_CLONES 1
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CADENCE_NO_SIMD_CLONES)
#define CADENCE_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CADENCE_SIMD_CLONES
#endif
