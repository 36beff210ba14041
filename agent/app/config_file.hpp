// Loading the config file from disk: read it, validate it (core/config), and resolve the
// database path relative to the file's folder. Also the checks only the machine can answer
// (can the database folder be written?), which `depot-agent check` reports as problems.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace depot::app {

inline constexpr const char* kDefaultConfigPath = "/etc/depot-agent/agent.json";

struct LoadedConfig {
  Config config;
  std::string path;           // the file it came from
  std::string database_path;  // config.database resolved against the file's folder
  std::string sha256;         // of the bytes parsed (hex), when asked for: its fingerprint
};

struct LoadResult {
  std::optional<LoadedConfig> loaded;  // set only when `problems` is empty
  std::vector<std::string> problems;   // each "path: value rule", or a file-level problem
};

// fingerprint: also hash the bytes parsed into LoadedConfig::sha256 (the daemon's audit trail
// and status; some 100 ms for a 100,000-SKU config, which a CLI command does not pay).
LoadResult load_config_file(const std::string& path, bool fingerprint = false);

// Problems with the environment the config points at (database folder missing or not
// writable). Empty when all is well.
std::vector<std::string> check_environment(const LoadedConfig& loaded);
// The database path names something other than a file (a folder, /dev/null): empty when it is
// a file or does not exist yet. `run` refuses to start on it (exit 2); so does `check`.
std::string database_not_a_file(const LoadedConfig& loaded);

// The mqtt section's credential files (password, HMAC secret, TLS CA, certificate, key) that
// cannot be opened and read, each naming the key and the file. `check` reports them as errors
// and `run` refuses to start (exit 2): a gateway that cannot read them never gets online.
// With `unseen` (`check` run by hand): a missing file under /run/credentials/ while
// $CREDENTIALS_DIRECTORY is unset is a systemd credential that exists only while the service
// runs; it goes to `unseen` as a note instead of being a problem.
std::vector<std::string> check_credentials(const LoadedConfig& loaded,
                                           std::vector<std::string>* unseen = nullptr);

}  // namespace depot::app
