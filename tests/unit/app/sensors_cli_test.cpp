// `depot-agent sensors discover` as an operator runs it: the real binary over fake sysfs trees.
#include <gmock/gmock.h>
#include <sys/stat.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "drivers/sensor_test_support.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using ::testing::HasSubstr;

class SensorsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    w1_ = dir_.path().string() + "/w1";
    hwmon_ = dir_.path().string() + "/hwmon";
    test::put(w1_ + "/28-0316a2791aff/w1_slave", test::w1_text(-19125));
    test::put(w1_ + "/28-0316a2791b00/w1_slave", test::w1_text(4000, "NO"));
    test::put(w1_ + "/w1_bus_master1/name", "w1_bus_master1\n");  // not a probe
    test::put(hwmon_ + "/hwmon0/name", "coretemp\n");
    test::put(hwmon_ + "/hwmon0/temp1_input", "41000\n");
    test::put(hwmon_ + "/hwmon0/temp1_label", "Package id 0\n");
    test::put(hwmon_ + "/hwmon0/temp10_input", "38000\n");
    test::put(hwmon_ + "/hwmon0/temp2_input", "39000\n");
    test::put(hwmon_ + "/hwmon0/in0_input", "1200\n");  // a voltage: not listed
  }
  test::TempDir dir_;
  std::string w1_, hwmon_;
};

TEST_F(SensorsCli, ListsProbesWithLabelsAndOneReadingAsJson) {
  auto r =
      test::run_agent({"sensors", "discover", "--w1-root", w1_, "--hwmon-root", hwmon_, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["w1"].size(), 2u);
  EXPECT_EQ(j["w1"][0]["device"], "28-0316a2791aff");
  EXPECT_EQ(j["w1"][0]["quality"], "good");
  EXPECT_DOUBLE_EQ(j["w1"][0]["celsius"].get<double>(), -19.125);
  EXPECT_EQ(j["w1"][1]["quality"], "crc_failed");
  EXPECT_EQ(j["w1"][1]["reason"], "CRC mismatch (crc=57 NO)");
  ASSERT_EQ(j["hwmon"].size(), 3u);
  EXPECT_EQ(j["hwmon"][0]["input"], "hwmon0/temp1_input");
  EXPECT_EQ(j["hwmon"][0]["name"], "coretemp");
  EXPECT_EQ(j["hwmon"][0]["label"], "Package id 0");
  EXPECT_DOUBLE_EQ(j["hwmon"][0]["celsius"].get<double>(), 41.0);
  EXPECT_EQ(j["hwmon"][1]["input"], "hwmon0/temp2_input");  // natural order: 2 before 10
  EXPECT_EQ(j["hwmon"][2]["input"], "hwmon0/temp10_input");
  EXPECT_EQ(j["hwmon"][2]["label"], "");
  EXPECT_TRUE(j["problems"].empty());
}

// Probes whose reads never return (a hung bus: here FIFOs nobody writes) are reported after
// the drivers' 10 s deadline and the other probes are listed (it waited forever). The reads
// start together, so four hung probes cost one deadline, not four (it took 40 s).
TEST_F(SensorsCli, HungReadsAreReportedTogetherAndTheOthersAreListed) {
  for (const char* dev : {"28-0316a2791a00", "28-0316a2791a01", "28-0316a2791a02"}) {
    std::filesystem::create_directories(w1_ + "/" + dev);
    ASSERT_EQ(::mkfifo((w1_ + "/" + dev + "/w1_slave").c_str(), 0600), 0);
  }
  ASSERT_EQ(::mkfifo((hwmon_ + "/hwmon0/temp3_input").c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto r =
      test::run_agent({"sensors", "discover", "--w1-root", w1_, "--hwmon-root", hwmon_, "--json"});
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["w1"].size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j["w1"][i]["quality"], "no_data");
    EXPECT_EQ(j["w1"][i]["reason"],
              "read of " + w1_ + "/" + j["w1"][i]["device"].get<std::string>() +
                  "/w1_slave has not returned after 10 s (the device or its driver hangs)");
  }
  EXPECT_EQ(j["w1"][0]["device"], "28-0316a2791a00");
  EXPECT_EQ(j["w1"][3]["quality"], "good");
  ASSERT_EQ(j["hwmon"].size(), 4u);
  EXPECT_EQ(j["hwmon"][2]["input"], "hwmon0/temp3_input");
  EXPECT_THAT(j["hwmon"][2]["reason"].get<std::string>(),
              HasSubstr("temp3_input has not returned after 10 s"));
  EXPECT_EQ(j["hwmon"][3]["quality"], "good");
  // One deadline for all four: one after another they took 40 s.
  EXPECT_LT(took, std::chrono::seconds(25));
}

TEST_F(SensorsCli, TextOutputShowsTheConfigToWrite) {
  auto r = test::run_agent({"sensors", "discover", "--w1-root", w1_, "--hwmon-root", hwmon_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("28-0316a2791aff  -19.125 °C"));
  EXPECT_THAT(r.out, HasSubstr("\"driver\": \"w1\", \"w1\": {\"device\": \"28-0316a2791aff\", "
                               "\"root\": \"" +
                               w1_ + "\"}"));
  EXPECT_THAT(r.out, HasSubstr("hwmon0/temp1_input  name coretemp  label \"Package id 0\"  41 °C"));
}

TEST_F(SensorsCli, MissingRootsAndBadArguments) {
  auto one = test::run_agent(
      {"sensors", "discover", "--w1-root", dir_.file("none"), "--hwmon-root", hwmon_});
  EXPECT_EQ(one.code, 0);
  EXPECT_THAT(one.err,
              HasSubstr("cannot list " + dir_.file("none") + ": No such file or directory"));
  auto both = test::run_agent(
      {"sensors", "discover", "--w1-root", dir_.file("none"), "--hwmon-root", dir_.file("none2")});
  EXPECT_EQ(both.code, 1);
  auto sub = test::run_agent({"sensors", "list"});
  EXPECT_EQ(sub.code, 2);
  EXPECT_THAT(sub.err, HasSubstr("give a subcommand"));
  auto opt = test::run_agent({"sensors", "discover", "--w2-root", "x"});
  EXPECT_EQ(opt.code, 2);
}

}  // namespace
}  // namespace depot
