// Outbox drain: a backlog of N records (1,000,000 by default) published by the agent's own
// sync code (store/outbox + sync/publisher + sync/mqtt_link: read in seq order, batch,
// QoS 1 with a bounded in-flight window, delivery marks after PUBACK) to a local mosquitto,
// beside a bare Paho publisher sending exactly the same batched payloads with the same
// in-flight window and nothing else (no SQLite), and a bare SQLite read of the same records.
// The agent deletes delivered records later, while idle; that deletion is timed and printed on
// its own line. All run in this process against the same broker, which this program starts on
// a free loopback port and stops by PID.
//
// The two alternate for --rounds rounds (5 by default); the figures are the medians. Both run
// with the daemon's allocator settings (base/resident.hpp, tune_allocator).
//
// Where the threads run decides the figure on a 2-core machine. Left to the scheduler, bare
// Paho runs at two speeds from round to round (1.3-1.6 M or 2.2-2.8 M records/s on the 2-core
// VM of docs/performance.md), so its median is luck. `--pin on` puts the broker on CPU 1 (as a
// remote broker is on a machine of its own) and this process, publisher and its Paho threads,
// on CPU 0, the same for both sides: a stable figure of what each costs on one core. Each side's
// CPU per record is printed too (this process only), and, pinned, the most any publisher that
// must read its records from SQLite first can reach on one core: bare Paho's time over the CPU
// of the bare read and bare Paho together.
//
//   bench_sync [--records N] [--batch N] [--inflight N] [--rounds N] [--dir DIR] [--pin on]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mqtt/async_client.h>
#include <sqlite3.h>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "base/resident.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"
#include "sync/envelope.hpp"
#include "sync/mqtt_link.hpp"
#include "sync/publisher.hpp"

using namespace depot;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Pins the calling thread (and every thread it starts later) to one CPU; false when that CPU
// is not there.
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

// CPUs 0 and 1 are both this process's to use (online, in its cpuset).
bool cpus_0_and_1() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
}

// CPU time of this whole process (every thread: Paho's too; not the broker's), seconds.
double process_cpu() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

pid_t start_broker(const std::string& dir, int port, int cpu) {
  std::ofstream conf(dir + "/mosquitto.conf");
  conf << "listener " << port << " 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\n"
       << "max_queued_messages 0\nlog_dest none\n";
  if (const passwd* pw = ::getpwuid(::geteuid())) conf << "user " << pw->pw_name << "\n";
  conf.close();
  pid_t pid = fork();
  if (pid == 0) {
    if (cpu >= 0 && !pin_to(cpu)) _exit(126);
    execl("/usr/sbin/mosquitto", "mosquitto", "-c", (dir + "/mosquitto.conf").c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 250 && !port_open(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!port_open(port)) {
    std::cerr << "mosquitto did not start on port " << port << "\n";
    std::exit(1);
  }
  return pid;
}

// A backlog of movement-like records in the outbox.
void fill(store::Database& db, int n) {
  for (int i = 0; i < n;) {
    if (!db.begin_immediate()) std::exit(1);
    for (int end = std::min(n, i + 20000); i < end; ++i) {
      nlohmann::json r{{"sku", "SKU-" + std::to_string(i % 1000)},
                       {"kind", "pick"},
                       {"qty", -1},
                       {"held_qty", 0},
                       {"on_hand_after", 100 - i % 100},
                       {"held_after", 0},
                       {"source", "dock-1"},
                       {"negative", false}};
      if (!store::outbox_append(db, "movements", "m" + std::to_string(i),
                                "2026-11-23T10:00:00.000Z", std::move(r)))
        std::exit(1);
    }
    if (!db.commit()) std::exit(1);
  }
}

// The same batches the publisher will send, read the same way (seq order, batch_fit).
std::vector<std::string> batches(store::Database& db, std::int64_t batch, std::int64_t bytes,
                                 std::size_t& records) {
  std::vector<std::string> out;
  std::int64_t after = 0;
  records = 0;
  for (;;) {
    auto recs = store::outbox_read(db, "movements", after, batch);
    if (!recs || recs->empty()) break;
    std::vector<std::string> texts;
    for (auto& r : *recs) texts.push_back(std::move(r.payload));
    auto n = sync::batch_fit("bench", "gw", "movements", texts, static_cast<std::size_t>(batch),
                             static_cast<std::size_t>(bytes));
    texts.resize(n);
    after = (*recs)[n - 1].seq;
    records += n;
    out.push_back(sync::envelope("bench", "gw", "movements", texts));
  }
  return out;
}

// Bare Paho: publish every payload at QoS 1 keeping at most `inflight` unacknowledged. The
// payloads are handed over (moved into the message), as the agent's are: no copy is timed here
// that the agent does not make too.
struct Timed {
  double wall = 0, cpu = 0;  // seconds; cpu: this process's threads over the same span
};

Timed bare_paho(int port, std::vector<std::string> payloads, int inflight) {
  mqtt::async_client c("tcp://127.0.0.1:" + std::to_string(port), "bench-bare");
  mqtt::connect_options o;
  o.set_clean_session(true);
  o.set_max_inflight(inflight + 8);
  c.connect(o)->wait();
  std::deque<mqtt::delivery_token_ptr> window;
  const std::string topic = "depot/v1/bench/gw/movements";
  auto start = Clock::now();
  const double cpu = process_cpu();
  for (auto& p : payloads) {
    if (static_cast<int>(window.size()) >= inflight) {
      window.front()->wait();
      window.pop_front();
    }
    window.push_back(c.publish(mqtt::make_message(topic, std::move(p), 1, false)));
  }
  for (auto& t : window) t->wait();
  Timed out{seconds_since(start), process_cpu() - cpu};
  c.disconnect()->wait();
  return out;
}

// The agent's code: MqttLink + Publisher draining the outbox until it is empty.
Timed agent_drain(store::Database& db, int port, std::int64_t batch, std::int64_t bytes,
                  int inflight) {
  boost::asio::io_context io;
  MqttSettings m;
  m.host = "127.0.0.1";
  m.port = port;
  m.client_id = "bench-agent";
  m.max_inflight = inflight;
  sync::LinkOptions lo{m, "", "depot/v1/bench/gw/status", "{}", "depot/v1/bench/gw/cmd/+"};
  sync::PublisherOptions po;
  po.site = "bench";
  po.gateway = "gw";
  po.max_inflight = inflight;
  po.batch_records = batch;
  po.batch_bytes = bytes;
  po.drain_per_s = 0;
  po.budget_bytes = std::int64_t{1} << 40;
  std::unique_ptr<sync::MqttLink> link;
  Clock::time_point start;
  double start_cpu = 0;
  Timed out;
  sync::Publisher pub(
      io, db, po,
      [&](const std::string& topic, std::string payload, sync::Publisher::Done done) {
        return link->publish(topic, std::move(payload), 1, false, std::move(done));
      },
      depot::mono_now_ns, depot::wall_now, depot::new_id);
  boost::asio::steady_timer check(io);
  std::function<void()> watch = [&] {
    check.expires_after(std::chrono::milliseconds(1));
    check.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (pub.drained()) {
        out = {seconds_since(start), process_cpu() - start_cpu};
        pub.stop();
        link->stop(std::chrono::milliseconds(1000));
        io.stop();
        return;
      }
      watch();
    });
  };
  link = std::make_unique<sync::MqttLink>(
      io, lo,
      sync::MqttLink::Handlers{[&] {
                                 start = Clock::now();
                                 start_cpu = process_cpu();
                                 pub.online();
                                 watch();
                               },
                               [&](const std::string& why) {
                                 std::cerr << "agent link: " << why << "\n";
                                 pub.offline();
                               },
                               nullptr});
  pub.start();
  if (auto st = link->start(); !st) {
    std::cerr << st.error().message << "\n";
    std::exit(1);
  }
  io.run();
  return out;
}

// Bare SQLite: read the same records (seq and payload, in seq order) on a connection of its own,
// touching every payload byte and doing nothing else. What the agent must read before it can
// publish; the bare Paho side never reads.
Timed bare_read(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* st = nullptr;
  std::uint64_t sum = 0;
  auto start = Clock::now();
  const double cpu = process_cpu();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db,
                         "SELECT seq, payload FROM outbox WHERE stream = 'movements' AND seq > 0 "
                         "ORDER BY seq",
                         -1, &st, nullptr) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(st, 1);
      const int len = sqlite3_column_bytes(st, 1);
      sum += static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
      for (int i = 0; i < len; i += 64) sum += p[i];
    }
  Timed out{seconds_since(start), process_cpu() - cpu};
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (sum == 0) std::exit(1);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();  // the daemon's allocator settings, for both sides alike
  depot::store::configure_sqlite();  // and SQLite's (store/database.hpp), before any open
  int n = 1000000, batch = 200, inflight = 16, rounds = 5;
  bool pin = false;

  std::string dir = std::filesystem::temp_directory_path() / "depot-bench-sync";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--records") n = std::stoi(argv[i + 1]);
    else if (k == "--batch") batch = std::stoi(argv[i + 1]);
    else if (k == "--inflight") inflight = std::stoi(argv[i + 1]);
    else if (k == "--dir") dir = argv[i + 1];
    else if (k == "--rounds") rounds = std::max(1, std::stoi(argv[i + 1]));
    else if (k == "--pin") pin = std::string(argv[i + 1]) == "on";
  }
  const std::int64_t bytes = 64 * 1024;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int port = free_port();
  if (pin && (!cpus_0_and_1() || !pin_to(0))) {
    std::printf("outbox drain, pinned: skipped (needs CPUs 0 and 1)\n");
    return 0;
  }
  pid_t broker = start_broker(dir, port, pin ? 1 : -1);

  auto db = store::Database::open(dir + "/sync.db", {.synchronous = Synchronous::kFull});
  if (!db) {
    std::cerr << db.error().message << "\n";
    return 1;
  }
  auto t = Clock::now();
  fill(**db, n);
  std::printf("backlog: %d records written to the outbox in %.1f s\n", n, seconds_since(t));
  std::fflush(stdout);
  std::size_t records = 0;
  auto payloads = batches(**db, batch, bytes, records);

  // Rounds of bare Paho then the agent; the agent's delivery mark is set back to 0 between
  // rounds so that each drains the whole backlog again. A round takes about a second on a 2-core
  // VM, where one slow second swings a single pair by half: the ratio is of the medians.
  std::vector<double> bare, ours, read, bare_cpu, ours_cpu, read_cpu;
  for (int r = 0; r < rounds; ++r) {
    if (r > 0 && !(*db)->exec("UPDATE outbox_streams SET acked_seq = 0")) std::exit(1);
    const auto r1 = bare_read(dir + "/sync.db");
    const auto r2 = bare_paho(port, payloads, inflight);
    const auto r3 = agent_drain(**db, port, batch, bytes, inflight);
    read.push_back(r1.wall);
    read_cpu.push_back(r1.cpu);
    bare.push_back(r2.wall);
    bare_cpu.push_back(r2.cpu);
    ours.push_back(r3.wall);
    ours_cpu.push_back(r3.cpu);
    if (auto left = store::outbox_depth(**db, "movements"); !left || *left != 0) break;
  }
  auto left = store::outbox_depth(**db, "movements");
  // Afterwards, while idle, the agent deletes the delivered records in chunks: timed apart.
  t = Clock::now();
  std::int64_t compacted = 0;
  for (;;) {
    auto deleted = store::outbox_compact(**db, 2000);
    if (!deleted || *deleted == 0) break;
    compacted += *deleted;
  }
  double compact_s = seconds_since(t);
  ::kill(broker, SIGTERM);
  ::waitpid(broker, nullptr, 0);

  std::printf("%zu messages of up to %d records, %d in flight, QoS 1, local mosquitto, %s\n",
              payloads.size(), batch, inflight,
              pin ? "pinned: broker on CPU 1, publisher on CPU 0"
                  : "threads where the scheduler puts them");
  const auto rate = [&](double s) { return static_cast<double>(records) / s; };
  std::printf("rounds (agent / bare Paho, rec/s):");
  for (std::size_t r = 0; r < ours.size(); ++r)
    std::printf("  %.0f / %.0f", rate(ours[r]), rate(bare[r]));
  std::printf("\n");
  const double ours_s = median(ours), bare_s = median(bare);
  std::printf("%-46s %12.0f rec/s   bare Paho %10.0f rec/s   ratio %.2f   target >= 0.80 (issue 18)\n",
              pin ? "outbox drain, pinned" : "outbox drain (read, publish, mark at PUBACK)",
              rate(ours_s), rate(bare_s), bare_s / ours_s);
  // Not a target: how far the read alone goes toward the agent's time, for reading the ratio.
  const double read_s = median(read);
  std::printf("%-46s %12.0f rec/s   (%.2f s: %.2f x bare Paho's whole drain; read + bare Paho "
              "one after the other: ratio %.2f)\n",
              "  bare SQLite reading the same records", rate(read_s), read_s, read_s / bare_s,
              (read_s + bare_s) / ours_s);
  // CPU per record, this process's threads only (the broker's are not counted on either side).
  const double us = 1e6 / static_cast<double>(records);
  std::printf("%-46s %12.2f us    bare read + bare Paho %6.2f + %.2f us   ratio %.2f\n",
              "  CPU per record (medians)", median(ours_cpu) * us, median(read_cpu) * us,
              median(bare_cpu) * us, (median(read_cpu) + median(bare_cpu)) / median(ours_cpu));
  // On one core a publisher that must read its records from SQLite spends at least the bare
  // read's CPU and bare Paho's: the most it can reach against bare Paho's wall time.
  if (pin)
    std::printf("%-46s %12s       at most ratio %.2f (bare Paho's time / that CPU)\n",
                "  one core, reading SQLite first", "",
                std::min(1.0, bare_s / (median(read_cpu) + median(bare_cpu))));
  std::printf("%-46s %12.0f rec/s   (%lld records in %.2f s, runs only while idle)\n",
              "then: deleting delivered records (compaction)",
              static_cast<double>(compacted) / std::max(compact_s, 1e-9),
              static_cast<long long>(compacted), compact_s);
  std::int64_t stored = -1;
  if (auto q = (*db)->prepare("SELECT count(*) FROM outbox"); q) {
    if (auto row = (*q)->step(); row && *row) stored = (*q)->int64(0);
    (*q)->reset();
  }
  if (!left || *left != 0 || stored != 0) {
    std::printf("ERROR: %lld records left undelivered, %lld stored\n",
                static_cast<long long>(left ? *left : -1), static_cast<long long>(stored));
    return 1;
  }
  return 0;
}
