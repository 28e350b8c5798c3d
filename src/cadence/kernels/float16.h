// IEEE 754 binary16 conversion. Audio clips are stored as float16 by the "auto" codec rule and
// Arrow's halffloat columns carry the raw bit patterns, so the engine converts itself rather
// than depend on F16C hardware or a compiler extension.
#pragma once

#include <cstdint>

namespace cadence::kernels {

// Round to nearest, ties to even; overflow gives infinity; NaN stays NaN.
std::uint16_t float_to_half(float value) noexcept;
float half_to_float(std::uint16_t bits) noexcept;

}  // namespace cadence::kernels
