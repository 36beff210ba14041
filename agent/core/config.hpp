// The agent's configuration: one JSON document (default /etc/depot-agent/agent.json).
// `parse_config` validates the whole document and returns every problem it finds, each
// naming the JSON path, the value and the rule. Unknown keys are problems too: a typo must
// never be silently ignored. config/README.md documents every key with its default.
// Pure: the caller reads the file; paths are kept as written (the app resolves them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/json_fields.hpp"
#include "core/mqtt_config.hpp"
#include "core/replenish/config.hpp"
#include "core/coldchain/config.hpp"
#include "core/scanner_config.hpp"
#include "core/tz.hpp"

namespace depot {

enum class Synchronous { kNormal, kFull, kExtra };
std::string_view to_string(Synchronous s);

// How movements reach the disk. A movement counts once its batch has committed.
struct Durability {
  Synchronous synchronous = Synchronous::kFull;  // SQLite PRAGMA synchronous (WAL mode)
  std::int64_t batch_max_movements = 1024;       // a batch commits when it holds this many...
  std::int64_t batch_max_ms = 5;                 // ...or this long after its first movement
  std::int64_t busy_timeout_ms = 5000;           // wait for another writer (CLI vs daemon)
  // Probe readings are committed this often (an alarm commits at once, with the readings
  // before it). Each commit rewrites the same index pages: 1 s costs ~16 GB of writes a day
  // for 100 probes at 1 Hz, 10 s about a tenth (docs/performance.md, flash wear).
  std::int64_t readings_commit_s = 10;
};

// The `console` section: the agent's own HTTP server (/metrics, /healthz; docs/api.md). Absent
// (or without `listen`) the server is off. TLS when both `tls_cert` and `tls_key` are given.
struct ConsoleSettings {
  std::string listen;                   // "address:port", e.g. "127.0.0.1:9480" or "[::1]:9480"
  std::string address;                  // the address part, brackets removed
  std::uint16_t port = 0;               // the port part
  std::string tls_cert, tls_key;        // PEM files; "" = plain HTTP
  std::int64_t max_connections = 16;    // open at once; more are closed at accept
  std::int64_t request_timeout_s = 10;  // a whole request (headers and body) must arrive in it
  std::int64_t max_header_bytes = 8192;
  std::int64_t max_body_bytes = 65536;
  bool operator==(const ConsoleSettings&) const = default;
};

// Reads `console` (paths "console.*"), recording every problem.
void read_console_settings(const nlohmann::json& j, Problems& problems,
                           std::optional<ConsoleSettings>& out);

struct Config {
  std::string site;      // site id, e.g. "sz-front-01"
  std::string gateway;   // gateway id within the site, e.g. "gw-1"
  std::string database;  // SQLite file; relative paths are relative to the config file
  // The site's IANA time zone: demand days, campaign dates without a time and daily report
  // days follow its calendar. `site_zone` is read from the machine's tzdata by the loader
  // (app/config_file.cpp); parse_config leaves it UTC.
  std::string site_timezone = "UTC";
  tz::Zone site_zone;
  // The per-gateway secret keying the audit trail's hash chain (docs/coldchain.md); "" = the
  // systemd credential $CREDENTIALS_DIRECTORY/audit-key when present, else unkeyed.
  std::string audit_key_file;
  Durability durability;
  std::string log_level = "info";
  std::vector<CatalogItem> catalog;
  std::vector<ScannerConfig> scanners;
  replenish::Settings replenish;  // policies, campaigns, surge, demand
  std::vector<coldchain::Zone> zones;            // cold-chain zones (docs/coldchain.md)
  std::vector<coldchain::SensorConfig> sensors;  // temperature probes, each in one zone
  coldchain::Retention retention;                // how long cold-chain data is kept locally
  coldchain::AlarmOutputs alarm_outputs;         // outputs + escalation (docs/coldchain.md)
  std::optional<MqttSettings> mqtt;  // cloud sync; absent = offline (core/mqtt_config.hpp)
  std::optional<ConsoleSettings> console;  // the HTTP server; absent = off
};

struct ConfigResult {
  std::optional<Config> config;    // set only when `problems` is empty
  std::vector<std::string> problems;
};

// The longest config text accepted (a 100,000-SKU catalog is about 20 MB).
inline constexpr std::size_t kMaxConfigBytes = 64u << 20;

// Parses and validates a config document given as JSON text. The catalog's entries are read
// one at a time as the parser reaches them and not kept as JSON (peak memory while loading a
// big catalog is its CatalogItems, not a JSON tree of it).
ConfigResult parse_config(std::string_view json_text);

// Reads one catalog entry with the rules of the config's `catalog[]` (also used for the
// cloud's catalog.upsert command); nullopt when it has problems (recorded in `problems`).
std::optional<CatalogItem> read_catalog_item(const nlohmann::json& j, const std::string& path,
                                             Problems& problems);

}  // namespace depot
