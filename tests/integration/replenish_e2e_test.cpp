// End to end: replenishment in the real daemon. Receipts through a named pipe and picks over
// TCP become movements; the daemon folds each committed batch in, detects the surge and
// proposes; `depot-agent reorders --json` (another process) shows the proposal; an operator
// acknowledges it with the CLI and the daemon credits the next receipt to that order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using namespace std::chrono_literals;

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

void to_pipe(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

// Polls `reorders --json` (bounded) until `done` holds for it.
nlohmann::json wait_reorders(const std::string& cfg,
                             const std::function<bool(const nlohmann::json&)>& done) {
  nlohmann::json last;
  for (int i = 0; i < 250; ++i) {
    auto r = test::run_agent({"reorders", "-c", cfg, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    last = nlohmann::json::parse(r.out, nullptr, false);
    if (last.is_array() && done(last)) return last;
    std::this_thread::sleep_for(40ms);
  }
  return last;
}

TEST(ReplenishEndToEnd, ScansThroughTheDaemonBecomeAnUrgentProposalAndAReceivedOrder) {
  test::TempDir dir;
  const auto port = free_port();
  const auto cfg = dir.file("agent.json");
  // TINT: 48/day (2/h) from the catalog; lead 2 d, 1 day of safety, review 1 d:
  // reorder point 2*48 + 48 = 144 without a surge.
  test::write_file(cfg, R"({
    "site": "e2e", "gateway": "gw-1", "database": "depot.db",
    "catalog": [
      {"sku": "TINT", "barcodes": ["4006381333931"], "policy": "fast", "daily_demand": 48}
    ],
    "policies": {"fast": {"lead_time_days": 2, "safety_days": 1, "review_period_days": 1,
                          "suppliers": [{"id": "sz-express", "unit_price": 2.5}]}},
    "scanners": [
      {"id": "dock", "driver": "stdin", "role": "receive", "path": ")" +
                            dir.file("dock") + R"("},
      {"id": "pack", "driver": "tcp", "role": "pick", "port": )" +
                            std::to_string(port) + R"(,
       "double_read_ms": 0}
    ]})");
  test::AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("ready:", 10s)) << agent.log();

  // 300 units in: above the reorder point, nothing proposed.
  to_pipe(dir.file("dock"), "DA:QTY:300\n4006381333931\n");
  ASSERT_TRUE(agent.wait_for_log("receive TINT +300", 10s)) << agent.log();
  // The live stream: 10 picks of 9 units within a minute (90 units: a surge against 2/h).
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string picks;
  for (int i = 0; i < 10; ++i) picks += "DA:QTY:9\n4006381333931\n";
  boost::asio::write(sock, boost::asio::buffer(picks));

  auto props = wait_reorders(cfg, [](const nlohmann::json& a) { return a.size() >= 1; });
  ASSERT_EQ(props.size(), 1u) << props.dump(1) << "\n" << agent.log();
  const auto& p = props[0];
  EXPECT_EQ(p["sku"], "TINT");
  EXPECT_EQ(p["state"], "proposed");
  EXPECT_EQ(p["supplier"], "sz-express");
  EXPECT_EQ(p["urgent"], true) << "a surge-driven proposal is urgent";
  EXPECT_GT(p["numbers"]["surge_factor"].get<double>(), 1.0);
  EXPECT_LE(p["numbers"]["position"].get<double>(), p["numbers"]["reorder_point"].get<double>());
  EXPECT_TRUE(agent.wait_for_log("demand_surge on TINT", 10s)) << agent.log();

  auto stock = test::run_agent({"stock", "-c", cfg, "--json"});
  ASSERT_EQ(stock.code, 0) << stock.err;
  auto rows = nlohmann::json::parse(stock.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["surge"], true);
  EXPECT_EQ(rows[0]["policy"], "fast");
  EXPECT_EQ(rows[0]["on_order"], 0);

  // The buyer places it (no cloud): acknowledge locally with 60 units.
  const auto id = p["proposal_id"].get<std::string>();
  auto ack = test::run_agent({"reorders", "ack", id, "--order", "PO-7", "--qty", "60", "--who", "Bo Buyer", "-c", cfg});
  ASSERT_EQ(ack.code, 0) << ack.err;
  stock = test::run_agent({"stock", "-c", cfg, "--json"});
  EXPECT_EQ(nlohmann::json::parse(stock.out)[0]["on_order"], 60);

  // The delivery arrives at the dock: the daemon (which learnt of the acknowledgement from
  // the database) credits it to PO-7, which is then received.
  to_pipe(dir.file("dock"), "DA:QTY:60\n4006381333931\n");
  auto find = [&](const nlohmann::json& a) -> const nlohmann::json* {
    for (const auto& x : a)
      if (x["proposal_id"] == id) return &x;
    return nullptr;
  };
  props = wait_reorders(cfg, [&](const nlohmann::json& a) {
    auto* x = find(a);
    return x && (*x)["state"] == "received";
  });
  const auto* done = find(props);
  ASSERT_NE(done, nullptr) << props.dump(1);
  EXPECT_EQ((*done)["state"], "received") << props.dump(1) << "\n" << agent.log();
  EXPECT_EQ((*done)["received_qty"], 60);
  EXPECT_EQ((*done)["order_number"], "PO-7");
  // 60 units did not cover the surge: with no order open any more, a new urgent proposal.
  props = wait_reorders(cfg, [](const nlohmann::json& a) { return a.size() >= 2; });
  ASSERT_EQ(props.size(), 2u) << props.dump(1);
  EXPECT_EQ(props[1]["state"], "proposed");
  EXPECT_EQ(props[1]["urgent"], true);
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

}  // namespace
}  // namespace depot
