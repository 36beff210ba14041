// The file-based probe drivers (w1, hwmon) against fake sysfs trees in temp dirs, the
// simulator driver on a test clock, and make_sensor. Every wait is bounded.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/json_parse.hpp"
#include "sensor/hwmon/hwmon_sensor.hpp"
#include "sensor/mqtt/mqtt_sensor.hpp"
#include "sensor/sim/sim_profile.hpp"
#include "sensor/sim/sim_sensor.hpp"
#include "sensor/w1/w1_sensor.hpp"
#include "sensor_test_support.hpp"

namespace depot::drivers {
namespace {

using coldchain::Quality;
using coldchain::Reading;
using test::put;
using test::SensorRig;
using test::TempDir;
using test::w1_text;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kDev = "28-0316a2791aff";

coldchain::W1Source w1_source(const TempDir& dir) { return {dir.path().string(), kDev}; }
std::string slave(const TempDir& dir) { return dir.file(std::string(kDev) + "/w1_slave"); }

TEST(W1SensorTest, GoodReadingIsStampedWithTheClockAndTheProbe) {
  TempDir dir;
  put(slave(dir), w1_text(-18250));
  SensorRig rig;
  W1Sensor s(rig.io, rig.options("fz-1"), w1_source(dir), rig.events());
  s.start();
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  const Reading& r = rig.readings[0];
  EXPECT_EQ(r.probe, "fz-1");
  EXPECT_EQ(r.quality, Quality::kGood) << r.reason;
  EXPECT_DOUBLE_EQ(r.celsius, -18.25);
  EXPECT_EQ(r.mono_ns, coldchain::kNsPerSecond);  // the first clock call
  EXPECT_EQ(r.wall_ms, 1'700'000'001'000);
  EXPECT_EQ(r.reason, "");
}

TEST(W1SensorTest, CrcNoIsRejectedThenYesIsGoodAgain) {
  TempDir dir;
  put(slave(dir), w1_text(4000, "NO"));
  SensorRig rig;
  W1Sensor s(rig.io, rig.options("c-1"), w1_source(dir), rig.events());
  s.start();
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  EXPECT_EQ(rig.readings[0].quality, Quality::kCrcFailed);
  EXPECT_EQ(rig.readings[0].reason, "CRC mismatch (crc=57 NO)");
  put(slave(dir), w1_text(4000, "YES"));
  auto i = rig.wait_reading(1, [](const Reading& r) { return r.quality == Quality::kGood; });
  ASSERT_GE(i, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(i)].celsius, 4.0);
  // One error status when it started failing, one when it read again; not one per reading.
  EXPECT_EQ(rig.errors(), 1u);
  EXPECT_THAT(rig.statuses.back().second, HasSubstr("c-1: reading again"));
}

TEST(W1SensorTest, PowerOn85IsBelievedOnlyAfterAPlausibleNeighbour) {
  {  // previous good 84.5: within 3 of 85, so 85 is a real temperature
    TempDir dir;
    put(slave(dir), w1_text(84500));
    SensorRig rig;
    W1Sensor s(rig.io, rig.options("oven"), w1_source(dir), rig.events());
    s.start();
    ASSERT_GE(rig.wait_reading(0, [](const Reading& r) { return r.quality == Quality::kGood; }), 0);
    put(slave(dir), w1_text(85000));
    auto i = rig.wait_reading(1, [](const Reading& r) { return r.celsius == 85.0; });
    ASSERT_GE(i, 0);
    EXPECT_EQ(rig.readings[static_cast<std::size_t>(i)].quality, Quality::kGood);
  }
  {  // previous good 4: 85 is the power-on value, rejected
    TempDir dir;
    put(slave(dir), w1_text(4000));
    SensorRig rig;
    W1Sensor s(rig.io, rig.options("cold"), w1_source(dir), rig.events());
    s.start();
    ASSERT_GE(rig.wait_reading(0, [](const Reading& r) { return r.quality == Quality::kGood; }), 0);
    put(slave(dir), w1_text(85000));
    auto i = rig.wait_reading(1, [](const Reading& r) { return r.celsius == 85.0; });
    ASSERT_GE(i, 0);
    const auto& r = rig.readings[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.quality, Quality::kImplausible);
    EXPECT_THAT(r.reason, HasSubstr("power-on value"));
    EXPECT_THAT(r.reason, HasSubstr("previous good: 4"));
  }
  {  // 85 as the very first reading: no neighbour at all
    TempDir dir;
    put(slave(dir), w1_text(85000));
    SensorRig rig;
    W1Sensor s(rig.io, rig.options("new"), w1_source(dir), rig.events());
    s.start();
    ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
    EXPECT_EQ(rig.readings[0].quality, Quality::kImplausible);
    EXPECT_THAT(rig.readings[0].reason, HasSubstr("previous good: none"));
  }
}

TEST(W1SensorTest, AllZeroScratchpadAndEmptyFileAreNoData) {
  TempDir dir;
  const std::string zeros = "00 00 00 00 00 00 00 00 00";
  put(slave(dir), zeros + " : crc=00 YES\n" + zeros + " t=0\n");
  SensorRig rig;
  W1Sensor s(rig.io, rig.options("z"), w1_source(dir), rig.events());
  s.start();
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  EXPECT_EQ(rig.readings[0].quality, Quality::kNoData);
  EXPECT_THAT(rig.readings[0].reason, HasSubstr("all-zero scratchpad"));
  put(slave(dir), "");
  auto i = rig.wait_reading(1, [](const Reading& r) { return r.reason.find("empty") == 0; });
  ASSERT_GE(i, 0);
  EXPECT_EQ(rig.readings[static_cast<std::size_t>(i)].quality, Quality::kNoData);
}

TEST(W1SensorTest, VanishedDeviceYieldsNoDataAndIsPickedUpWhenItReturns) {
  TempDir dir;
  put(slave(dir), w1_text(3500));
  SensorRig rig;
  W1Sensor s(rig.io, rig.options("ph-1"), w1_source(dir), rig.events());
  s.start();
  ASSERT_GE(rig.wait_reading(0, [](const Reading& r) { return r.quality == Quality::kGood; }), 0);
  std::filesystem::remove_all(dir.path() / kDev);  // unplugged: the kernel removes the folder
  // A read already on the worker when the folder went may still bring a good 3.5 after this
  // mark; everything after the first vanished reading was read with the device gone.
  const std::size_t mark = rig.readings.size();
  // Several vanished readings in a row: the driver keeps trying.
  ASSERT_TRUE(rig.run_until([&] {
    std::size_t n = 0;
    for (std::size_t i = mark; i < rig.readings.size(); ++i)
      n += rig.readings[i].reason.rfind("device vanished", 0) == 0;
    return n >= 3;
  }));
  const auto vanished = rig.wait_reading(mark, [](const Reading& r) { return !r.reason.empty(); });
  ASSERT_GE(vanished, 0);
  EXPECT_EQ(rig.readings[static_cast<std::size_t>(vanished)].quality, Quality::kNoData);
  EXPECT_EQ(rig.readings[static_cast<std::size_t>(vanished)].reason,
            "device vanished: " + slave(dir) + ": No such file or directory");
  EXPECT_EQ(rig.errors(), 1u);
  put(slave(dir), w1_text(3625));  // plugged back in
  auto back = rig.wait_reading(static_cast<std::size_t>(vanished),
                               [](const Reading& r) { return r.quality == Quality::kGood; });
  ASSERT_GE(back, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(back)].celsius, 3.625);
  EXPECT_EQ(rig.errors(), 1u);
}

// Opens the FIFO at `path` for writing, writes `text` and closes it: a reader blocked in open()
// returns with `text` (EOF when empty). Waits up to `wait` (running `rig`) for a reader;
// returns whether there was one.
bool release_fifo(SensorRig& rig, const std::string& path, const std::string& text = "",
                  std::chrono::milliseconds wait = 5000ms) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      if (!text.empty()) {
        EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
      }
      ::close(fd);
      return true;
    }
    rig.run_until([] { return false; }, 5ms);
  }
  return false;
}

// A read that blocks (here: w1_slave is a FIFO nobody writes yet, as the kernel's read blocks
// for the conversion) runs on the worker: the loop keeps serving its timers meanwhile, and
// further ticks do not pile up reads behind it.
TEST(W1SensorTest, ABlockingReadDoesNotBlockTheLoop) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / kDev);
  ASSERT_EQ(::mkfifo(slave(dir).c_str(), 0600), 0);
  SensorRig rig;
  W1Sensor s(rig.io, rig.options("slow", 10ms), w1_source(dir), rig.events());
  s.start();
  int ticks = 0;
  boost::asio::steady_timer t(rig.io);
  std::function<void()> tick = [&] {
    t.expires_after(5ms);
    t.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) ++ticks, tick();
    });
  };
  tick();
  ASSERT_TRUE(rig.run_until([&] { return ticks >= 20; }, 3000ms));  // ~100 ms of loop time
  EXPECT_TRUE(rig.readings.empty());
  t.cancel();
  // Now the "conversion" completes: a writer delivers the text.
  std::thread writer([&] {
    int fd = ::open(slave(dir).c_str(), O_WRONLY);
    const auto text = w1_text(-20125);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  });
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  writer.join();
  EXPECT_EQ(rig.readings[0].quality, Quality::kGood);
  EXPECT_DOUBLE_EQ(rig.readings[0].celsius, -20.125);
  s.stop();
  // A next read may be blocked again on the FIFO: release it (open for writing and close: EOF).
  release_fifo(rig, slave(dir), "", 100ms);
  rig.run_until([] { return false; }, 20ms);
}

// Two devices under `dir`: kDev, whose w1_slave is a FIFO nobody writes (a read that hangs),
// and another, returned, that reads -19.5 °C.
std::string hung_and_good(const TempDir& dir) {
  std::filesystem::create_directories(dir.path() / kDev);
  EXPECT_EQ(::mkfifo(slave(dir).c_str(), 0600), 0);
  const std::string other = "28-0000000000b2";
  put(dir.file(other + "/w1_slave"), w1_text(-19500));
  return other;
}

// A read that never returns (a hung bus master: here a FIFO nobody writes) must not hold the
// other probes of the driver behind it: past its deadline the probe reports a failing reading
// that names the file, its thread is left to that read, and the other probe's reads go on.
// When the read returns at last, its reading is reported as usual.
TEST(W1SensorTest, AHungReadIsReportedAndTheOtherProbesAreStillRead) {
  TempDir dir;
  const auto other = hung_and_good(dir);
  SensorRig rig;
  auto hung_options = rig.options("hung", 20ms);
  hung_options.read_deadline = 200ms;
  auto good_options = rig.options("good", 20ms);
  good_options.read_deadline = 200ms;
  const auto abandoned_before = BlockingReads::abandoned_threads();
  W1Sensor hung(rig.io, hung_options, w1_source(dir), rig.events());
  W1Sensor good(rig.io, good_options, {dir.path().string(), other}, rig.events());
  hung.start();
  good.start();
  auto count = [&](const std::string& probe, Quality q) {
    return std::count_if(rig.readings.begin(), rig.readings.end(),
                         [&](const Reading& r) { return r.probe == probe && r.quality == q; });
  };
  auto hung_reported = [&] { return count("hung", Quality::kNoData) > 0; };
  ASSERT_TRUE(rig.run_until(hung_reported, 5000ms));
  const auto good_then = count("good", Quality::kGood);
  // The good probe goes on being read (every 20 ms) with the hung read still in progress.
  ASSERT_TRUE(rig.run_until([&] { return count("good", Quality::kGood) >= good_then + 10; }, 5000ms));
  EXPECT_GE(BlockingReads::abandoned_threads(), abandoned_before + 1);
  auto it = std::find_if(rig.readings.begin(), rig.readings.end(),
                         [](const Reading& r) { return r.probe == "hung"; });
  ASSERT_NE(it, rig.readings.end());
  EXPECT_EQ(it->quality, Quality::kNoData);
  EXPECT_THAT(it->reason, HasSubstr("read of " + slave(dir) + " has not returned after 0.2 s"));
  EXPECT_EQ(count("hung", Quality::kNoData), 1);  // once per hung read, not once per tick
  EXPECT_EQ(count("good", Quality::kNoData), 0);
  // The "conversion" completes at last: that read's value is reported, and reads go on.
  ASSERT_TRUE(release_fifo(rig, slave(dir), w1_text(-20125)));
  ASSERT_TRUE(rig.run_until([&] { return count("hung", Quality::kGood) > 0; }, 5000ms));
  hung.stop();
  good.stop();
  release_fifo(rig, slave(dir), "", 100ms);  // a next read may be waiting in open() again
  rig.run_until([] { return false; }, 20ms);
}

// Before its deadline, a hung read holds one of the two w1 threads: the other probes are read
// by the other. Shutdown does not wait for it: the last driver of the kind going away waits a
// second for the read in progress, then leaves its thread to it.
TEST(W1SensorTest, AReadHangingBeforeItsDeadlineHoldsOneThreadAndNotTheShutdown) {
  TempDir dir;
  const auto other = hung_and_good(dir);
  SensorRig rig;
  auto options = rig.options("hung", 20ms);
  options.read_deadline = 3600s;  // never reached here
  const auto abandoned_before = BlockingReads::abandoned_threads();
  {
    W1Sensor hung(rig.io, options, w1_source(dir), rig.events());
    auto good_options = options;
    good_options.probe = "good";
    W1Sensor good(rig.io, good_options, {dir.path().string(), other}, rig.events());
    hung.start();
    good.start();
    ASSERT_TRUE(rig.run_until([&] { return rig.readings.size() >= 5; }));
    for (const auto& r : rig.readings) {
      EXPECT_EQ(r.probe, "good");
      EXPECT_EQ(r.quality, Quality::kGood) << r.reason;
    }
  }  // (this returned: before the fix it waited here for the read, forever)
  EXPECT_EQ(BlockingReads::abandoned_threads(), abandoned_before + 1);
  EXPECT_TRUE(release_fifo(rig, slave(dir)));  // the thread left behind ends
}

// A whole hung bus beside a good probe: more hung reads than the kind's two threads. The good
// probe is read at once all the same (the attack session: 25 hung w1 probes kept a good one
// offline for two minutes, two hung reads per 10 s deadline ahead of it).
TEST(W1SensorTest, ManyHungReadsDoNotHoldAGoodProbeBack) {
  TempDir dir;
  const auto other = hung_and_good(dir);
  SensorRig rig;
  auto options = rig.options("hung", 20ms);
  options.read_deadline = 3600s;  // never reached here
  std::vector<std::unique_ptr<W1Sensor>> hung;
  std::vector<std::string> fifos;
  for (int i = 0; i < 6; ++i) {
    const std::string dev = "28-00000000000" + std::to_string(i);
    std::filesystem::create_directories(dir.path() / dev);
    fifos.push_back(dir.file(dev + "/w1_slave"));
    ASSERT_EQ(::mkfifo(fifos.back().c_str(), 0600), 0);
    auto o = options;
    o.probe = "hung-" + std::to_string(i);
    hung.push_back(std::make_unique<W1Sensor>(rig.io, o, coldchain::W1Source{dir.path().string(), dev},
                                              rig.events()));
    hung.back()->start();
  }
  rig.run_until([] { return false; }, 50ms);  // every hung read is in open() by now
  auto good_options = options;
  good_options.probe = "good";
  W1Sensor good(rig.io, good_options, {dir.path().string(), other}, rig.events());
  good.start();
  EXPECT_TRUE(rig.run_until([&] { return rig.readings.size() >= 5; }, 3000ms));
  for (const auto& r : rig.readings) EXPECT_EQ(r.probe, "good");
  good.stop();
  for (auto& h : hung) h->stop();
  for (const auto& f : fifos) release_fifo(rig, f, "", 100ms);
  release_fifo(rig, slave(dir), "", 100ms);
  rig.run_until([] { return false; }, 50ms);
}

// A read that returned just past its deadline while the loop was busy: its `done` is queued
// behind the deadline's timer. It is not reported as hung, and its thread is not given up
// (review: abandon() took an idle thread, and a lost wake-up could then stall the queue).
TEST(BlockingReadsTest, AReadThatReturnedIsNotHungWhateverTheLoopRunsFirst) {
  boost::asio::io_context io;
  auto reads = BlockingReads::shared("test-returned", 1);
  const auto abandoned_before = BlockingReads::abandoned_threads();
  int done = 0, hung = 0;
  // The loop's first handler holds it until the 50 ms deadline is past and posts a second
  // one, which queues behind the reactor's turn: that turn collects the expired timer, so the
  // timer's handler comes next. The second handler lets the job return and waits until it has,
  // so its `done` is queued behind the timer: the timer runs with the job returned and not
  // finished (the case under test). Released by the loop, not timed by sleeps: under a loaded
  // machine a job that slept 100 ms started late and was hung indeed.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> returning{false};
  const auto start = std::chrono::steady_clock::now();
  boost::asio::post(io, [&] {
    std::this_thread::sleep_until(start + 80ms);
    boost::asio::post(io, [&] {
      release.set_value();
      for (int i = 0; i < 2000 && !returning.load(); ++i) std::this_thread::sleep_for(1ms);
      std::this_thread::sleep_for(200ms);  // the worker marks it returned and posts `done`
    });
  });
  reads->run(
      io, 50ms,
      [released, &returning] {
        released.wait_for(5s);  // (bounded: a test that failed early does not hang here)
        returning = true;
        return 7;
      },
      [&](int v) { done += v; }, [&] { ++hung; });
  io.run_for(2s);
  EXPECT_EQ(done, 7);
  EXPECT_EQ(hung, 0);
  EXPECT_EQ(BlockingReads::abandoned_threads(), abandoned_before);
  // The worker still serves the queue.
  io.restart();
  reads->run(io, 1s, [] { return 1; }, [&](int v) { done += v; }, [&] { ++hung; });
  io.run_for(2s);
  EXPECT_EQ(done, 8);
}

// Reads that wait for one another (the kernel runs one 1-Wire conversion at a time per bus
// master) are not hung: each gets its deadline plus the stagger for every read running when it
// started (review: 20 healthy probes read at once on one bus, the last done after ~15 s, would
// have been reported hung at 10 s every cycle). Without the stagger, some of these are.
TEST(BlockingReadsTest, ReadsWaitingForOneAnotherAreNotHung) {
  for (const bool staggered : {false, true}) {
    boost::asio::io_context io;
    auto reads = BlockingReads::shared(staggered ? "test-staggered" : "test-unstaggered", 1, true,
                                       staggered ? 300ms : 0ms);
    std::mutex bus;  // one conversion at a time
    std::atomic<int> returned{0};
    int done = 0, hung = 0;
    for (int i = 0; i < 5; ++i)
      reads->run(
          io, 250ms,
          [&bus, &returned] {
            std::lock_guard<std::mutex> lock(bus);
            std::this_thread::sleep_for(150ms);
            ++returned;
            return 1;
          },
          [&](int v) { done += v; }, [&] { ++hung; });
    io.run_for(3s);
    if (staggered) {
      EXPECT_EQ(done, 5);
      EXPECT_EQ(hung, 0);
    } else {
      EXPECT_GT(hung, 0);  // the last waited ~600 ms for the bus: past 250 ms
      for (int i = 0; i < 300 && returned < 5; ++i) std::this_thread::sleep_for(10ms);
      ASSERT_EQ(returned, 5);  // (the bus outlives its reads)
    }
  }
}

TEST(HwmonSensorTest, ReadsMillidegreesAndReportsLabelAndChipName) {
  TempDir dir;
  put(dir.file("hwmon3/name"), "ds_probe\n");
  put(dir.file("hwmon3/temp2_label"), "Freezer air\n");
  put(dir.file("hwmon3/temp2_input"), "-18500\n");
  SensorRig rig;
  HwmonSensor s(rig.io, rig.options("fz-air"), {dir.path().string(), "hwmon3/temp2_input"},
                rig.events());
  s.start();
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  EXPECT_EQ(rig.readings[0].quality, Quality::kGood);
  EXPECT_DOUBLE_EQ(rig.readings[0].celsius, -18.5);
  ASSERT_FALSE(rig.statuses.empty());
  EXPECT_THAT(rig.statuses[0].second, HasSubstr("chip ds_probe, label Freezer air"));
  EXPECT_FALSE(rig.statuses[0].first);
}

TEST(HwmonSensorTest, GarbageAndVanishedAreNoDataWithTheirReasons) {
  TempDir dir;
  put(dir.file("hwmon0/temp1_input"), "41000\n");
  SensorRig rig;
  HwmonSensor s(rig.io, rig.options("cpu"), {dir.path().string() + "/", "hwmon0/temp1_input"},
                rig.events());
  s.start();
  ASSERT_GE(rig.wait_reading(0, [](const Reading& r) { return r.quality == Quality::kGood; }), 0);
  EXPECT_THAT(rig.statuses[0].second, HasSubstr("(no label)"));
  put(dir.file("hwmon0/temp1_input"), "4l000\n");
  auto bad = rig.wait_reading(0, [](const Reading& r) { return r.quality != Quality::kGood; });
  ASSERT_GE(bad, 0);
  EXPECT_EQ(rig.readings[static_cast<std::size_t>(bad)].quality, Quality::kNoData);
  EXPECT_THAT(rig.readings[static_cast<std::size_t>(bad)].reason,
              HasSubstr("malformed hwmon value \"4l000\""));
  std::filesystem::remove(dir.file("hwmon0/temp1_input"));
  auto gone = rig.wait_reading(
      0, [](const Reading& r) { return r.reason.find("vanished") != std::string::npos; });
  ASSERT_GE(gone, 0);
  EXPECT_EQ(rig.readings[static_cast<std::size_t>(gone)].reason,
            "device vanished: " + dir.file("hwmon0/temp1_input") + ": No such file or directory");
  put(dir.file("hwmon0/temp1_input"), "39000\n");
  auto back = rig.wait_reading(static_cast<std::size_t>(gone),
                               [](const Reading& r) { return r.quality == Quality::kGood; });
  ASSERT_GE(back, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(back)].celsius, 39.0);
}

// The simulator on the loop: each read takes the clock (one second apart in this rig), so the
// readings are the profile at 1, 2, 3... seconds after start.
TEST(SimSensorTest, ReadsTheProfileAtTheElapsedTimeOfTheClock) {
  coldchain::SimSource src;
  src.profile = "drift";
  src.base_c = 0;
  src.to_c = 10;
  src.duration_s = 10;
  SensorRig rig;
  SimSensor s(rig.io, rig.options("sim-1", 5ms), src, rig.events());
  s.start();
  ASSERT_TRUE(rig.run_until([&] { return rig.readings.size() >= 12; }));
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(rig.readings[i].quality, Quality::kGood);
    EXPECT_DOUBLE_EQ(rig.readings[i].celsius, std::min(10.0, static_cast<double>(i + 1))) << i;
  }
}

TEST(MakeSensorTest, BuildsTheDriverTheConfigNames) {
  TempDir dir;
  put(slave(dir), w1_text(2500));
  coldchain::SensorConfig c;
  c.id = "w";
  c.driver = coldchain::Driver::kW1;
  c.read_interval_s = 1;
  c.w1 = w1_source(dir);
  SensorRig rig;
  auto s = make_sensor(rig.io, c, rig.events(), rig.clock());
  s->start();  // the first read is immediate; the next would be a second later
  ASSERT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  EXPECT_DOUBLE_EQ(rig.readings[0].celsius, 2.5);
  EXPECT_EQ(rig.readings[0].probe, "w");
  c.driver = coldchain::Driver::kSim;
  c.id = "s";
  c.sim.base_c = -21;
  auto sim = make_sensor(rig.io, c, rig.events(), rig.clock());
  sim->start();
  auto i = rig.wait_reading(1, [](const Reading& r) { return r.probe == "s"; });
  ASSERT_GE(i, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(i)].celsius, -21.0);
}

// The MQTT driver's verdict on one payload (the broker round trip is in
// tests/integration/sensor_mqtt_test.cpp).
TEST(MqttValueTest, TheNumberAtThePointerOrWhyNot) {
  auto z = mqtt_value(R"({"temperature":4.2,"humidity":61})", "/temperature");
  EXPECT_EQ(z.quality, Quality::kGood);
  EXPECT_DOUBLE_EQ(z.celsius, 4.2);
  EXPECT_DOUBLE_EQ(
      mqtt_value(R"({"DS18B20":{"Temperature":-19.4}})", "/DS18B20/Temperature").celsius, -19.4);
  EXPECT_DOUBLE_EQ(mqtt_value(R"({"tC":7})", "/tC").celsius, 7.0);
  // A door contact (Zigbee2MQTT `contact`): booleans read as 1/0, only when asked for.
  EXPECT_EQ(mqtt_value(R"({"contact":false})", "/contact", true).celsius, 0.0);
  EXPECT_EQ(mqtt_value(R"({"contact":true})", "/contact", true).celsius, 1.0);
  EXPECT_EQ(mqtt_value(R"({"contact":true})", "/contact", true).quality, Quality::kGood);
  EXPECT_EQ(mqtt_value(R"({"contact":true})", "/contact").quality, Quality::kNoData)
      << "a temperature probe does not read true as 1 degree";
  EXPECT_DOUBLE_EQ(mqtt_value("-3.5", "").celsius, -3.5);  // a bare number, pointer ""
  EXPECT_DOUBLE_EQ(mqtt_value(R"({"s":[1.5,2.5]})", "/s/1").celsius, 2.5);
  auto bad = mqtt_value("{\"temperature\":", "/temperature");
  EXPECT_EQ(bad.quality, Quality::kNoData);
  EXPECT_EQ(bad.reason, "payload is not JSON: \"{\\\"temperature\\\":\"");
  EXPECT_EQ(mqtt_value("", "/t").reason, "empty payload");
  EXPECT_EQ(mqtt_value(R"({"t":null})", "/t").reason, "not a number at JSON pointer /t: null");
  EXPECT_EQ(mqtt_value(R"({"t":true})", "/t").reason, "not a number at JSON pointer /t: true");
  EXPECT_EQ(mqtt_value(R"({"a":1})", "/t").reason, "JSON pointer /t missing in payload");
  EXPECT_EQ(mqtt_value(R"({"a":1})", "/a~2").reason, "JSON pointer /a~2 missing in payload");
}

// Found by the mqtt_value fuzzer: the pointer went raw into the reason, so a pointer with a
// byte that is not UTF-8 made a reason that is not either (the reason goes into logs and JSON).
TEST(MqttValueTest, AReasonIsUtf8WhateverThePointerHolds) {
  for (const std::string& pointer : {std::string("/t\xff"), std::string("/\x01\x00", 3) + "a"}) {
    auto missing = mqtt_value(R"({"t":1})", pointer);
    EXPECT_EQ(missing.quality, Quality::kNoData);
    EXPECT_TRUE(depot::valid_utf8(missing.reason)) << missing.reason;
    EXPECT_EQ(missing.reason.find('\x01'), std::string::npos) << missing.reason;
  }
  auto bad_byte = mqtt_value(R"({"t":1})", "/t\xff");
  EXPECT_EQ(bad_byte.reason, "JSON pointer /t\\xff missing in payload");
}

// Deep nesting overflowed the stack of the recursive parser (SIGSEGV); invalid UTF-8 went on
// into JSON. Both are refused with the reason, as a reading without a value.
TEST(MqttValueTest, DeepNestingAndInvalidUtf8AreRefusedWithAReason) {
  auto nested = [](std::size_t n) {
    return R"({"temperature": )" + std::string(n, '[') + "4.2" + std::string(n, ']') + "}";
  };
  auto d = mqtt_value(nested(30000), "/temperature");  // within the size bound: the depth one
  EXPECT_EQ(d.quality, Quality::kNoData);
  EXPECT_THAT(d.reason, ::testing::HasSubstr("payload refused: nested deeper than 16"));
  const auto n60 = nested(60000);  // the trial's: over the size bound
  auto d60 = mqtt_value(n60, "/temperature");
  EXPECT_EQ(d60.quality, Quality::kNoData);
  EXPECT_EQ(d60.reason, "payload refused: it is " + std::to_string(n60.size()) +
                            " bytes; at most 65536 are accepted");
  auto u = mqtt_value("{\"temperature\": 4.2, \"name\": \"qa\xff\"}", "/temperature");
  EXPECT_EQ(u.quality, Quality::kNoData);
  EXPECT_THAT(u.reason, ::testing::HasSubstr("payload is not JSON"));
  auto big = mqtt_value(R"({"temperature": 4.2, "pad": ")" + std::string(70000, 'x') + "\"}",
                        "/temperature");
  EXPECT_EQ(big.quality, Quality::kNoData);
  EXPECT_THAT(big.reason, ::testing::HasSubstr("payload refused"));
}

}  // namespace
}  // namespace depot::drivers
