// Damages a real SQLite file on purpose: 64 bytes of junk over a table's root page, after a
// checkpoint has put the table in the main file. For the integrity-check tests.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "store/database.hpp"

namespace depot::test {

// Returns "" when done, else what failed.
inline std::string damage_root_page(const std::string& path, const std::string& table) {
  std::int64_t page = 0;
  {
    auto db = store::Database::open(path, {});
    if (!db.ok()) return db.error().message;
    if (auto st = (*db)->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) return st.error().message;
    auto q = (*db)->prepare("SELECT rootpage FROM sqlite_schema WHERE name = ?1");
    if (!q.ok()) return q.error().message;
    auto row = (*q)->bind(1, table).step();
    if (!row.ok() || !*row) return "no table " + table;
    page = (*q)->int64(0);
    (*q)->reset();
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((page - 1) * 4096);
  const std::string junk(64, '\xff');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  return f.good() ? "" : "could not write " + path;
}

}  // namespace depot::test
