#include "cadence/runtime/build_info.h"

#include <FLAC/format.h>
#include <libdeflate.h>
#include <sndfile.h>
#include <soxr.h>
#include <zip.h>

#include "cadence/gait/lanes.h"

#ifndef CADENCE_NATIVE_LIBS_ORIGIN
#define CADENCE_NATIVE_LIBS_ORIGIN "unknown"
#endif

namespace cadence::runtime {

namespace {

std::string x86_features() {
  std::string out;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports takes only literals, hence one line per feature.
  const auto add = [&out](bool has, const char* name) {
    if (has) out += out.empty() ? name : std::string(" ") + name;
  };
  add(__builtin_cpu_supports("sse4.2"), "sse4.2");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(__builtin_cpu_supports("avx512f"), "avx512f");
#endif
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> build_info() {
  return {
      {"native_libs", CADENCE_NATIVE_LIBS_ORIGIN},
      {"libsndfile", sf_version_string()},
      {"libFLAC", FLAC__VERSION_STRING},
      {"libsoxr", soxr_version()},
      {"libzip", zip_libzip_version()},
      {"libdeflate", LIBDEFLATE_VERSION_STRING},
      {"fft", "pocketfft (header-only)"},
      {"compiler", __VERSION__},
      {"gait_lanes", std::to_string(gait::lanes::simd_width()) + (gait::lanes::simd_width() == 8 ? " (AVX-512)" : " (SSE2/AVX2)")},
      {"cpu_features", x86_features()},
  };
}

}  // namespace cadence::runtime
