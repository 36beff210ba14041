// Chaos: the real agent, a real mosquitto and a real TCP scanner stream, with the agent
// SIGKILLed at least 20 times and the broker kill -9ed 5 times while scans flow, and a cloud
// subscriber on a persistent session. Afterwards nothing committed is missing at the cloud (a
// gap a kill -9 of the broker left is asked for again with stream.replay, as the protocol
// tells a cloud to), every stream's seq is gap-free, no record came twice with different
// content, the ledger invariant holds (per SKU the movements' quantities sum to on hand) and
// the audit chain verifies. The kill times are random; the seed is printed
// (DEPOT_CHAOS_SEED=N replays a run). Bounded to about two minutes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <random>
#include <set>

#include "agent_process.hpp"
#include "harness.hpp"
#include "store/database.hpp"

namespace depot::itest {
namespace {
using nlohmann::json;

const std::string kPrefix = "depot/v1/test-site/gw-1/";
const std::string kUndelivered =
    "SELECT count(*) FROM outbox o JOIN outbox_streams s ON s.stream = o.stream"
    " WHERE o.seq > coalesce(s.acked_seq, 0)";

std::int64_t query_int(const std::string& db_path, const std::string& sql) {
  auto db = store::Database::open(db_path, {.read_only = true});
  if (!db) return -1;
  auto q = (*db)->prepare(sql);
  if (!q) return -1;
  if (auto row = (*q)->step(); !row || !*row) return -1;
  auto n = (*q)->int64(0);
  (*q)->reset();
  return n;
}

// A scanner on the pack station: connects to the agent's TCP port and streams scan lines,
// reconnecting whenever the agent is gone (as a network scanner does).
class TcpScanner {
 public:
  explicit TcpScanner(int port) : port_(port) {}
  ~TcpScanner() { stop(); }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::int64_t lines_written() const { return written_; }

 private:
  void run() {
    int fd = -1;
    const std::string codes[] = {"INT-MATCHA\n", "4006381333931\n", "14006381333938\n"};
    std::size_t i = 0;
    while (!done_) {
      if (fd < 0) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port_));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          ::close(fd);
          fd = -1;
          std::this_thread::sleep_for(50ms);
          continue;
        }
      }
      const std::string& line = codes[i++ % 3];
      if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        ::close(fd);
        fd = -1;
        continue;
      }
      ++written_;
      std::this_thread::sleep_for(4ms);
    }
    if (fd >= 0) ::close(fd);
  }
  int port_;
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> written_{0};
  std::thread thread_;
};

TEST(Chaos, KillsOfTheAgentAndTheBrokerLoseNothingCommitted) {
  test::TempDir dir;
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("DEPOT_CHAOS_SEED")) seed = std::stoull(s);
  std::printf("chaos seed %llu (DEPOT_CHAOS_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  // Persistence saved on every change: a kill -9 keeps the cloud's session and its queue as
  // far as the broker had saved it (what it had not is what stream.replay is for).
  Broker broker(dir, std::nullopt, "autosave_on_changes true\nautosave_interval 1\n");
  broker.start();
  const int scan_port = free_port();
  const auto db_path = dir.file("depot.db");
  auto cfg = test::sample_config(db_path);
  cfg.pop_back();
  cfg += R"(,
  "durability": {"batch_max_ms": 5},
  "scanners": [{"id": "pack", "role": "receive", "driver": "tcp", "port": )" +
         std::to_string(scan_port) + R"(, "double_read_ms": 0}],
  "mqtt": {"host": "127.0.0.1", "port": )" + std::to_string(broker.port()) +
         R"(, "backoff_min_s": 1, "backoff_max_s": 2, "drain_per_s": 0, "keepalive_s": 5,
           "batch_records": 20, "keep_delivered_h": 24}
})";
  const auto cfg_path = dir.file("agent.json");
  test::write_file(cfg_path, cfg);

  std::vector<Message> earlier;  // what earlier cloud clients of the same session received
  auto cloud = std::make_unique<Cloud>(broker.port(), "chaos-cloud");
  Agent agent(dir, cfg_path);
  agent.start();
  TcpScanner scanner(scan_port);
  scanner.start();

  int agent_kills = 0, broker_kills = 0;
  std::uniform_int_distribution<int> run_ms(1200, 2800), down_ms(50, 400);
  const auto until = std::chrono::steady_clock::now() + 75s;
  while ((agent_kills < 20 || broker_kills < 5) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    agent.stop(SIGKILL);  // SIGKILL, reaped
    ++agent_kills;
    if (agent_kills % 4 == 0 && broker_kills < 5) {
      cloud->disconnect();
      auto got = cloud->messages();
      earlier.insert(earlier.end(), got.begin(), got.end());
      cloud.reset();
      broker.stop(SIGKILL);
      ++broker_kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(down_ms(rng)));
      broker.start();
      cloud = std::make_unique<Cloud>(broker.port(), "chaos-cloud");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(down_ms(rng)));
    agent.start();
  }
  EXPECT_GE(agent_kills, 20);
  EXPECT_GE(broker_kills, 5);
  scanner.stop();

  // Quiet: the agent drains its outbox to the cloud.
  const auto n = [&] { return query_int(db_path, "SELECT count(*) FROM movements"); };
  ASSERT_TRUE(wait_for([&] { return n() > 0; }, 10s)) << agent.log();
  std::int64_t settled = -1;
  ASSERT_TRUE(wait_for(
      [&] {
        auto now = n();
        bool same = now == settled;
        settled = now;
        return same && query_int(db_path,
                                 kUndelivered) == 0;
      },
      30s))
      << "outbox not drained: "
      << query_int(db_path, kUndelivered) << "\n"
      << agent.log();
  const std::int64_t movements = n();
  std::printf("%d agent kills, %d broker kills, %lld lines sent, %lld movements committed\n",
              agent_kills, broker_kills, static_cast<long long>(scanner.lines_written()),
              static_cast<long long>(movements));
  EXPECT_GT(movements, 500);

  // Ledger invariant: per SKU, the movements' quantities sum to on hand (receives only here).
  EXPECT_EQ(query_int(db_path,
                      "SELECT count(*) FROM stock s WHERE s.on_hand <>"
                      " (SELECT coalesce(sum(m.qty), 0) FROM movements m WHERE m.sku = s.sku)"),
            0);
  // Every movement has its outbox record, and the stream's seqs in the database are 1..n.
  EXPECT_EQ(query_int(db_path, "SELECT next_seq - 1 FROM outbox_streams WHERE stream = 'movements'"),
            movements);

  cloud->add(earlier);
  auto missing = [&](const std::string& stream, std::int64_t last) {
    std::vector<std::int64_t> m;
    auto got = cloud->seqs(stream);
    for (std::int64_t s = 1; s <= last; ++s)
      if (!got.count(s)) m.push_back(s);
    return m;
  };
  auto gaps = missing("movements", movements);
  std::printf("movements missing at the cloud after the run: %zu\n", gaps.size());
  if (!gaps.empty()) {
    // What a kill -9 of the broker lost after its PUBACK: the cloud asks again, as
    // docs/protocol.md tells it to (records are kept for keep_delivered_h).
    json cmd{{"id", "replay-1"},
             {"args", {{"stream", "movements"}, {"from_seq", gaps.front()}, {"to_seq", gaps.back()}}}};
    cloud->publish(kPrefix + "cmd/stream.replay", cmd.dump());
    EXPECT_TRUE(wait_for([&] { return missing("movements", movements).empty(); }, 20s))
        << missing("movements", movements).size() << " still missing after stream.replay";
  }
  // No seq came twice with different content; nothing beyond what was committed.
  std::map<std::int64_t, std::string> first;
  for (const auto& r : cloud->records("movements")) {
    auto seq = r["seq"].get<std::int64_t>();
    auto [it, fresh] = first.emplace(seq, r["id"].dump());
    if (!fresh) {
      EXPECT_EQ(it->second, r["id"].dump()) << "seq " << seq << " twice, differently";
    }
  }
  EXPECT_EQ(first.size(), static_cast<std::size_t>(movements));
  std::set<std::string> ids;
  for (const auto& [seq, id] : first) ids.insert(id);
  EXPECT_EQ(ids.size(), first.size()) << "one movement under two seqs";
  // Every other stream the cloud saw is gap-free from 1 too.
  std::set<std::string> streams;
  for (const auto& m : cloud->messages()) {
    auto slash = m.topic.rfind('/');
    auto name = m.topic.substr(slash + 1);
    if (m.topic.find("/cmd/") == std::string::npos && name != "status") streams.insert(name);
  }
  for (const auto& s : streams) {
    const auto last =
        query_int(db_path, "SELECT next_seq - 1 FROM outbox_streams WHERE stream = '" + s + "'");
    if (last > 0 && s != "movements") {
      EXPECT_TRUE(wait_for([&] { return missing(s, last).empty(); }, 5s))
          << s << ": " << missing(s, last).size() << " seqs missing";
    }
  }
  auto verify = test::run_agent({"audit", "verify", "-c", cfg_path});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  agent.stop(SIGTERM);
}

}  // namespace
}  // namespace depot::itest
