// 1,000 DS18B20 probes in a fake sysfs tree, each read once a second through the w1 driver on
// an io_context (reads on the shared worker thread, parsing and a reading callback on the
// loop, stamped by depot::instant_now), for ~10 s; CPU time (getrusage: user + system, all
// threads) as a percentage of one core. Beside it, the bare limit measured in the same run:
// a plain loop that opens, reads, parses and closes the same 1,000 files once a second.
// Issue 4's target: the whole agent under 5% of one core for 1,000 probes; the drivers
// should be a small part of that.
//   bench_probes [--probes N] [--seconds S]
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "base/resident.hpp"
#include "store/database.hpp"
#include "core/coldchain/reading.hpp"
#include "sensor/w1/w1_sensor.hpp"

namespace {

using namespace std::chrono_literals;
using depot::coldchain::Quality;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string device(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "28-%012llx",
                0x0316a2000000ull + static_cast<unsigned long long>(i));
  return buf;
}

struct Result {
  double cpu_percent = 0;
  long reads = 0, good = 0;
};

Result run_drivers(const std::string& root, int probes, int seconds) {
  boost::asio::io_context io;
  Result r;
  std::vector<std::unique_ptr<depot::drivers::W1Sensor>> sensors;
  depot::drivers::SensorEvents events{[&](depot::coldchain::Reading reading) {
                                        ++r.reads;
                                        r.good += reading.quality == Quality::kGood;
                                      },
                                      [](bool, std::string) {}};
  for (int i = 0; i < probes; ++i) {
    depot::drivers::SensorOptions o{"p" + std::to_string(i), 1000ms, depot::instant_now};
    sensors.push_back(std::make_unique<depot::drivers::W1Sensor>(
        io, o, depot::coldchain::W1Source{root, device(i)}, events));
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& s : sensors) s->start();
  io.run_for(std::chrono::seconds(seconds));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_percent = (cpu_seconds() - cpu0) / wall * 100;
  for (auto& s : sensors) s->stop();
  return r;
}

Result run_bare(const std::string& root, int probes, int seconds) {
  Result r;
  std::vector<std::string> paths;
  for (int i = 0; i < probes; ++i) paths.push_back(root + "/" + device(i) + "/w1_slave");
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < seconds; ++s) {
    for (const auto& p : paths) {
      std::string text;
      if (depot::drivers::read_small_file(p, text) != 0) continue;
      auto v = depot::coldchain::parse_w1_slave(text, std::nullopt);
      ++r.reads;
      r.good += v.quality == Quality::kGood;
    }
    std::this_thread::sleep_until(t0 + std::chrono::seconds(s + 1));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_percent = (cpu_seconds() - cpu0) / wall * 100;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();  // the daemon's allocator settings: the agent's code runs in here
  depot::store::configure_sqlite();  // and SQLite's (store/database.hpp), before any open
  int probes = 1000, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--probes")
      probes = std::atoi(argv[i + 1]);
    else if (a == "--seconds")
      seconds = std::atoi(argv[i + 1]);
  }
  auto root =
      std::filesystem::temp_directory_path() / ("depot-probes-bench-" + std::to_string(::getpid()));
  for (int i = 0; i < probes; ++i) {
    std::filesystem::create_directories(root / device(i));
    std::ofstream(root / device(i) / "w1_slave")
        << "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=" << (-20000 + i)
        << "\n";
  }
  auto drivers = run_drivers(root.string(), probes, seconds);
  auto bare = run_bare(root.string(), probes, seconds);
  std::filesystem::remove_all(root);
  std::printf(
      "w1 probes: %d read once a second for %d s\n"
      "  drivers on an io_context: %.2f%% of one core (%ld readings, %ld good)\n"
      "  bare limit (open/read/parse/close loop): %.2f%% of one core (%ld reads, %ld good)\n"
      "  ratio drivers/bare: %.2f\n",
      probes, seconds, drivers.cpu_percent, drivers.reads, drivers.good, bare.cpu_percent,
      bare.reads, bare.good, bare.cpu_percent > 0 ? drivers.cpu_percent / bare.cpu_percent : 0.0);
  return drivers.good > 0 ? 0 : 1;
}
