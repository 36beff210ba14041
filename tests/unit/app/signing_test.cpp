// Signatures against a real SQLite file: Argon2id hashes, a wrong password refused, counted
// and audited, the lockout, disabled accounts, roles; and `depot-agent users` through the
// real binary (passwords from a file: no terminal in a test).
#include "app/signing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "store/audit.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::int64_t kT0 = 1'790'000'000'000;

class Signing : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::Database::open(dir_.file("agent.db"), {});
    ASSERT_TRUE(d.ok()) << d.error().message;
    db_ = std::move(*d);
  }
  std::int64_t audits(const std::string& what) {
    auto q = db_->prepare("SELECT count(*) FROM audit_log WHERE what = ?1");
    (*q)->bind(1, what);
    (void)(*q)->step();
    auto n = (*q)->int64(0);
    (*q)->reset();
    return n;
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(Signing, ACorrectPasswordSignsAndTheHashIsArgon2id) {
  ASSERT_TRUE(add_user(*db_, "qa.lee", "Lee Quality", accounts::Role::kQuality, "cold-chain-7",
                       "cli:root", kT0)
                  .ok());
  auto a = store::get_account(*db_, "qa.lee");
  ASSERT_TRUE(a.ok() && *a);
  EXPECT_THAT((*a)->hash, StartsWith("$argon2id$"));
  EXPECT_THAT((*a)->hash, ::testing::Not(HasSubstr("cold-chain-7")));
  auto s = sign(*db_, "qa.lee", "cold-chain-7", accounts::Action::kHoldRelease, "probe checked",
                kT0 + 1000);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->account, "qa.lee");
  EXPECT_EQ(s->to_json()["meaning"], "released");
  EXPECT_EQ(s->to_json()["name"], "Lee Quality");
  EXPECT_EQ(audits("users.add"), 1);
  // The same id twice is refused.
  auto again = add_user(*db_, "qa.lee", "X", accounts::Role::kAdmin, "whatever1", "cli:root", kT0);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("exists already"));
}

TEST_F(Signing, WrongPasswordsAreRefusedCountedAuditedAndTheFifthLocks) {
  ASSERT_TRUE(add_user(*db_, "op.kim", "Kim Floor", accounts::Role::kOperator, "pick-pick-1",
                       "cli:root", kT0)
                  .ok());
  for (int i = 0; i < 4; ++i) {
    auto s = sign(*db_, "op.kim", "wrong", accounts::Action::kAlarmAck, "", kT0 + i);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kForbidden);
    EXPECT_EQ(s.error().message, "account \"op.kim\" or its password is wrong");
  }
  EXPECT_EQ(audits("signature.refused"), 4);
  auto fifth = sign(*db_, "op.kim", "wrong", accounts::Action::kAlarmAck, "", kT0 + 10);
  ASSERT_FALSE(fifth.ok());
  EXPECT_THAT(fifth.error().message, HasSubstr("the account is now locked until"));
  EXPECT_EQ(audits("account.locked"), 1);
  // Locked: even the right password is refused, for 15 minutes.
  auto right = sign(*db_, "op.kim", "pick-pick-1", accounts::Action::kAlarmAck, "", kT0 + 60'000);
  ASSERT_FALSE(right.ok());
  EXPECT_THAT(right.error().message, HasSubstr("is locked after repeated wrong passwords"));
  EXPECT_TRUE(sign(*db_, "op.kim", "pick-pick-1", accounts::Action::kAlarmAck, "",
                   kT0 + 10 + 15 * 60'000)
                  .ok());
  // An unknown account reads like a wrong password.
  auto unknown = sign(*db_, "nobody", "x", accounts::Action::kAlarmAck, "", kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "account \"nobody\" or its password is wrong");
  EXPECT_TRUE(store::audit_verify(*db_)->ok);
}

TEST_F(Signing, RolesAndDisabledAccounts) {
  ASSERT_TRUE(add_user(*db_, "buyer.ana", "Ana Buyer", accounts::Role::kBuyer, "order-more-9",
                       "cli:root", kT0)
                  .ok());
  auto hold = sign(*db_, "buyer.ana", "order-more-9", accounts::Action::kHoldRelease, "", kT0);
  ASSERT_FALSE(hold.ok());
  EXPECT_EQ(hold.error().message,
            "account \"buyer.ana\" (role buyer) may not sign hold.release");
  EXPECT_TRUE(sign(*db_, "buyer.ana", "order-more-9", accounts::Action::kProposalAck, "", kT0).ok());
  ASSERT_TRUE(set_disabled(*db_, "buyer.ana", true, "cli:root", kT0).ok());
  auto off = sign(*db_, "buyer.ana", "order-more-9", accounts::Action::kProposalAck, "", kT0);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().message, "account \"buyer.ana\" is disabled");
  EXPECT_EQ(audits("users.disable"), 1);
  ASSERT_TRUE(set_password(*db_, "buyer.ana", "new-secret-2", "cli:root", kT0).ok());
  ASSERT_TRUE(set_disabled(*db_, "buyer.ana", false, "cli:root", kT0).ok());
  EXPECT_FALSE(sign(*db_, "buyer.ana", "order-more-9", accounts::Action::kProposalAck, "", kT0).ok());
  EXPECT_TRUE(sign(*db_, "buyer.ana", "new-secret-2", accounts::Action::kProposalAck, "", kT0).ok());
  auto bad = add_user(*db_, "Bad Id", "X", accounts::Role::kAdmin, "whatever1", "cli:root", kT0);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("must be 1-64 of a-z 0-9 . _ -"));
  auto short_pw = add_user(*db_, "x", "X", accounts::Role::kAdmin, "123", "cli:root", kT0);
  ASSERT_FALSE(short_pw.ok());
  EXPECT_EQ(short_pw.error().message, "password must be at least 6 characters");
}

TEST(UsersCli, AddListPasswdDisableThroughTheBinary) {
  test::TempDir dir;
  const auto cfg = dir.file("agent.json"), pw = dir.file("pw");
  test::write_file(cfg, test::sample_config(dir.file("agent.db")));
  test::write_file(pw, "cold-chain-7\n");
  auto r = test::run_agent({"users", "add", "qa.lee", "--role", "quality", "--name", "Lee Quality",
                            "--password-file", pw, "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "account qa.lee added (quality)\n");
  r = test::run_agent({"users", "add", "x.y", "--role", "boss", "--name", "X", "--password-file",
                       pw, "-c", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--role: \"boss\" must be operator, quality, buyer or admin"));
  r = test::run_agent({"users", "add", "x.y", "--role", "buyer", "--name", "X", "-c", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no terminal to ask the password on: give --password-file FILE"));
  r = test::run_agent({"users", "disable", "qa.lee", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  r = test::run_agent({"users", "list", "--json", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], "qa.lee");
  EXPECT_EQ(list[0]["role"], "quality");
  EXPECT_EQ(list[0]["disabled"], true);
  EXPECT_FALSE(list[0].contains("hash")) << "the hash never leaves the database";
  r = test::run_agent({"users", "passwd", "nobody", "--password-file", pw, "-c", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no account \"nobody\""));
  r = test::run_agent({"audit", "--json", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"users.add\""));
  EXPECT_THAT(r.out, HasSubstr("\"users.disable\""));
  EXPECT_THAT(r.out, HasSubstr("\"cli:"));
}

}  // namespace
}  // namespace depot::app
