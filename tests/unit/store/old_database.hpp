// For the migration tests: a database file as an agent of an older schema left it.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstddef>
#include <string>
#include <vector>

#include "store/schema.hpp"

namespace depot::test {

// Writes `file` with the first `version` migrations (PRAGMA user_version = `version`), then
// runs `rows` on the same plain connection; a statement that fails fails the test.
inline void write_old_database(const std::string& file, std::size_t version,
                               const std::vector<std::string>& rows) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "") << " in " << sql.substr(0, 80);
    sqlite3_free(err);
  };
  for (std::size_t i = 0; i < version; ++i) exec(std::string(store::migrations()[i]));
  exec("PRAGMA user_version=" + std::to_string(version));
  for (const auto& sql : rows) exec(sql);
  sqlite3_close(raw);
}

}  // namespace depot::test
