#include "cadence/gait/validation.h"

#include <cmath>

namespace cadence::gait {

std::uint8_t locohub_flags(const double* x, int n, FeatureKind kind, const LocoHubLimits& lim) {
  bool nonfinite = false, range = false, jump = false;
  // Branch-free sweeps: one flag per rule, combined at the end.
  for (int i = 0; i < n; ++i) nonfinite |= !std::isfinite(x[i]);
  switch (kind) {
    case FeatureKind::kAngle:
      for (int i = 0; i < n; ++i) range |= (x[i] < -lim.angle_abs_rad) | (x[i] > lim.angle_abs_rad);
      for (int i = 1; i < n; ++i) jump |= std::fabs(x[i] - x[i - 1]) > lim.angle_jump_rad;
      return static_cast<std::uint8_t>((range ? kFailAngleRange : 0) | (jump ? kFailAngleJump : 0) |
                                       (nonfinite ? kFailNonFinite : 0));
    case FeatureKind::kVelocity:
      for (int i = 0; i < n; ++i) range |= std::fabs(x[i]) > lim.velocity_abs_rad_s;
      return static_cast<std::uint8_t>((range ? kFailVelocity : 0) | (nonfinite ? kFailNonFinite : 0));
    case FeatureKind::kMoment:
      for (int i = 0; i < n; ++i) range |= std::fabs(x[i]) > lim.moment_abs;
      return static_cast<std::uint8_t>((range ? kFailMoment : 0) | (nonfinite ? kFailNonFinite : 0));
    default:
      return nonfinite ? kFailNonFinite : 0;
  }
}

}  // namespace cadence::gait
