#include "cadence/gait/validation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cadence::gait {

const char* feature_kind_name(FeatureKind k) noexcept {
  static const char* const names[kFeatureKindCount] = {"other", "angle", "velocity", "moment", "power"};
  const auto i = static_cast<int>(k);
  return i >= 0 && i < kFeatureKindCount ? names[i] : "?";
}

const char* fail_bit_name(int i) noexcept {
  static const char* const names[kFailBitCount] = {"angle_range", "angle_jump", "velocity",
                                                   "moment",      "non_finite", "range"};
  return i >= 0 && i < kFailBitCount ? names[i] : "?";
}

std::uint8_t locohub_flags(FeatureKind kind, const LocoHubLimits& lim, double lo, double hi, bool nonfinite,
                           double jump) {
  std::uint8_t flags = nonfinite ? kFailNonFinite : 0;
  const double reach = std::max(-lo, hi);  // largest |x| among the non-NaN values
  switch (kind) {
    case FeatureKind::kAngle:
      if (lo < -lim.angle_abs_rad || hi > lim.angle_abs_rad) flags |= kFailAngleRange;
      if (jump > lim.angle_jump_rad) flags |= kFailAngleJump;
      break;
    case FeatureKind::kVelocity:
      if (reach > lim.velocity_abs_rad_s) flags |= kFailVelocity;
      break;
    case FeatureKind::kMoment:
      if (reach > lim.moment_abs) flags |= kFailMoment;
      break;
    default:
      break;
  }
  return flags;
}

std::uint8_t locohub_flags(const double* x, int n, FeatureKind kind, const LocoHubLimits& lim, double lo,
                           double hi, bool nonfinite) {
  double jump = 0.0;  // NaN differences compare false and are skipped, as in numpy
  if (kind == FeatureKind::kAngle)
    for (int i = 1; i < n; ++i) {
      const double d = std::fabs(x[i] - x[i - 1]);
      jump = d > jump ? d : jump;
    }
  return locohub_flags(kind, lim, lo, hi, nonfinite, jump);
}

std::uint8_t locohub_flags(const double* x, int n, FeatureKind kind, const LocoHubLimits& lim) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool nonfinite = false;
  for (int i = 0; i < n; ++i) {
    nonfinite |= !std::isfinite(x[i]);
    if (x[i] == x[i]) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
  }
  return locohub_flags(x, n, kind, lim, lo, hi, nonfinite);
}

}  // namespace cadence::gait
