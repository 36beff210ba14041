// The one command-line framework every `depot-agent` command runs in (docs/operations.md):
// a table of commands with their options, one dispatcher (options parsed and checked,
// positional arguments bounded, an exception is an internal error, never a crash), one way to
// load the config and open the database, and the same exit codes everywhere.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "app/args.hpp"
#include "app/config_file.hpp"

namespace depot::store {
class Database;
}

namespace depot::app {

// Exit codes: 0 done, 1 a failure of this machine (database, file, agent), 2 bad input
// (options, arguments, config, a refused action).
inline constexpr int kOk = 0, kFailure = 1, kBadInput = 2;

struct CliContext {
  std::ostream& out;
  std::ostream& err;
  std::string cmd;
  // Starts an error line: "depot-agent CMD: WHAT".
  std::ostream& fail(std::string_view what = {}) {
    return err << "depot-agent " << cmd << ": " << what;
  }
};

struct CliCommand {
  std::string_view name;
  std::vector<OptionSpec> options;
  int (*fn)(const Args&, CliContext&);
  std::size_t positionals = 0;  // at most this many positional arguments
};

inline constexpr OptionSpec kConfigOption{"--config", true, "-c"};
inline constexpr OptionSpec kJsonOption{"--json", false, ""};

// The config named by -c (or the default), or nullopt after printing its problems.
// fingerprint: see load_config_file.
std::optional<LoadedConfig> cli_load_config(const Args& a, CliContext& c,
                                            bool fingerprint = false);
// The config's database, read-write (migrated, catalog applied) or read-only; null after
// printing why not.
std::unique_ptr<store::Database> cli_open_database(const LoadedConfig& cfg, bool write,
                                                   CliContext& c);

// A text table: each column as wide as its widest cell (its header included), two spaces
// between columns, so no figure runs into the next however many digits it has. The last
// column is not padded. Width counts code points (names may be UTF-8).
class TextTable {
 public:
  struct Column {
    std::string header;
    bool right = false;  // figures
  };
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // REQUIRES: one cell per column.
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Runs the command of `commands` named argv[1]; nullopt when none is.
std::optional<int> run_command(const std::vector<CliCommand>& commands, int argc, char** argv,
                               std::ostream& out, std::ostream& err);

}  // namespace depot::app
