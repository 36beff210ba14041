// The audit trail's hash chain against real SQLite files: tampering with the file through the
// sqlite3 C API (after dropping the append-only triggers, as an attacker with the file would)
// is found, and the first broken entry is named with what is wrong.
#include "store/audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "store/outbox.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using ::testing::HasSubstr;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("audit.db");
    auto opened = Database::open(path_, {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    for (int i = 1; i <= 4; ++i) {
      AuditEntry e{"Ana", "2026-11-23T10:0" + std::to_string(i) + ":00.000Z", "hold.release",
                   "probe fault " + std::to_string(i), {{"hold", i}}};
      auto seq = db_->transaction([&] { return audit_append(*db_, e); });
      ASSERT_TRUE(seq.ok()) << seq.error().message;
      EXPECT_EQ(*seq, i);
    }
  }
  // Tampering as someone with the file would: a second connection, triggers dropped.
  void tamper(const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    std::string all = "DROP TRIGGER IF EXISTS audit_log_no_update;"
                      "DROP TRIGGER IF EXISTS audit_log_no_delete;" + sql;
    EXPECT_EQ(sqlite3_exec(raw, all.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }
  AuditVerdict verify() {
    auto v = audit_verify(*db_);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : AuditVerdict{};
  }

  test::TempDir dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(AuditTest, AnIntactChainVerifiesAndEachEntryIsOnTheAuditStream) {
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 4);
  auto list = audit_list(*db_, std::nullopt);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].prev_hash, kAuditGenesis);
  for (std::size_t i = 1; i < list->size(); ++i) EXPECT_EQ((*list)[i].prev_hash, (*list)[i - 1].hash);
  // The hash is SHA-256 of the canonical text: recomputed independently here.
  const auto& e = (*list)[1];
  EXPECT_EQ(e.hash, sha256_hex(audit_canonical(e.seq, e.at, e.who, e.what, e.why, e.details,
                                               e.prev_hash)));
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto recs = outbox_read(*db_, "audit", 0, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 4u);
  auto j = nlohmann::json::parse((*recs)[3].payload);
  EXPECT_EQ(j["hash"], (*list)[3].hash);
  EXPECT_EQ(j["who"], "Ana");
  auto since = audit_list(*db_, std::string("2026-11-23T10:03:00.000Z"));
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
}

TEST_F(AuditTest, TheAppendOnlyTriggersRefuseEditsThroughTheAgent) {
  EXPECT_FALSE(db_->exec("UPDATE audit_log SET why = 'x' WHERE seq = 2").ok());
  EXPECT_FALSE(db_->exec("DELETE FROM audit_log WHERE seq = 2").ok());
}

TEST_F(AuditTest, AnAlteredEntryIsNamed) {
  tamper("UPDATE audit_log SET why = 'nothing happened' WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("altered: entry 2"));
}

TEST_F(AuditTest, AnAlteredEntryWithARecomputedHashBreaksTheNextLink) {
  // The attacker recomputes entry 2's own hash, but entry 3 still names the old one.
  auto list = *audit_list(*db_, std::nullopt);
  const auto& e = list[1];
  auto h = sha256_hex(audit_canonical(e.seq, e.at, e.who, e.what, "forged", e.details, e.prev_hash));
  tamper("UPDATE audit_log SET why = 'forged', hash = '" + h + "' WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_THAT(v.problem, HasSubstr("altered: entry 3 does not follow"));
}

TEST_F(AuditTest, ADeletedEntryIsNamed) {
  tamper("DELETE FROM audit_log WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("deleted: entry 2 missing: entry 3 follows entry 1"));
}

TEST_F(AuditTest, DeletedNewestEntriesAreNamed) {
  tamper("DELETE FROM audit_log WHERE seq >= 3;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_THAT(v.problem, HasSubstr("deleted: entries 3-4 missing at the end"));
}

TEST_F(AuditTest, ReorderedEntriesAreNamed) {
  // Swap entries 2 and 3 (their seq numbers exchanged).
  tamper("UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3;"
         "UPDATE audit_log SET seq = 3 WHERE seq = 100;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("reordered: the entry at seq 2 was written as entry 3"));
}

// The issue: deleting the last entry and fixing meta.audit_last_seq/hash passed `verify`.
// The broker's acknowledgement of the `audit` stream (the outbox's delivery mark) now shows it.
TEST_F(AuditTest, ATailShorterThanWhatTheBrokerAcknowledgedIsFoundEvenWithMetaFixed) {
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"audit", 4}}).ok());
  auto list = audit_list(*db_, std::nullopt);
  ASSERT_TRUE(list.ok());
  tamper(
      "DELETE FROM audit_log WHERE seq = 4;"
      "UPDATE meta SET value = '3' WHERE key = 'audit_last_seq';"
      "UPDATE meta SET value = '" +
      (*list)[2].hash + "' WHERE key = 'audit_last_hash';");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 4);
  EXPECT_THAT(v.problem, HasSubstr("the broker acknowledged audit record seq 4, but the newest "
                                   "entry (3) went out as seq 3"));
}

class KeyedAuditTest : public AuditTest {
 protected:
  static constexpr const char* kKey = "gateway-audit-key-0123456789";
  void key_it() {
    db_->set_audit_key(kKey);
    ASSERT_TRUE(audit_ensure_keyed(*db_, "2026-11-23T11:00:00.000Z").ok());
    AuditEntry e{"Bo", "2026-11-23T11:01:00.000Z", "hold.writeoff", "spoiled", {{"hold", 9}}};
    auto seq = db_->transaction([&] { return audit_append(*db_, e); });
    ASSERT_TRUE(seq.ok()) << seq.error().message;
    EXPECT_EQ(*seq, 6);
  }
};

// An existing unkeyed chain keeps its plain entries; from the `audit.keyed` entry on each
// hash is HMAC-SHA256 under the gateway's key.
TEST_F(KeyedAuditTest, AnUnkeyedChainIsKeyedFromAnAuditKeyedEntryOn) {
  key_it();
  auto list = audit_list(*db_, std::nullopt);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 6u);
  EXPECT_EQ((*list)[4].what, "audit.keyed");
  const auto& plain = (*list)[3];
  EXPECT_EQ(plain.hash, sha256_hex(audit_canonical(plain.seq, plain.at, plain.who, plain.what,
                                                   plain.why, plain.details, plain.prev_hash)));
  const auto& keyed = (*list)[5];
  EXPECT_EQ(keyed.hash,
            audit_hash(kKey, audit_canonical(keyed.seq, keyed.at, keyed.who, keyed.what, keyed.why,
                                             keyed.details, keyed.prev_hash)));
  EXPECT_NE(keyed.hash, sha256_hex(audit_canonical(keyed.seq, keyed.at, keyed.who, keyed.what,
                                                   keyed.why, keyed.details, keyed.prev_hash)));
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 6);
  auto recs = outbox_read(*db_, "audit", 0, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 6u);
  EXPECT_EQ(nlohmann::json::parse((*recs)[5].payload)["keyed"], true);
  // A second start adds nothing.
  ASSERT_TRUE(audit_ensure_keyed(*db_, "2026-11-23T12:00:00.000Z").ok());
  EXPECT_EQ(audit_list(*db_, std::nullopt)->size(), 6u);

  // Without the key the keyed trail can be neither verified nor added to; a wrong key is named.
  db_->set_audit_key("");
  EXPECT_THAT(audit_verify(*db_).error().message, HasSubstr("needs the gateway's audit key"));
  AuditEntry e{"Bo", "2026-11-23T11:02:00.000Z", "hold", "x", {}};
  EXPECT_THAT(db_->transaction([&] { return audit_append(*db_, e); }).error().message,
              HasSubstr("configure audit_key_file"));
  db_->set_audit_key("another-key-0123456789");
  EXPECT_THAT(db_->transaction([&] { return audit_append(*db_, e); }).error().message,
              HasSubstr("not the key the audit trail was keyed with"));
  auto wrong = verify();
  EXPECT_FALSE(wrong.ok);
  EXPECT_THAT(wrong.problem, HasSubstr("keyed start of the chain (entry 5)"));
}

// With the key, rewriting an entry and recomputing every later hash (as plain SHA-256, the
// attacker has no key) is found; so is dropping the keyed start from meta.
TEST_F(KeyedAuditTest, RecomputedHashesWithoutTheKeyAreFound) {
  key_it();
  auto list = audit_list(*db_, std::nullopt);
  auto e = (*list)[5];
  e.why = "fine after all";
  const auto forged =
      sha256_hex(audit_canonical(e.seq, e.at, e.who, e.what, e.why, e.details, e.prev_hash));
  tamper("UPDATE audit_log SET why = 'fine after all', hash = '" + forged +
         "' WHERE seq = 6; UPDATE meta SET value = '" + forged +
         "' WHERE key = 'audit_last_hash';");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 6);
  EXPECT_THAT(v.problem, HasSubstr("altered: entry 6"));
  tamper("DELETE FROM meta WHERE key IN ('audit_keyed_from', 'audit_keyed_mac');");
  v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_THAT(v.problem, HasSubstr("unkeyed: an audit key is configured"));
}

// docs/protocol.md's canonical text, checked by an independent verifier (Python's json and
// hmac) over the `audit` records the agent wrote: unkeyed ones, then keyed ones whose details
// hold non-ASCII text, a control character, a slash, a float and nested objects.
TEST_F(KeyedAuditTest, APythonVerifierRecomputesEveryHash) {
  key_it();
  AuditEntry odd{"Zoë",
                 "2026-11-23T11:05:00.000Z",
                 "alarm.ack",
                 "tab\there / \"quoted\"",
                 {{"zone", "冷库-1"},
                  {"c", 4.5},
                  {"bell", "\x07"},
                  {"n", {{"b", 1}, {"a", -2}}},
                  {"list", {0.1, 1e-05, 100.0}}}};
  ASSERT_TRUE(db_->transaction([&] { return audit_append(*db_, odd); }).ok());
  auto recs = outbox_read(*db_, "audit", 0, 100);
  ASSERT_TRUE(recs.ok());
  std::ofstream out(dir_.file("audit.jsonl"));
  for (const auto& r : *recs) out << r.payload << "\n";
  out.close();
  std::ofstream py(dir_.file("verify.py"));
  py << R"PY(import hashlib, hmac, json, sys
key = sys.argv[2].encode()
prev = "0" * 64
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    dump = lambda x: json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = dump([r["audit_seq"], r["at"], r["who"], r["event"], r["why"], dump(r["details"]),
                 r["prev_hash"]]).encode()
    h = (hmac.new(key, text, hashlib.sha256) if r["keyed"] else hashlib.sha256(text)).hexdigest()
    assert h == r["hash"], (r["audit_seq"], text)
    assert r["prev_hash"] == prev, r["audit_seq"]
    prev = h
    n += 1
print(n, "entries verified")
)PY";
  py.close();
  const std::string cmd = "python3 " + dir_.file("verify.py") + " " + dir_.file("audit.jsonl") +
                          " " + kKey + " > " + dir_.file("verify.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir_.file("verify.log"));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;
  EXPECT_THAT(text, HasSubstr("7 entries verified"));
}

}  // namespace
}  // namespace depot::store
