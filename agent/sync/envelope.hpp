// The MQTT topics and message bodies of protocol v1 (docs/protocol.md): topic names under
// depot/v1/{site}/{gateway}/, the stream envelope {"v":1,"site","gateway","incarnation","stream",
// "records"},
// how many outbox records fit one message (record and byte limits), and the retained status
// messages. Records are kept as the JSON text the outbox stored, so building an envelope
// never re-parses them. Pure. Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

namespace depot::sync {

class Topics {
 public:
  // REQUIRES: site and gateway are identifiers (core/json_fields.hpp is_identifier).
  Topics(std::string_view site, std::string_view gateway);

  const std::string& prefix() const { return prefix_; }  // "depot/v1/{site}/{gateway}/"
  std::string status() const { return prefix_ + "status"; }
  std::string stream(std::string_view stream) const { return prefix_ + std::string(stream); }
  // Subscription filter: cmd/# so that a broker that turns "." into "/" (RabbitMQ) still
  // delivers cmd/config/get for cmd/config.get.
  std::string commands() const { return prefix_ + "cmd/#"; }
  std::string reply(std::string_view command) const {
    return prefix_ + "cmd/" + std::string(command) + "/reply";
  }
  // The command name of a topic "…/cmd/{name}" under this gateway's prefix; "" when the topic
  // is not a command to this gateway (another gateway's, a reply, or anything else). The
  // levels after cmd/ are joined with ".": cmd/config/get names config.get.
  std::string command_of(std::string_view topic) const;

 private:
  std::string prefix_;
};

// The envelope for `records` (each the JSON text of one record, in seq order).
std::string envelope(std::string_view site, std::string_view gateway, std::string_view stream,
                     std::span<const std::string> records);
// The bytes an envelope adds around its records (including the commas between them).
std::size_t envelope_bytes(std::string_view site, std::string_view gateway, std::string_view stream,
                           std::span<const std::string> records);

// How many of `records` (from the front) go into the next message: at most `max_records`,
// and at most `max_bytes` of envelope, but always at least one (a record larger than the
// byte limit makes a message of its own, which the caller checks with `oversize()`: the
// publisher gives such a record up with a data_loss record). 0 only when empty.
std::size_t batch_fit(std::string_view site, std::string_view gateway, std::string_view stream,
                      std::span<const std::string> records, std::size_t max_records,
                      std::size_t max_bytes);

// The same rules, one record at a time, writing the message as it goes (the publisher feeds it
// straight from the outbox rows: no copy of each record on the way). `envelope` and
// `batch_fit` are this builder run over a list.
class EnvelopeBuilder {
 public:
  // `incarnation`: the database's (store/outbox.hpp), written after "gateway" when given.
  // REQUIRES: it needs no JSON escaping (a ULID).
  EnvelopeBuilder(std::string_view site, std::string_view gateway, std::string_view stream,
                  std::size_t max_records, std::size_t max_bytes,
                  std::string_view incarnation = {});
  // Adds `record` if it fits (the first always does); false when the message is full.
  bool add(std::string_view record);
  std::size_t records() const { return n_; }
  // The envelope's size so far, with its closing bytes.
  std::size_t bytes() const { return out_.size() + 2; }
  // Its one record alone makes it larger than `max_bytes`.
  bool oversize() const { return bytes() > max_bytes_; }
  // The finished envelope. REQUIRES: called once.
  std::string finish();

 private:
  std::string out_;
  std::size_t n_ = 0, max_records_, max_bytes_;
};

struct StatusFacts {
  std::string version;
  std::string boot_time;                      // RFC 3339 UTC: when this agent process started
  std::string ts;                             // RFC 3339 UTC: now
  std::string protocol;                       // "3.1.1" or "5"
  std::map<std::string, std::int64_t> queue;  // outbox depth per stream
  // {"ok": bool, "problems": "...", "scanners": {...}, "store": {...}} from the agent, when
  // it gives one (SyncHooks::health): published as "health".
  nlohmann::json health;
  std::string incarnation, incarnation_reason, incarnation_since;  // store/outbox.hpp
  // The heartbeat's extras (docs/protocol.md, "Status"): published when set.
  nlohmann::json link;        // {"connected", "connects", "reconnects"}
  nlohmann::json disk;        // {"budget_bytes", "database_bytes", "over_budget"}
  std::string config_sha256;  // of the config file as loaded
  std::int64_t status_s = 0;  // the next refresh comes within this many seconds
};
// {"state":"online", ...}: retained on the status topic at each connection.
std::string status_online(std::string_view site, std::string_view gateway, const StatusFacts& f);
// {"state":"offline", "clean": ...}: the retained last will (clean false, no ts: it is set
// at connect), and what a clean shutdown publishes (clean true, with `ts`, RFC 3339 UTC).
std::string status_offline(std::string_view site, std::string_view gateway, bool clean,
                           std::string_view ts = {});

}  // namespace depot::sync
