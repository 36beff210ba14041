// The simulator's profiles as a pure function: the value a simulated probe reads `elapsed_s`
// seconds after its driver started. Same config, same elapsed time, same value (noise comes
// from `seed` and the whole second, not from a random device), so tests and demos repeat.
//   constant   base_c
//   sine       base_c + amplitude_c * sin(2π t / period_s)
//   excursion  base_c in the first half of every period_s, base_c + amplitude_c in the second
//   drift      base_c ramping linearly to to_c over duration_s, then to_c
//   script     the steps in order from base_c (steady c / ramp to to_c / hold, each for_s
//              seconds); after the last step it starts over (repeat) or holds its end value
// Then, on top: door-open spikes (+rise_c for duration_s every every_s), noise (uniform in
// ±noise_c, one draw per second), and failure windows, during which the reading is rejected
// (kNoData "simulated failure: no data" or kCrcFailed "simulated failure: CRC mismatch").
#pragma once

#include "core/coldchain/config.hpp"
#include "core/coldchain/reading.hpp"

namespace depot::drivers {

// The profile's value before spikes, noise and failures.
double sim_base_value(const coldchain::SimSource& s, double elapsed_s);
// The full verdict at `elapsed_s` (>= 0).
coldchain::SensorValue sim_value(const coldchain::SimSource& s, double elapsed_s);
// The noise draw for whole second `second`: uniform in [-1, 1], a function of seed and second.
double sim_noise_unit(std::int64_t seed, std::int64_t second);

}  // namespace depot::drivers
