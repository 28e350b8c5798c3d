// Cycle validation, two ways, both per cycle and feature so reports can say which variable
// failed:
//   - LocoHub's fixed rules (LocomotionData.validate_cycles): angles within +-pi rad and no jump
//     above 30 deg (0.5236 rad) between consecutive points, |velocity| <= 17.45 rad/s,
//     |moment| <= 300, and every value finite. Comparisons with NaN are false, exactly as in
//     LocoHub's numpy code, so a NaN fails only the finiteness rule.
//   - Per-task, per-phase ranges (LocoHub's validator YAML): a value outside [min, max] fails;
//     non-finite values are skipped, as the validator does.
#pragma once

#include <cstdint>
#include <vector>

namespace cadence::gait {

// Which LocoHub rule applies: from the column name (`angle`, `velocity`, `moment`, `power`).
enum class FeatureKind : std::uint8_t { kOther = 0, kAngle = 1, kVelocity = 2, kMoment = 3, kPower = 4 };
inline constexpr int kFeatureKindCount = 5;
// "other", "angle", "velocity", "moment", "power": the kind's code is its index; the names are
// also the column-name markers that give a column its kind (Python takes both from here).
const char* feature_kind_name(FeatureKind k) noexcept;

// Bits of a cycle x feature failure mask.
enum FailBit : std::uint8_t {
  kFailAngleRange = 1,
  kFailAngleJump = 2,
  kFailVelocity = 4,
  kFailMoment = 8,
  kFailNonFinite = 16,
  kFailRange = 32,  // a per-phase range from a ranges file
};
inline constexpr int kFailBitCount = 6;
// "angle_range", "angle_jump", "velocity", "moment", "non_finite", "range" for bit 1 << i.
const char* fail_bit_name(int i) noexcept;

struct LocoHubLimits {
  double angle_abs_rad = 3.141592653589793;
  double angle_jump_rad = 0.5236;
  double velocity_abs_rad_s = 17.45;
  double moment_abs = 300.0;
};

// LocoHub's rules on one series of n points; returns FailBit flags.
std::uint8_t locohub_flags(const double* x, int n, FeatureKind kind, const LocoHubLimits& limits = {});
// The same, given the extremes of the non-NaN values and whether any value is NaN or inf (as
// series_stats reports them): only angles need another sweep, for the jumps.
std::uint8_t locohub_flags(const double* x, int n, FeatureKind kind, const LocoHubLimits& limits, double lo,
                           double hi, bool nonfinite);
// The same when the largest jump between consecutive points is known too (lane_stats gives it
// for finite series): no sweep at all.
std::uint8_t locohub_flags(FeatureKind kind, const LocoHubLimits& limits, double lo, double hi, bool nonfinite,
                           double jump);

// One check of a ranges file: feature index, phase point (round(pct / 100 * 149)), bounds.
// A NaN bound is open.
struct RangeCheck {
  std::int32_t feature = 0;
  std::int32_t point = 0;
  double min = 0.0;
  double max = 0.0;
};

struct RangeFailure {
  std::int64_t cycle = 0;   // within the group
  std::int32_t check = 0;   // index into the task's check list
  double value = 0.0;
};

// True when the finite value v breaks the check's bounds.
inline bool out_of_range(double v, const RangeCheck& c) noexcept {
  return (v < c.min) || (v > c.max);  // NaN v or NaN bound compare false
}

}  // namespace cadence::gait
