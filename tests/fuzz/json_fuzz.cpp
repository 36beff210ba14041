// libFuzzer target for depot::parse_json, the door for every JSON text from outside (config,
// commands, probe payloads, stored state). Properties: it never throws or crashes; a refusal
// is a printable UTF-8 message; an accepted document serialises without throwing, is no deeper
// than the limit, and parses back from its own text to the same value.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"

namespace {

int depth(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int d = 0;
  for (const auto& v : j) d = std::max(d, depth(v));
  return d + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = parse_json(text, JsonLimits{4096, 8});
  if (!r) {
    fuzz::require_message(r.error().message, text);
    return 0;
  }
  fuzz::require(depth(*r) <= 8, "document deeper than the limit", text);
  std::string again = r->dump();
  auto back = parse_json(again, JsonLimits{1 << 20, 8});
  fuzz::require(back.ok(), "own serialisation does not parse back", text);
  fuzz::require(*back == *r, "own serialisation parses to another value", text);
  return 0;
}
