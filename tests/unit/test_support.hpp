// Shared helpers for tests: a temporary folder removed afterwards, file writing, a minimal
// valid config, and the command line that runs the real agent binary (through qemu-user in a
// cross build). Real files only; nothing here fakes the agent's own code.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/movement.hpp"

namespace depot::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "depot-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The agent binary's command line. In a cross build ctest sets DEPOT_AGENT_EMULATOR (the
// CMAKE_CROSSCOMPILING_EMULATOR words, '|'-separated) and the emulator comes first, so the
// tests need no binfmt_misc registration to start an ARM binary.
inline std::vector<std::string> agent_command() {
  std::vector<std::string> cmd;
  if (const char* e = std::getenv("DEPOT_AGENT_EMULATOR"); e && *e) {
    std::string emu = e;
    for (std::size_t start = 0; start <= emu.size();) {
      auto bar = emu.find('|', start);
      if (bar == std::string::npos) bar = emu.size();
      if (bar > start) cmd.push_back(emu.substr(start, bar - start));
      start = bar + 1;
    }
  }
  cmd.push_back(DEPOT_AGENT_BIN);
  return cmd;
}

// True when the tests themselves run under an emulator (some ten times slower).
inline bool under_emulator() {
  const char* e = std::getenv("DEPOT_AGENT_EMULATOR");
  return e && *e;
}

// In a forked child: replaces it with the agent run with `args`; exits 127 if exec fails.
[[noreturn]] inline void exec_agent(const std::vector<std::string>& args) {
  auto cmd = agent_command();
  cmd.insert(cmd.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A catalog of two SKUs: TINT (EAN-13 4006381333931, case of 12 14006381333938) and
// MATCHA (EAN-13 5012345678900, internal code INT-MATCHA).
inline std::string sample_config(const std::string& database) {
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + database + R"(",
  "catalog": [
    {"sku": "TINT", "name": "Lip tint", "barcodes": ["4006381333931"],
     "cases": [{"barcode": "14006381333938", "qty": 12}]},
    {"sku": "MATCHA", "name": "Matcha ice cream", "barcodes": ["5012345678900", "INT-MATCHA"]}
  ]
})";
}

inline MovementRequest movement(std::string id, std::string sku, MovementKind kind,
                                std::int64_t qty) {
  MovementRequest m;
  m.id = std::move(id);
  m.sku = std::move(sku);
  m.kind = kind;
  m.quantity = qty;
  m.source = "test";
  m.wall_time = "2026-11-23T10:00:00.000Z";
  m.mono_ns = 1;
  return m;
}

}  // namespace depot::test
