// storage/json.h — a minimal JSON text writer for the export (also used by scan for its run
// options and by report/ for its JSON format). It owns the escaping rules: every string is
// emitted as valid JSON whatever bytes it holds (names and error texts come from the network),
// with ill-formed UTF-8 replaced by U+FFFD.
//
// Why not nlohmann-json3 (a Debian package): it throws on invalid UTF-8 by default, builds a DOM
// per line we do not need, and the export's shape is fixed — forty lines do the job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace danescan::storage::json {

// Appends `text` as a JSON string literal (with the quotes) to `out`.
void appendString(std::string& out, std::string_view text);

// Builds one JSON value into a string. The caller keeps the structure right (keys inside
// objects only); commas are placed automatically.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& beginObject() { return open('{'); }
  Writer& endObject() { return close('}'); }
  Writer& beginArray() { return open('['); }
  Writer& endArray() { return close(']'); }
  Writer& key(std::string_view name);
  Writer& value(std::string_view text);
  Writer& value(const char* text) { return value(std::string_view(text)); }
  Writer& value(const std::string& text) { return value(std::string_view(text)); }
  Writer& value(const std::optional<std::string>& text);  // null when empty
  Writer& value(bool b);
  Writer& value(int64_t n);
  Writer& null();
  Writer& raw(std::string_view json);  // already valid JSON

 private:
  Writer& open(char c);
  Writer& close(char c);
  void separate();

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace danescan::storage::json
