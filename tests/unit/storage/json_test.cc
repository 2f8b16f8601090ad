// tests/unit/storage/json_test.cc — JSON string escaping: every input yields a valid JSON string;
// well-formed UTF-8 passes through, ill-formed bytes become U+FFFD one for one.
#include "storage/json.h"

#include <gtest/gtest.h>

namespace danescan::storage::json {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  appendString(out, text);
  return out;
}

constexpr std::string_view kFffd = "\xef\xbf\xbd";

TEST(JsonTest, EscapesQuotesBackslashAndControlCharacters) {
  EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(quoted(std::string_view("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(quoted(""), R"("")");
}

TEST(JsonTest, WellFormedUtf8PassesThrough) {
  EXPECT_EQ(quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"");
}

TEST(JsonTest, IllFormedUtf8BecomesReplacementCharacters) {
  const std::string r(kFffd);
  EXPECT_EQ(quoted("\xff"), "\"" + r + "\"");
  EXPECT_EQ(quoted("a\xc3"), "\"a" + r + "\"");                        // truncated at the end
  EXPECT_EQ(quoted("\xc0\xaf"), "\"" + r + r + "\"");                  // overlong '/'
  EXPECT_EQ(quoted("\xed\xa0\x80"), "\"" + r + r + r + "\"");          // a UTF-16 surrogate
  EXPECT_EQ(quoted("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // above U+10FFFF
  EXPECT_EQ(quoted("\xe2\x82x"), "\"" + r + r + "x\"");                // cut short mid-sequence
}

TEST(JsonTest, WriterPlacesCommas) {
  std::string out;
  Writer w(out);
  w.beginObject().key("a").beginArray().value(int64_t{1}).value(true).null().endArray();
  w.key("b").value(std::optional<std::string>{}).key("c").beginObject().endObject().endObject();
  EXPECT_EQ(out, R"({"a":[1,true,null],"b":null,"c":{}})");
}

}  // namespace
}  // namespace danescan::storage::json
