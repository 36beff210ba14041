#include "sync/envelope.hpp"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace depot::sync {

Topics::Topics(std::string_view site, std::string_view gateway)
    : prefix_("depot/v1/" + std::string(site) + "/" + std::string(gateway) + "/") {}

std::string Topics::command_of(std::string_view topic) const {
  std::string_view head = std::string_view(prefix_);
  if (topic.substr(0, head.size()) != head) return {};
  topic.remove_prefix(head.size());
  if (topic.substr(0, 4) != "cmd/") return {};
  topic.remove_prefix(4);
  if (topic.empty() || topic.back() == '/') return {};
  // Replies (ours or another's) end in /reply; an empty level is no name.
  if (topic == "reply" || (topic.size() > 6 && topic.substr(topic.size() - 6) == "/reply"))
    return {};
  std::string name(topic);
  for (std::size_t i = 0; i < name.size(); ++i)
    if (name[i] == '/') {
      if (i == 0 || name[i - 1] == '.') return {};
      name[i] = '.';
    }
  return name;
}

namespace {
std::string head(std::string_view site, std::string_view gateway, std::string_view stream,
                 std::string_view incarnation = {}) {
  // Site, gateway and stream are identifiers, the incarnation a ULID: no characters that need
  // JSON escaping.
  return R"({"v":1,"site":")" + std::string(site) + R"(","gateway":")" + std::string(gateway) +
         (incarnation.empty() ? std::string()
                              : R"(","incarnation":")" + std::string(incarnation)) +
         R"(","stream":")" + std::string(stream) + R"(","records":[)";
}
constexpr std::string_view kTail = "]}";
}  // namespace

std::string envelope(std::string_view site, std::string_view gateway, std::string_view stream,
                     std::span<const std::string> records) {
  EnvelopeBuilder b(site, gateway, stream, records.size(), SIZE_MAX);
  for (const auto& r : records) b.add(r);
  return b.finish();
}

std::size_t envelope_bytes(std::string_view site, std::string_view gateway, std::string_view stream,
                           std::span<const std::string> records) {
  return head(site, gateway, stream).size() + kTail.size() +
         (records.empty() ? 0 : records.size() - 1);
}

std::size_t batch_fit(std::string_view site, std::string_view gateway, std::string_view stream,
                      std::span<const std::string> records, std::size_t max_records,
                      std::size_t max_bytes) {
  EnvelopeBuilder b(site, gateway, stream, max_records, max_bytes);
  for (const auto& r : records)
    if (!b.add(r)) break;
  return b.records();
}

EnvelopeBuilder::EnvelopeBuilder(std::string_view site, std::string_view gateway,
                                 std::string_view stream, std::size_t max_records,
                                 std::size_t max_bytes, std::string_view incarnation)
    : out_(head(site, gateway, stream, incarnation)),
      max_records_(max_records),
      max_bytes_(max_bytes) {
  out_.reserve(std::min<std::size_t>(max_bytes, 64 * 1024) + 256);
}

bool EnvelopeBuilder::add(std::string_view record) {
  if (n_ == max_records_) return false;
  const std::size_t add = record.size() + (n_ ? 1 : 0);
  if (n_ > 0 && out_.size() + kTail.size() + add > max_bytes_) return false;
  if (n_) out_ += ',';
  out_ += record;
  ++n_;
  return true;
}

std::string EnvelopeBuilder::finish() {
  out_ += kTail;
  return std::move(out_);
}

std::string status_online(std::string_view site, std::string_view gateway, const StatusFacts& f) {
  nlohmann::json q = nlohmann::json::object();
  for (const auto& [s, n] : f.queue) q[s] = n;
  auto j = nlohmann::json{{"v", 1},
                          {"state", "online"},
                          {"site", site},
                          {"gateway", gateway},
                          {"version", f.version},
                          {"boot_time", f.boot_time},
                          {"ts", f.ts},
                          {"protocol", f.protocol},
                          {"queue", q}};
  if (!f.health.is_null()) j["health"] = f.health;
  if (!f.link.is_null()) j["link"] = f.link;
  if (!f.disk.is_null()) j["disk"] = f.disk;
  if (!f.config_sha256.empty()) j["config_sha256"] = f.config_sha256;
  if (f.status_s > 0) j["status_s"] = f.status_s;
  if (!f.incarnation.empty())
    j["incarnation"] = {
        {"id", f.incarnation}, {"reason", f.incarnation_reason}, {"since", f.incarnation_since}};
  return j.dump();
}

std::string status_offline(std::string_view site, std::string_view gateway, bool clean,
                           std::string_view ts) {
  auto j = nlohmann::json{
      {"v", 1}, {"state", "offline"}, {"site", site}, {"gateway", gateway}, {"clean", clean}};
  if (!ts.empty()) j["ts"] = ts;
  return j.dump();
}

}  // namespace depot::sync
