// Signed actions through the console (issue 16 item 2, issue 15's console acknowledgement):
// real accounts (Argon2id) in a real SQLite file, sign-in and signatures checked on a real
// SignWorker off the loop, and the same action code as the CLI. The session's account signs;
// its password is typed again for each signature; the role decides; wrong passwords are
// refused, audited and lock the account; the audit trail names the account and the console.
#include <fstream>
#include <gmock/gmock.h>

#include "console_fixture.hpp"

namespace depot::app {
namespace {

using nlohmann::json;
using test_console::ConsoleApi;
using test_console::Reply;
using ::testing::HasSubstr;

class ConsoleSigned : public test_console::WithAccounts<ConsoleApi> {};

TEST_F(ConsoleSigned, SignInChecksTheAccountsArgon2idPassword) {
  auto wrong = request("POST", "/api/login", "Content-Type: application/json\r\n",
                       R"({"user":"ana","password":"correct horsE"})");
  EXPECT_EQ(wrong.status, 401);
  auto unknown = request("POST", "/api/login", "Content-Type: application/json\r\n",
                         R"({"user":"nobody","password":"correct horse"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["error"], json::parse(unknown.body)["error"]);
  // A member the sign-in does not take is named, before any password is checked.
  auto extra = request("POST", "/api/login", "Content-Type: application/json\r\n",
                       R"({"user":"ana","password":"correct horse","remember":true})");
  EXPECT_EQ(extra.status, 400) << extra.body;
  EXPECT_EQ(json::parse(extra.body)["field"], "remember");
  auto session = login_as("ana", "correct horse");
  auto me = json::parse(request("GET", "/api/session", session.first).body);
  EXPECT_EQ(me["account"], "ana");
  EXPECT_EQ(me["role"], "quality");
  // The wrong sign-in is in the audit trail with what it tried.
  bool refused = false;
  for (const auto& e : audit())
    refused |= e["what"] == "signature.refused" && e["who"] == "ana" &&
               e["details"]["action"] == "console.login";
  EXPECT_TRUE(refused);
}

TEST_F(ConsoleSigned, AHoldIsReleasedWithTheSessionsAccountAndItsPasswordAgain) {
  auto session = login_as("ana", "correct horse");
  const json body{{"id", hold_}, {"why", "core temperature 4.1 C, fine"}, {"qty", 30}};
  // No CSRF token: refused before anything is signed.
  auto forged = request("POST", "/api/holds/release",
                        session.first + "Content-Type: application/json\r\n",
                        json(body).dump());
  EXPECT_EQ(forged.status, 403);
  // No password: the field and the rule.
  auto nopass = act(session, "/api/holds/release", body);
  EXPECT_EQ(nopass.status, 400);
  EXPECT_EQ(json::parse(nopass.body)["field"], "password");
  // A wrong password: refused, nothing released, audited.
  auto b = body;
  b["password"] = "correct horsey";
  auto wrong = act(session, "/api/holds/release", b);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_THAT(json::parse(wrong.body)["error"].get<std::string>(), HasSubstr("password is wrong"));
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 37);
  // Bad fields: the field and the rule, nothing signed.
  b["password"] = "correct horse";
  b["qty"] = -2;
  auto bad = act(session, "/api/holds/release", b);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["field"], "qty");
  b["qty"] = 30;
  b["why"] = std::string("bad\x01");
  bad = act(session, "/api/holds/release", b);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["field"], "why");
  // A misspelt optional field is refused, not dropped: "qtty" would have released all 37.
  b["why"] = body["why"];
  auto typo = b;
  typo.erase("qty");
  typo["qtty"] = 30;
  bad = act(session, "/api/holds/release", typo);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["field"], "qtty");
  EXPECT_THAT(json::parse(bad.body)["rule"].get<std::string>(),
              HasSubstr("unknown key (did you mean \"qty\"?)"));
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 37);
  // Signed.
  auto ok = act(session, "/api/holds/release", b);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto r = json::parse(ok.body);
  EXPECT_EQ(r["signature"]["account"], "ana");
  EXPECT_EQ(r["signature"]["name"], "Ana Lee");
  EXPECT_EQ(r["signature"]["meaning"], "released");
  EXPECT_EQ(r["signature"]["reason"], "core temperature 4.1 C, fine");
  EXPECT_EQ(r["result"]["remaining"], 7);
  EXPECT_EQ(r["result"]["stock"]["held"], 7);
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 7);
  auto trail = audit();
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back()["what"], "hold.release");
  EXPECT_EQ(trail.back()["who"], "ana");
  // The rest is written off, the same way.
  auto off = act(session, "/api/holds/writeoff",
                 {{"id", hold_}, {"why", "thawed cartons"}, {"password", "correct horse"}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(json::parse(off.body)["signature"]["meaning"], "written off");
  auto stock = json::parse(cli({"stock", "--sku", "VAX"}))[0];
  EXPECT_EQ(stock["held"], 0);
  EXPECT_EQ(stock["on_hand"], 30);
  // A closed hold is a rule of the action (400), an unknown one 404: neither a server error.
  auto closed = act(session, "/api/holds/release",
                    {{"id", hold_}, {"why", "again"}, {"password", "correct horse"}});
  EXPECT_EQ(closed.status, 400) << closed.body;
  EXPECT_THAT(closed.body, HasSubstr("is already closed"));
  auto unknown = act(session, "/api/holds/writeoff",
                     {{"id", 999}, {"why", "x"}, {"password", "correct horse"}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_THAT(unknown.body, HasSubstr("hold 999 does not exist"));
}

// A proposal cancelled before it was ordered answers with its proposed quantity (it said 0).
TEST_F(ConsoleSigned, AProposalCancelledUnorderedAnswersItsProposedQuantity) {
  auto buyer = login_as("bo", "buyer-pass-1");
  auto cancel = act(buyer, "/api/reorders/cancel",
                    {{"id", "P-tea-1"}, {"why", "supplier said no"}, {"password", "buyer-pass-1"}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  auto r = json::parse(cancel.body)["result"];
  EXPECT_EQ(r["state"], "cancelled");
  EXPECT_EQ(r["quantity"], 40) << r.dump();
}

TEST_F(ConsoleSigned, TheRoleDecidesAndAProposalIsSignedByTheBuyer) {
  auto buyer = login_as("bo", "buyer-pass-1");
  auto refused = act(buyer, "/api/holds/release",
                     {{"id", hold_}, {"why", "fine"}, {"password", "buyer-pass-1"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(json::parse(refused.body)["error"].get<std::string>(),
              HasSubstr("(role buyer) may not sign hold.release"));
  auto ack = act(buyer, "/api/reorders/ack",
                 {{"id", "P-tea-1"}, {"order_number", "PO-7731"}, {"qty", 48},
                  {"eta", "2025-12-20"}, {"password", "buyer-pass-1"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  auto r = json::parse(ack.body);
  EXPECT_EQ(r["signature"]["meaning"], "ordered");
  EXPECT_EQ(r["result"]["state"], "acknowledged");
  EXPECT_EQ(r["result"]["quantity"], 48);
  auto trail = audit();
  EXPECT_EQ(trail.back()["what"], "reorder.ack");
  EXPECT_EQ(trail.back()["who"], "bo");
  EXPECT_EQ(trail.back()["details"]["source"], "console");
  EXPECT_EQ(trail.back()["details"]["signed"], true);
  // Acknowledging it again is refused with the rule; cancelling needs a reason.
  auto again = act(buyer, "/api/reorders/ack",
                   {{"id", "P-tea-1"}, {"order_number", "PO-7732"}, {"password", "buyer-pass-1"}});
  EXPECT_EQ(again.status, 400) << again.body;
  auto noreason = act(buyer, "/api/reorders/cancel", {{"id", "P-tea-1"}, {"password", "buyer-pass-1"}});
  EXPECT_EQ(noreason.status, 400);
  EXPECT_EQ(json::parse(noreason.body)["field"], "why");
  auto cancel = act(buyer, "/api/reorders/cancel",
                    {{"id", "P-tea-1"}, {"why", "stream postponed"}, {"password", "buyer-pass-1"}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(json::parse(cancel.body)["result"]["state"], "cancelled");
  // The quality account may acknowledge alarms; with none to acknowledge, it is told so.
  auto quality = login_as("ana", "correct horse");
  auto none = act(quality, "/api/alarms/ack",
                  {{"zone", "pharma-1"}, {"comment", "door closed"}, {"password", "correct horse"}});
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_THAT(none.body, HasSubstr("has no unacknowledged alarm"));
  // A zone that is not configured is refused with the field, before anything is signed.
  auto unknown = act(quality, "/api/alarms/ack",
                     {{"zone", "freezer-9"}, {"comment", "x"}, {"password", "correct horse"}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(json::parse(unknown.body)["field"], "zone");
  EXPECT_THAT(unknown.body, HasSubstr("(configured: pharma-1)"));
}

TEST_F(ConsoleSigned, AMalformedBodyIsRefusedWithTheParsersReasonAndChangesNothing) {
  auto session = login_as("ana", "correct horse");
  auto raw = [&](const std::string& path, const std::string& body) {
    return request("POST", path,
                   session.first + "X-CSRF-Token: " + session.second +
                       "\r\nContent-Type: application/json\r\n",
                   body);
  };
  const std::string id = std::to_string(hold_);
  struct Case {
    std::string body, reason;
  };
  for (const auto& [body, reason] : std::vector<Case>{
           {"{\"id\":" + id + ",\"why\":\"fine \xff\",\"password\":\"correct horse\"}",
            "UTF-8"},
           {"{\"id\":" + id + ",\"why\":[[[[\"deep\"]]]],\"password\":\"correct horse\"}",
            "nested deeper than"},
           {"{\"id\":" + id + ",\"why\":\"fine\"", "not valid JSON"},
           {"[1,2]", "the body must be a JSON object"},
       }) {
    auto r = raw("/api/holds/release", body);
    EXPECT_EQ(r.status, 400) << body;
    auto e = json::parse(r.body)["error"].get<std::string>();
    EXPECT_THAT(e, HasSubstr("the body must be a JSON object")) << body;
    EXPECT_THAT(e, HasSubstr(reason)) << body;
  }
  auto login = request("POST", "/api/login", "Content-Type: application/json\r\n",
                       "{\"user\":\"ana\xc3\",\"password\":\"x\"}");
  EXPECT_EQ(login.status, 400);
  EXPECT_THAT(json::parse(login.body)["error"].get<std::string>(), HasSubstr("UTF-8"));
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 37);
  for (const auto& e : audit()) EXPECT_NE(e["what"], "hold.release");
}

// The cold-chain report of the cold-chain issue, from the console: the same page the CLI's
// `report` writes, built off the loop; its parameters checked like every view's.
TEST_F(ConsoleSigned, TheZonesAuditReportIsServedAsTheCliWritesIt) {
  const std::string q = "/api/report?zone=pharma-1&from=2026-12-05&to=2026-12-06";
  EXPECT_EQ(request("GET", q).status, 401);
  auto session = login_as("ana", "correct horse");
  auto r = request("GET", q, session.first);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.header("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(r.header("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(r.header("Content-Disposition"), HasSubstr("report-pharma-1-2026-12-05.html"));
  EXPECT_THAT(r.body, HasSubstr("pharma-1"));
  EXPECT_THAT(r.body, HasSubstr("VAX"));  // the hold placed in the period
  // The CLI's report of the same zone and period has the same sections.
  const auto file = dir_.file("report.html");
  auto written = test::run_agent({"report", "--zone", "pharma-1", "--from", "2026-12-05", "--to",
                                  "2026-12-06", "--out", file, "-c", cfg_});
  ASSERT_EQ(written.code, 0) << written.err;
  std::ifstream in(file);
  std::string cli_html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto sections = [](const std::string& html) {
    std::vector<std::string> out;
    for (auto p = html.find("<h2"); p != std::string::npos; p = html.find("<h2", p + 1))
      out.push_back(html.substr(p, html.find("</h2>", p) - p));
    return out;
  };
  EXPECT_FALSE(sections(r.body).empty());
  EXPECT_EQ(sections(r.body), sections(cli_html));
  struct Bad {
    std::string query, field;
  };
  for (const auto& [query, field] : std::vector<Bad>{
           {"zone=freezer-9&from=2026-12-05&to=2026-12-06", "zone"},
           {"zone=pharma-1&from=2026-12-06&to=2026-12-05", "to"},
           {"zone=pharma-1&from=2025-01-01&to=2026-12-06", "to"},
           {"zone=pharma-1&from=yesterday&to=2026-12-06", "from"},
           {"zone=pharma-1&to=2026-12-06", "from"},
           {"zone=pharma-1&from=2026-12-05&to=2026-12-06&x=1", "x"},
       }) {
    auto bad = request("GET", "/api/report?" + query, session.first);
    EXPECT_EQ(bad.status, 400) << query << " " << bad.body;
    auto j = json::parse(bad.body, nullptr, false);
    EXPECT_EQ(j.value("field", ""), field) << query << " " << bad.body;
  }
}

TEST_F(ConsoleSigned, FiveWrongPasswordsInARowLockTheAccount) {
  auto session = login_as("ana", "correct horse");
  const json base{{"id", hold_}, {"why", "fine"}};
  for (int i = 0; i < 5; ++i) {
    auto b = base;
    b["password"] = "guess-" + std::to_string(i);
    EXPECT_EQ(act(session, "/api/holds/release", b).status, 403);
  }
  auto b = base;
  b["password"] = "correct horse";
  auto locked = act(session, "/api/holds/release", b);
  EXPECT_EQ(locked.status, 403);
  EXPECT_THAT(json::parse(locked.body)["error"].get<std::string>(), HasSubstr("is locked"));
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 37);
  int refusals = 0, locks = 0;
  for (const auto& e : audit()) {
    refusals += e["what"] == "signature.refused";
    locks += e["what"] == "account.locked";
  }
  EXPECT_EQ(refusals, 4);
  EXPECT_EQ(locks, 1);
  // Sign-in is locked too.
  auto r = request("POST", "/api/login", "Content-Type: application/json\r\n",
                   R"({"user":"ana","password":"correct horse"})");
  EXPECT_EQ(r.status, 401);
}

}  // namespace
}  // namespace depot::app
