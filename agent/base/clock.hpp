// Reading the clocks and making ids: the only place in the agent that asks the system what
// time it is. The domain core is handed times; it never reads a clock.
#pragma once

#include <cstdint>
#include <string>

#include "core/coldchain/reading.hpp"

namespace depot {

// Wall-clock time now as RFC 3339 UTC with milliseconds: 2026-11-23T14:34:00.123Z.
std::string wall_now();
// Wall-clock time now as a compact stamp for file names: 20261123T143400Z.
std::string compact_now();
// The current year (UTC), e.g. 2026: what GS1 dates need to be placed in their century.
int current_year();
// CLOCK_MONOTONIC in nanoseconds.
std::int64_t mono_now_ns();
// A new unique id: 26 characters, Crockford base32, time-ordered (48-bit milliseconds,
// then 80 random bits), like a ULID.
std::string new_id();
// Both clocks of now for a probe reading: CLOCK_MONOTONIC, wall-clock unix milliseconds, and
// whether the kernel says the wall clock is not NTP-synchronised (adjtimex STA_UNSYNC, or
// the call failing): what drivers/sensor stamps readings with.
coldchain::Instant instant_now();
// True when the kernel's time status has STA_UNSYNC set (or adjtimex fails).
bool clock_unsynchronized();

}  // namespace depot
