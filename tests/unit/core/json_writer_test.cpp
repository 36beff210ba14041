#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace depot {
namespace {

TEST(JsonWriter, WritesAnObjectNlohmannReadsBack) {
  std::string out;
  JsonObjectWriter w(out);
  w.field("s", std::string_view("a\"b\\c\nd\x1d" "e"))
      .field("n", std::int64_t{-42})
      .field("t", true)
      .field("o", std::optional<std::string>())
      .field("u", "na\xc3\xafve");
  w.close();
  EXPECT_EQ(out, R"({"s":"a\"b\\c\nd\u001de","n":-42,"t":true,"o":null,"u":"na)" "\xc3\xaf" R"(ve"})");
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["s"], "a\"b\\c\nd\x1d" "e");
  EXPECT_EQ(j["n"], -42);
  EXPECT_TRUE(j["o"].is_null());
}

TEST(JsonWriter, EmptyObject) {
  std::string out;
  JsonObjectWriter(out).close();
  EXPECT_EQ(out, "{}");
}

#ifndef NDEBUG
// Keys are copied as they are (the program's own names); one that would need an escape is a
// programming error, caught in debug builds.
TEST(JsonWriterDeathTest, KeyThatNeedsAnEscapeIsRefused) {
  EXPECT_DEATH(
      {
        std::string out;
        JsonObjectWriter(out).field("a\"b", std::int64_t{1});
      },
      "");
}
#endif

}  // namespace
}  // namespace depot
