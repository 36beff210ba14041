// libFuzzer target for the config file: depot::parse_config over arbitrary bytes. Properties:
// never throws or crashes; a config is returned exactly when there are no problems; every
// problem is a printable UTF-8 line (they are logged, printed by `check` and sent in JSON).
#include <cstddef>
#include <cstdint>

#include "core/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = parse_config(text);
  fuzz::require(r.config.has_value() == r.problems.empty(), "config and problems disagree", text);
  for (const auto& p : r.problems) fuzz::require_message(p, text);
  return 0;
}
