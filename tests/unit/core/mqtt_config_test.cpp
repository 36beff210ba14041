#include "core/mqtt_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.hpp"

namespace depot {
namespace {
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

ConfigResult with_mqtt(const std::string& mqtt) {
  return parse_config(R"({"site":"s1","gateway":"g1","database":"x.db","mqtt":)" + mqtt + "}");
}

TEST(MqttConfig, AbsentSectionMeansSyncOff) {
  auto r = parse_config(R"({"site":"s1","gateway":"g1","database":"x.db"})");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->mqtt);
}

TEST(MqttConfig, HostAloneGetsDocumentedDefaults) {
  auto r = with_mqtt(R"({"host":"broker.example"})");
  ASSERT_TRUE(r.config) << r.problems[0];
  const auto& m = *r.config->mqtt;
  EXPECT_EQ(m.host, "broker.example");
  EXPECT_EQ(m.port, 1883);
  EXPECT_EQ(m.protocol, MqttProtocol::kV311);
  EXPECT_EQ(m.client_id, "s1-g1");
  EXPECT_FALSE(m.tls);
  EXPECT_EQ(m.keepalive_s, 30);
  EXPECT_EQ(m.max_inflight, 16);
  EXPECT_EQ(m.batch_records, 200);
  EXPECT_EQ(m.batch_bytes, 65536);
  EXPECT_EQ(m.drain_per_s, 2000);
  EXPECT_EQ(m.outbox_budget_mb, 256);
  EXPECT_EQ(m.backoff_min_s, 1);
  EXPECT_EQ(m.backoff_max_s, 300);
  EXPECT_EQ(m.hmac_secret_file, "");
}

// Site and gateway may be 64 characters each: their default client id would be 129, which
// brokers refuse (issue 13: a client id over 128 bytes is refused by check).
TEST(MqttConfig, ADefaultClientIdOver128CharactersIsAProblem) {
  const std::string site(64, 's'), gateway(64, 'g');
  auto r = parse_config(R"({"site":")" + site + R"(","gateway":")" + gateway +
                        R"(","database":"x.db","mqtt":{"host":"b"}})");
  EXPECT_THAT(r.problems, UnorderedElementsAre(HasSubstr(
                              "mqtt.client_id: the default \"{site}-{gateway}\" is 129 characters")));
  r = parse_config(R"({"site":")" + site + R"(","gateway":")" + gateway +
                   R"(","database":"x.db","mqtt":{"host":"b","client_id":"gw-7"}})");
  EXPECT_TRUE(r.config) << r.problems[0];
}

TEST(MqttConfig, TlsDefaultsThePortTo8883AndTakesMutualTls) {
  auto r = with_mqtt(
      R"({"host":"b","protocol":"5","tls":{"ca":"ca.pem","cert":"gw.pem","key":"gw.key"}})");
  ASSERT_TRUE(r.config) << r.problems[0];
  EXPECT_EQ(r.config->mqtt->port, 8883);
  EXPECT_EQ(r.config->mqtt->protocol, MqttProtocol::kV5);
  EXPECT_EQ(r.config->mqtt->tls->cert, "gw.pem");
}

TEST(MqttConfig, EveryProblemNamesPathValueAndRule) {
  auto r = with_mqtt(R"({"port":0,"protocol":"4","tls":{"cert":"c.pem"},"max_inflight":0,
    "backoff_min_s":10,"backoff_max_s":5,"client_id":"a/b","colour":1})");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(r.problems,
              UnorderedElementsAre("mqtt.host: is required", "mqtt.tls.ca: is required",
                                   HasSubstr("mqtt.tls.key: is required when cert is given"),
                                   "mqtt.port: 0 must be between 1 and 65535",
                                   HasSubstr("mqtt.protocol: \"4\" must be one of"),
                                   HasSubstr("mqtt.client_id: \"a/b\" must be"),
                                   "mqtt.max_inflight: 0 must be between 1 and 1000",
                                   "mqtt.backoff_max_s: 5 must not be less than backoff_min_s 10",
                                   HasSubstr("mqtt.colour: unknown key")));
}

// A whole number too large for 64 bits arrives as a float: it is out of range, not "not an
// integer" (the attack session's port 18446744073709551616 was told it must be an integer).
TEST(MqttConfig, AHugeWholeNumberIsOutOfRangeNotAFloat) {
  auto r = with_mqtt(R"({"host":"b","port":18446744073709551616})");
  EXPECT_THAT(r.problems,
              UnorderedElementsAre("mqtt.port: 1.8446744073709552e+19 must be between 1 and 65535"));
  r = with_mqtt(R"({"host":"b","port":9223372036854775808})");
  EXPECT_THAT(r.problems,
              UnorderedElementsAre("mqtt.port: 9223372036854775808 must be between 1 and 65535"));
  r = with_mqtt(R"({"host":"b","port":1e400})");  // not finite: not a whole number either
  EXPECT_FALSE(r.config);
  r = with_mqtt(R"({"host":"b","port":1883.5})");
  EXPECT_THAT(r.problems, UnorderedElementsAre(HasSubstr("mqtt.port: 1883.5 must be an integer")));
}

// Issue 13: a batch larger than the broker's maximum packet is refused forever; check caps
// batch_bytes to what the broker accepts (max_packet_bytes, default 131072 as on AWS IoT).
TEST(MqttConfig, BatchBytesMustFitTheBrokersMaximumPacket) {
  auto r = with_mqtt(R"({"host":"b"})");
  ASSERT_TRUE(r.config) << r.problems[0];
  EXPECT_EQ(r.config->mqtt->max_packet_bytes, 131072);
  r = with_mqtt(R"({"host":"b","batch_bytes":131072})");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(r.problems,
              UnorderedElementsAre(
                  "mqtt.batch_bytes: 131072 plus 1024 bytes for topic, properties and headers "
                  "must not exceed max_packet_bytes 131072"));
  r = with_mqtt(R"({"host":"b","batch_bytes":131072,"max_packet_bytes":132096})");
  EXPECT_TRUE(r.config) << r.problems[0];
  r = with_mqtt(R"({"host":"b","max_packet_bytes":9215})");
  EXPECT_THAT(r.problems, ::testing::Contains(HasSubstr(
                              "mqtt.max_packet_bytes: 9215 must be between 9216 and 268435455")));
}

}  // namespace
}  // namespace depot
