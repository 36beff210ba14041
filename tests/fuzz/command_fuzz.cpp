// libFuzzer target for cloud commands: parse_command over arbitrary payloads, plain and (when
// the first byte says so) under an HMAC secret, for every command name the desk knows plus an
// unknown one. Properties: never crashes; a command comes back exactly when there is no error;
// the error and the echoed id are UTF-8 (both go into the JSON reply); a valid command's id is
// the echoed id.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "sync/commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  if (size < 1) return 0;
  static const char* const kNames[] = {
      "stock.count",  "snapshot.request", "config.get",   "catalog.upsert", "catalog.remove",
      "hold.release", "hold.writeoff",    "alarm.ack",    "reorder.ack",    "reorder.cancel",
      "campaign.set", "campaign.clear",   "stream.replay", "order.reserve", "order.release",
      "order.ship",   "source.stock",     "no.such"};
  constexpr std::size_t kCount = sizeof(kNames) / sizeof(kNames[0]);
  const std::string_view name = kNames[(data[0] & 0x7f) % kCount];
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  sync::CommandCheck check;
  check.secret = (data[0] & 0x80) ? "fuzz-secret" : "";
  check.site = "s1";
  check.gateway = "g1";
  check.now_ms = 1'795'000'000'000;  // 2026-11-19
  auto p = sync::parse_command(name, payload, check);
  fuzz::require(p.command.has_value() == p.error.empty(), "command and error disagree", payload);
  if (!p.error.empty()) fuzz::require_message(p.error, payload);
  fuzz::require(valid_utf8(p.id), "echoed id is not UTF-8", payload);
  if (p.command) fuzz::require(p.command->id == p.id, "command id is not the echoed id", payload);
  return 0;
}
