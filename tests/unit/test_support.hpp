// Shared helpers for tests: a temporary folder removed afterwards, file writing, and a
// minimal valid config. Real files only; nothing here fakes the agent's own code.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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
