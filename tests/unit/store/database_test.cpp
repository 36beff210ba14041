#include "store/database.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "store/schema.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using ::testing::HasSubstr;

TEST(Database, MigratesAFreshFileToTheCurrentVersion) {
  test::TempDir dir;
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(*(*db)->schema_version(), static_cast<int>(migrations().size()));
  // Reopening does not re-run migrations (they would fail on existing tables).
  db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto mode = (*db)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*(*mode)->step());
  EXPECT_EQ((*mode)->text(0), "wal");
}

TEST(Database, RefusesASchemaFromANewerAgent) {
  test::TempDir dir;
  {
    auto db = Database::open(dir.file("a.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA user_version=99").ok());
  }
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.error().message, HasSubstr("schema version 99 is newer"));
}

TEST(Database, MovementsAreAppendOnly) {
  test::TempDir dir;
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("INSERT INTO skus(sku,name,unit,zone,policy,origin,updated_at)"
                          " VALUES('S','n','each','','','config','t');"
                          "INSERT INTO movements(id,sku,kind,qty,source,wall_time,mono_ns,"
                          "on_hand_after,negative) VALUES('m1','S','receive',1,'t','t',0,1,0)")
                  .ok());
  auto upd = (*db)->exec("UPDATE movements SET qty = 5");
  ASSERT_FALSE(upd.ok());
  EXPECT_THAT(upd.error().message, HasSubstr("append-only"));
  EXPECT_FALSE((*db)->exec("DELETE FROM movements").ok());
}

TEST(Database, MissingFolderIsNamed) {
  test::TempDir dir;
  auto db = Database::open(dir.file("nope/a.db"), {});
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.error().message, HasSubstr("does not exist"));
}

TEST(Integrity, HealthyAndMissingFilesAreLeftAlone) {
  test::TempDir dir;
  auto missing = check_or_move_aside(dir.file("none.db"), "X");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->moved_aside);
  { ASSERT_TRUE(Database::open(dir.file("ok.db"), {}).ok()); }
  auto ok = check_or_move_aside(dir.file("ok.db"), "X");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->moved_aside);
  EXPECT_TRUE(std::filesystem::exists(dir.file("ok.db")));
}

TEST(Integrity, ADamagedFileIsMovedAsideNeverDeleted) {
  test::TempDir dir;
  const std::string garbage(8192, 'x');
  test::write_file(dir.file("bad.db"), garbage);
  auto out = check_or_move_aside(dir.file("bad.db"), "20261123T143400Z");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->moved_aside);
  EXPECT_EQ(out->moved_to, dir.file("bad.db.corrupt-20261123T143400Z"));
  EXPECT_THAT(out->reason, HasSubstr("not a database"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.db")));
  EXPECT_EQ(std::filesystem::file_size(out->moved_to), garbage.size());
}

TEST(Integrity, ATornPageIsDetected) {
  test::TempDir dir;
  {
    auto db = Database::open(dir.file("torn.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  // Overwrite the b-tree page header of page 2 (the first table's root page) with junk.
  {
    std::fstream f(dir.file("torn.db"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    std::string junk(64, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto out = check_or_move_aside(dir.file("torn.db"), "S");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->moved_aside) << "quick_check did not notice";
}

}  // namespace
}  // namespace depot::store
