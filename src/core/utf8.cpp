#include "core/utf8.hpp"

#include <utility>

namespace portico::core {

namespace {

// The bytes at in[i...] (i < in.size()): {length, true} for a well-formed sequence, or
// {length, false} for the maximal broken prefix that one U+FFFD replaces (Unicode's "maximal
// subpart" practice, as Python does).
std::pair<std::size_t, bool> utf8_sequence(std::string_view in, std::size_t i) {
  auto b = static_cast<unsigned char>(in[i]);
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b < 0x80) return {1, true};
  if (b >= 0xC2 && b <= 0xDF) len = 2;
  else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return {1, false};
  }
  std::size_t good = 1;  // the lead byte and the continuation bytes that fit
  for (std::size_t k = 1; good == k && k < len && i + k < in.size(); ++k) {
    auto cb = static_cast<unsigned char>(in[i + k]);
    if (k == 1 ? (cb >= lo && cb <= hi) : (cb >= 0x80 && cb <= 0xBF)) ++good;
  }
  return {good, good == len};
}

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    auto [len, ok] = utf8_sequence(in, i);
    out.append(ok ? in.substr(i, len) : replacement);
    i += len;
  }
  return out;
}

void append_json_string(std::string& out, std::string_view in) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < in.size()) {
    // A run of plain printable ASCII is copied at once.
    std::size_t run = i;
    while (run < in.size()) {
      auto c = static_cast<unsigned char>(in[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(in.substr(i, run - i));
    i = run;
    if (i == in.size()) break;
    auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) {
      auto [len, ok] = utf8_sequence(in, i);
      out.append(ok ? in.substr(i, len) : replacement);
      i += len;
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out += '"';
}


}  // namespace portico::core
