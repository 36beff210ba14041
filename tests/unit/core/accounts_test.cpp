// Roles, ids, password rules and the lockout arithmetic (core/accounts.hpp).
#include "core/accounts.hpp"

#include <gtest/gtest.h>

namespace depot::accounts {
namespace {

TEST(Accounts, TheRoleMatrix) {
  EXPECT_TRUE(may(Role::kOperator, Action::kAlarmAck));
  EXPECT_TRUE(may(Role::kOperator, Action::kCount));
  EXPECT_FALSE(may(Role::kOperator, Action::kHoldRelease));
  EXPECT_TRUE(may(Role::kQuality, Action::kHoldRelease));
  EXPECT_TRUE(may(Role::kQuality, Action::kHoldWriteOff));
  EXPECT_TRUE(may(Role::kQuality, Action::kCalibration));
  EXPECT_FALSE(may(Role::kQuality, Action::kProposalAck));
  EXPECT_FALSE(may(Role::kBuyer, Action::kHoldRelease)) << "the issue's own example";
  EXPECT_TRUE(may(Role::kBuyer, Action::kProposalAck));
  EXPECT_TRUE(may(Role::kBuyer, Action::kProposalCancel));
  EXPECT_TRUE(may(Role::kBuyer, Action::kCatalogChange));
  for (Action a : {Action::kAlarmAck, Action::kHoldRelease, Action::kHoldWriteOff,
                   Action::kProposalAck, Action::kProposalCancel, Action::kCount,
                   Action::kCatalogChange, Action::kCalibration, Action::kUsersAdmin})
    EXPECT_TRUE(may(Role::kAdmin, a)) << to_string(a);
  EXPECT_FALSE(may(Role::kQuality, Action::kUsersAdmin));
  EXPECT_EQ(meaning(Action::kHoldWriteOff), "written off");
  EXPECT_EQ(parse_role("quality"), Role::kQuality);
  EXPECT_FALSE(parse_role("Quality"));
}

TEST(Accounts, IdsAndPasswords) {
  EXPECT_TRUE(valid_account_id("qa.lee"));
  EXPECT_TRUE(valid_account_id("buyer_2-x"));
  EXPECT_FALSE(valid_account_id(""));
  EXPECT_FALSE(valid_account_id("Lee"));
  EXPECT_FALSE(valid_account_id("1lee"));
  EXPECT_FALSE(valid_account_id("lee lee"));
  EXPECT_FALSE(valid_account_id(std::string(65, 'a')));
  EXPECT_EQ(password_problem("12345"), "must be at least 6 characters");
  EXPECT_EQ(password_problem("123456"), "");
  EXPECT_EQ(password_problem("pass\nword"), "must not contain control characters");
  EXPECT_EQ(password_problem("pass\xffword"), "must be valid UTF-8");
  EXPECT_EQ(password_problem(std::string(257, 'a')), "must be at most 256 bytes");
  EXPECT_EQ(password_problem("пароль-ok"), "");
}

// Worked: 5 wrong in a row at t = 0..4 s lock until 4 s + 15 min; a try during the lock
// neither counts nor extends it; after the lock the count starts again.
TEST(Accounts, FiveWrongPasswordsInARowLockForFifteenMinutes) {
  LockState s;
  for (int i = 0; i < 4; ++i) {
    s = after_failure(s, i * 1000);
    EXPECT_FALSE(locked(s, i * 1000));
  }
  EXPECT_EQ(s.failures, 4);
  s = after_failure(s, 4000);
  EXPECT_TRUE(locked(s, 4000));
  EXPECT_EQ(s.locked_until_ms, 4000 + 15 * 60'000);
  auto during = after_failure(s, 60'000);
  EXPECT_EQ(during.locked_until_ms, s.locked_until_ms);
  EXPECT_FALSE(locked(s, 4000 + 15 * 60'000));
  s = after_failure(s, 4000 + 15 * 60'000);
  EXPECT_EQ(s.failures, 1);
  EXPECT_FALSE(locked(s, 4000 + 15 * 60'000));
}

}  // namespace
}  // namespace depot::accounts
