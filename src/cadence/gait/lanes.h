// W doubles processed as one value (GCC/Clang vector extensions), for the gait kernels that treat
// W series at once, lane-interleaved: point p of series l at x[p * W + l]. W is 4 (SSE2/AVX2
// builds) or 8 (AVX-512 build, chosen at run time when the CPU has it).
//
// Why explicit vectors: the kernels' reductions (sums, extremes, arg-max) must not depend on
// what the auto-vectoriser decides, and without -ffast-math it will not reassociate them. Each
// lane is one series, so lanes never mix and every result is a fixed sequence of IEEE
// operations: the same bits for W = 4 or 8 and with SSE2, AVX2 or AVX-512 (no FMA contraction
// is enabled: see CADENCE_SIMD_CLONES below).
//
// Only operators and macros act on these types, never a function taking or returning one by
// value: a vector crossing a call changes the calling convention between builds (Clang rejects
// it outright, even for inlined helpers). The macros expect the kernel's `vd` and `vbits` types
// in scope (`using vd = typename lanes::Lanes<W>::vd;` ...). Comparison masks are held in `auto`
// variables: their element type differs between compilers (long, long long).
#pragma once

namespace cadence::gait::lanes {

inline constexpr int kMaxWidth = 8;

template <int W>
struct Lanes {
  static_assert(W == 4 || W == 8);
  typedef double vd __attribute__((vector_size(W * sizeof(double))));
  typedef long long vbits __attribute__((vector_size(W * sizeof(long long))));  // for bit operations
  typedef float vf __attribute__((vector_size(W * sizeof(float))));
  // The same vectors seen in memory: any 4/8-byte alignment, may alias their elements. Buffers
  // are read and written through these, so that no buffer needs vector alignment. Spell the
  // pointer type out (`const vdu* x = ...`): GCC deduces `auto*` to the plain, fully aligned
  // vector and then emits aligned loads.
  typedef double vdu __attribute__((vector_size(W * sizeof(double)), aligned(sizeof(double)), may_alias));
  typedef float vfu __attribute__((vector_size(W * sizeof(float)), aligned(sizeof(float)), may_alias));
};

inline constexpr long long kAbsMask = 0x7fffffffffffffffLL;

}  // namespace cadence::gait::lanes

// x in every lane: x - 0.0 is x exactly (-0.0 and NaN included), and compilers fold it away.
#define CADENCE_SPLAT(x) ((x) - vd{})
// |a| per lane, as std::fabs: the sign bit cleared.
#define CADENCE_VABS(a) (reinterpret_cast<vd>(reinterpret_cast<vbits>(a) & ::cadence::gait::lanes::kAbsMask))
// W points of W series as W lane vectors: o[k][l] = a_l[k] (a W x W transpose in registers).
#define CADENCE_TRANSPOSE4(a, o)                                      \
  do {                                                                \
    const auto t0_ = __builtin_shufflevector(a[0], a[1], 0, 4, 2, 6); \
    const auto t1_ = __builtin_shufflevector(a[0], a[1], 1, 5, 3, 7); \
    const auto t2_ = __builtin_shufflevector(a[2], a[3], 0, 4, 2, 6); \
    const auto t3_ = __builtin_shufflevector(a[2], a[3], 1, 5, 3, 7); \
    (o)[0] = __builtin_shufflevector(t0_, t2_, 0, 1, 4, 5);           \
    (o)[1] = __builtin_shufflevector(t1_, t3_, 0, 1, 4, 5);           \
    (o)[2] = __builtin_shufflevector(t0_, t2_, 2, 3, 6, 7);           \
    (o)[3] = __builtin_shufflevector(t1_, t3_, 2, 3, 6, 7);           \
  } while (0)
#define CADENCE_TRANSPOSE8(a, o)                                                                 \
  do {                                                                                           \
    vd t_[8], u_[8];                                                                                 \
    for (int j_ = 0; j_ < 8; j_ += 2) {                                                          \
      t_[j_] = __builtin_shufflevector(a[j_], a[j_ + 1], 0, 8, 2, 10, 4, 12, 6, 14);             \
      t_[j_ + 1] = __builtin_shufflevector(a[j_], a[j_ + 1], 1, 9, 3, 11, 5, 13, 7, 15);         \
    }                                                                                            \
    for (int j_ = 0; j_ < 8; j_ += 4) {                                                          \
      u_[j_] = __builtin_shufflevector(t_[j_], t_[j_ + 2], 0, 1, 8, 9, 4, 5, 12, 13);            \
      u_[j_ + 1] = __builtin_shufflevector(t_[j_ + 1], t_[j_ + 3], 0, 1, 8, 9, 4, 5, 12, 13);    \
      u_[j_ + 2] = __builtin_shufflevector(t_[j_], t_[j_ + 2], 2, 3, 10, 11, 6, 7, 14, 15);      \
      u_[j_ + 3] = __builtin_shufflevector(t_[j_ + 1], t_[j_ + 3], 2, 3, 10, 11, 6, 7, 14, 15);  \
    }                                                                                            \
    for (int k_ = 0; k_ < 4; ++k_) {                                                             \
      (o)[k_] = __builtin_shufflevector(u_[k_], u_[k_ + 4], 0, 1, 2, 3, 8, 9, 10, 11);           \
      (o)[k_ + 4] = __builtin_shufflevector(u_[k_], u_[k_ + 4], 4, 5, 6, 7, 12, 13, 14, 15);     \
    }                                                                                            \
  } while (0)

// The W = 4 kernels are compiled twice, for plain x86-64 (SSE2) and for AVX2, and the loader
// picks one (function multi-versioning, an ifunc); the W = 8 kernels are compiled for AVX-512
// and run only where the CPU has it (simd_width()). No FMA: a fused multiply-add rounds once
// instead of twice, so contracting a * b + c would make results depend on the CPU; AVX-512
// implies FMA, hence -ffp-contract=off for the core (src/cadence/CMakeLists.txt). Sanitizer builds keep
// plain versions (ifunc resolvers run before the sanitizer runtime is set up); their W = 8
// kernels still run, as generic vector code, when a test asks for them.
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
#define CADENCE_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
#define CADENCE_HAVE_AVX512_BUILD 1
#else
#define CADENCE_SIMD_CLONES
#define CADENCE_AVX512
#define CADENCE_HAVE_AVX512_BUILD 0
#endif

namespace cadence::gait::lanes {

// The lane width the kernels should use here: 8 on a CPU with AVX-512 (F, DQ, VL, BW), else 4.
inline int simd_width() noexcept {
#if CADENCE_HAVE_AVX512_BUILD
  static const int width = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
                               ? 8 : 4;
  return width;
#else
  return 4;
#endif
}

}  // namespace cadence::gait::lanes
