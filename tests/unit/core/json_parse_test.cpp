#include "core/json_parse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace depot {
namespace {

std::string error_of(std::string_view text, JsonLimits limits = {}) {
  auto r = parse_json(text, limits);
  return r ? std::string() : r.error().message;
}

TEST(ParseJson, ReadsAnOrdinaryDocument) {
  auto r = parse_json(R"({"a":[1,2,{"b":"c"}],"d":-1.5,"e":null,"f":true})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["a"][2]["b"], "c");
  EXPECT_EQ((*r)["d"], -1.5);
  EXPECT_TRUE((*r)["e"].is_null());
  EXPECT_EQ(parse_json("7").value(), 7);
}

TEST(ParseJson, RefusesDeepNestingWithoutRecursing) {
  std::string deep(60000, '[');  // 60,000 levels: the trial's stack overflow
  EXPECT_EQ(error_of(deep), "nested deeper than 32 levels");
  std::string obj;
  for (int i = 0; i < 60000; ++i) obj += "{\"temperature\":";
  EXPECT_EQ(error_of(obj), "nested deeper than 32 levels");
  std::string ok32(32, '[');
  ok32 += std::string(32, ']');
  EXPECT_EQ(error_of(ok32), "");
  EXPECT_EQ(error_of("[[[" "]]]", JsonLimits{100, 2}), "nested deeper than 2 levels");
}

// Issue 18: a big top-level array (the config's catalog) is handed over element by element,
// never held as a tree; the same array name deeper down is parsed as usual.
TEST(ParseJson, StreamsOneTopLevelArrayElementByElement) {
  std::vector<std::pair<std::size_t, std::string>> seen;
  ArrayStream stream{"catalog", [&](const nlohmann::json& e, std::size_t i) {
                       seen.emplace_back(i, e.dump());
                     }};
  auto r = parse_json(R"({"a":1,"catalog":[{"sku":"X","b":[1,{"c":2}]},7,[3],null],
                          "z":{"catalog":[9]}})",
                      {}, stream);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], (std::pair<std::size_t, std::string>{0, R"({"b":[1,{"c":2}],"sku":"X"})"}));
  EXPECT_EQ(seen[1], (std::pair<std::size_t, std::string>{1, "7"}));
  EXPECT_EQ(seen[2], (std::pair<std::size_t, std::string>{2, "[3]"}));
  EXPECT_EQ(seen[3], (std::pair<std::size_t, std::string>{3, "null"}));
  EXPECT_EQ((*r)["catalog"], nlohmann::json::array());  // nothing kept
  EXPECT_EQ((*r)["z"]["catalog"], nlohmann::json::array({9}));
  EXPECT_EQ((*r)["a"], 1);
}

TEST(ParseJson, AStreamedArrayKeepsTheLimits) {
  std::size_t calls = 0;
  ArrayStream stream{"catalog", [&](const nlohmann::json&, std::size_t) { ++calls; }};
  // A second "catalog" is a duplicate key, as without streaming.
  auto dup = parse_json(R"({"catalog":[1],"catalog":[2]})", {}, stream);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "duplicate key \"catalog\"");
  // Kept first only when asked (to find a refused text's id), bounded as ever.
  JsonLimits first;
  first.first_of_duplicates = true;
  auto kept = parse_json(R"({"a":1,"b":{"x":[1]},"a":{"y":[2,[3]]},"b":5})", first);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(*kept, nlohmann::json::parse(R"({"a":1,"b":{"x":[1]}})"));
  first.max_depth = 2;
  EXPECT_FALSE(parse_json(R"({"a":1,"a":[[[1]]]})", first));
  // Depth counts from the document's top inside a streamed element too.
  auto deep = parse_json(R"({"catalog":[[[[1]]]]})", JsonLimits{1 << 20, 4}, stream);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message, "nested deeper than 4 levels");
  // A duplicate key inside an element is refused.
  auto inner = parse_json(R"({"catalog":[{"sku":"A","sku":"B"}]})", {}, stream);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().message, "duplicate key \"sku\"");
  // Not an array, or not at the top: nothing is streamed.
  calls = 0;
  auto obj = parse_json(R"({"catalog":{"x":[1]}})", {}, stream);
  ASSERT_TRUE(obj.ok());
  auto arr = parse_json(R"([{"catalog":[1]}])", {}, stream);
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ((*arr)[0]["catalog"], nlohmann::json::array({1}));
}

TEST(ParseJson, RefusesSizeOverTheLimit) {
  EXPECT_EQ(error_of(R"({"a":"0123456789"})", JsonLimits{10, 8}),
            "the JSON text is 18 bytes; at most 10 are accepted");
}

TEST(ParseJson, RefusesDuplicateKeysAtAnyLevel) {
  EXPECT_EQ(error_of(R"({"qty":1,"qty":2})"), "duplicate key \"qty\"");
  EXPECT_EQ(error_of(R"({"a":{"b":1,"b":1}})"), "duplicate key \"b\"");
  EXPECT_EQ(error_of(R"([{"b":1},{"b":1}])"), "");  // same key in two objects is fine
}

TEST(ParseJson, RefusesTrailingBytesIncludingNul) {
  EXPECT_NE(error_of("{} x").find("not valid JSON"), std::string::npos);
  std::string with_nul("{}\0", 3);
  EXPECT_EQ(error_of(with_nul), "not valid JSON: a NUL byte at byte 2");
  std::string nul_then_junk("{}\0{\"x\":1}", 10);
  EXPECT_EQ(error_of(nul_then_junk), "not valid JSON: a NUL byte at byte 2");
  EXPECT_NE(error_of("{}{}").find("at line 1, column 3"), std::string::npos);
  EXPECT_EQ(error_of("{} \n"), "");  // trailing whitespace is fine
}

TEST(ParseJson, RefusesNumbersThatOverflow) {
  EXPECT_NE(error_of(R"({"x":1e400})").find("out of range"), std::string::npos);
  EXPECT_NE(error_of(R"({"x":-1e400})").find("out of range"), std::string::npos);
  auto big = parse_json("18446744073709551616");  // past uint64: a double, finite
  ASSERT_TRUE(big);
  EXPECT_TRUE(big->is_number_float());
}

TEST(ParseJson, InvalidUtf8IsRefusedWithAPrintableMessage) {
  std::string bad = "{\"who\":\"qa\xff\"}";
  std::string e = error_of(bad);
  ASSERT_NE(e, "");
  EXPECT_TRUE(valid_utf8(e)) << e;
  // The message itself can go into a JSON reply.
  EXPECT_NO_THROW((void)nlohmann::json(e).dump());
}

TEST(Utf8, AcceptsWellFormedAndRefusesTheRest) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("qa"));
  EXPECT_TRUE(valid_utf8("\xe5\x86\xb7\xe5\x86\xbb"));  // 冷冻
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x93\xa6"));          // U+1F4E6
  EXPECT_FALSE(valid_utf8("qa\xff"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe5\x86"));          // cut short
}

TEST(Utf8, PrintableEscapesWhatJsonCannotCarry) {
  EXPECT_EQ(printable("qa\xff"), "qa\\xff");
  EXPECT_EQ(printable("a\tb"), "a\\x09b");
  EXPECT_EQ(printable("\xe5\x86\xb7"), "\xe5\x86\xb7");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  // Bidirectional overrides and isolates would reorder a log line on screen: shown as \u.
  EXPECT_EQ(printable("a\xe2\x80\xae" "cba"), "a\\u202e" "cba");      // U+202E RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(printable("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");  // isolates
  EXPECT_EQ(printable("\xe2\x80\x94"), "\xe2\x80\x94");          // an em dash stays
}

TEST(Utf8, TextProblemNamesTheField) {
  EXPECT_EQ(text_problem("--who", "qa", 64), "");
  EXPECT_EQ(text_problem("--who", "qa\xff", 64), "--who: \"qa\\xff\" is not valid UTF-8");
  EXPECT_EQ(text_problem("--who", "a\nb", 64), "--who: \"a\\x0ab\" contains a control character");
  EXPECT_EQ(text_problem("--who", std::string(65, 'a'), 64),
            "--who: 65 bytes; at most 64 are accepted");
  // The bidirectional overrides are refused in stored texts ("Ana" and U+202E read "Ana" then
  // the rest backwards in the audit trail); embeddings and isolates (i18n libraries, exported
  // Arabic and Hebrew names) and text in any script stay.
  EXPECT_EQ(text_problem("--who", "Ana\xe2\x80\xae" "gnorw", 64),
            "--who: \"Ana\\u202egnorw\" contains a bidirectional override");
  EXPECT_EQ(text_problem("--why", "\xe2\x80\xadx", 64),
            "--why: \"\\u202dx\" contains a bidirectional override");
  EXPECT_EQ(text_problem("--why", "\xe2\x80\xabx\xe2\x80\xac \xe2\x81\xa8y\xe2\x81\xa9", 64), "");
  EXPECT_EQ(text_problem("--why", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x80\x94 ok", 64), "");
  EXPECT_EQ(text_problem("--why", "\xe2\x80\xaf\xe2\x81\xa5", 64), "");  // U+202F, U+2065
}

}  // namespace
}  // namespace depot
