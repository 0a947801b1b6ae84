// ls output (filesystem/ls_parse.hpp) and the JSON written of each entry (filesystem/ls_json.hpp).
// Input: what `ls -l --quoting-style=c ...` printed, the cluster being the attacker (any user
// names any file).
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "filesystem/ls_json.hpp"
#include "filesystem/ls_parse.hpp"
#include "filesystem/paths.hpp"
#include "fuzz_support.hpp"

namespace fs = portico::filesystem;
namespace json = boost::json;

namespace {

// The C quoting ls prints: a name written this way is read back as the same bytes.
std::string c_quoted(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    }
  }
  return out + "\"";
}

// The entry printed again as ls prints it.
std::string ls_line(const fs::LsEntry& e) {
  std::string line = std::string(1, e.type) + e.permissions + " 1 " + e.user + " " + e.group + " " + e.size + " " +
                     e.last_modified + " " + c_quoted(e.name);
  if (e.link_target) line += " -> " + c_quoted(*e.link_target);
  return line;
}

bool operator==(const fs::LsEntry& a, const fs::LsEntry& b) {
  return a.name == b.name && a.directory == b.directory && a.type == b.type && a.link_target == b.link_target &&
         a.user == b.user && a.group == b.group && a.permissions == b.permissions &&
         a.last_modified == b.last_modified && a.size == b.size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view output(reinterpret_cast<const char*>(data), size);
  std::vector<fs::LsEntry> entries;
  if (!portico::fuzz::refused_or_ran(portico::core::ErrorKind::internal, [&] { entries = fs::parse_ls(output); }))
    return 0;
  for (const auto& e : entries) {
    FUZZ_CHECK(std::string_view("-dlcbpsD?").find(e.type) != std::string_view::npos);
    FUZZ_CHECK(e.permissions.size() == 9);
    FUZZ_CHECK(!e.user.empty() && !e.group.empty() && !e.last_modified.empty());

    // Printed again and read back, the entry is the same.
    auto reprinted = fs::parse_ls(ls_line(e));
    FUZZ_CHECK(reprinted.size() == 1);
    reprinted[0].directory = e.directory;
    FUZZ_CHECK(reprinted[0] == e);

    // The JSON written straight is the JSON of the equivalent tree, byte for byte.
    std::string written;
    fs::append_entry_json(written, e, {"linkTarget", "lastModified"});
    json::object o;
    o["name"] = portico::core::valid_utf8(e.directory.empty() ? e.name : fs::child_path(e.directory, e.name));
    o["type"] = std::string(1, e.type);
    o["linkTarget"] = e.link_target ? json::value(portico::core::valid_utf8(*e.link_target)) : json::value(nullptr);
    o["user"] = portico::core::valid_utf8(e.user);
    o["group"] = portico::core::valid_utf8(e.group);
    o["permissions"] = portico::core::valid_utf8(e.permissions);
    o["lastModified"] = portico::core::valid_utf8(e.last_modified);
    o["size"] = portico::core::valid_utf8(e.size);
    FUZZ_CHECK(written == json::serialize(o));
    boost::system::error_code ec;
    json::parse(written, ec);
    FUZZ_CHECK(!ec);
  }
  return 0;
}
