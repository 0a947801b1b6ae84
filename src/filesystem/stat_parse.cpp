#include "filesystem/stat_parse.hpp"

#include "core/error.hpp"

#include <charconv>

namespace portico::filesystem {

namespace {

core::Failure unexpected(std::string_view output, std::string_view why) {
  std::string shown(output.substr(0, 120));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return core::Failure(core::ErrorKind::internal, "unexpected output from stat", std::string(why) + ": " + shown);
}

// from_chars accepts exactly digits (and '-' for signed types): no spaces, no '+', no "0x".
template <typename T>
T number(std::string_view token, int base, std::string_view output, std::string_view field) {
  T value{};
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value, base);
  if (token.empty() || ec != std::errc() || end != token.data() + token.size()) throw unexpected(output, field);
  return value;
}

}  // namespace

std::vector<std::string> stat_command(std::string_view path, bool dereference) {
  std::vector<std::string> argv{"env", "LC_ALL=C", "stat"};
  if (dereference) argv.emplace_back("-L");
  argv.emplace_back("--printf=" + std::string(stat_format));
  argv.emplace_back("--");
  argv.emplace_back(path);
  return argv;
}

StatResult parse_stat(std::string_view output) {
  std::string_view text = output;
  if (text.empty() || text.back() != '\n') throw unexpected(output, "no end of line");
  text.remove_suffix(1);
  std::string_view tokens[10];
  std::size_t count = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (count == 10) throw unexpected(output, "too many fields");
    tokens[count++] = text.substr(start, end - start);
    start = end + 1;
  }
  if (count != 10) throw unexpected(output, "too few fields");

  StatResult r;
  r.mode = number<std::uint64_t>(tokens[0], 16, output, "mode");
  r.ino = number<std::uint64_t>(tokens[1], 10, output, "ino");
  r.dev = number<std::uint64_t>(tokens[2], 10, output, "dev");
  r.nlink = number<std::uint64_t>(tokens[3], 10, output, "nlink");
  r.uid = number<std::uint64_t>(tokens[4], 10, output, "uid");
  r.gid = number<std::uint64_t>(tokens[5], 10, output, "gid");
  r.size = number<std::uint64_t>(tokens[6], 10, output, "size");
  r.atime = number<std::int64_t>(tokens[7], 10, output, "atime");
  r.mtime = number<std::int64_t>(tokens[8], 10, output, "mtime");
  r.ctime = number<std::int64_t>(tokens[9], 10, output, "ctime");
  return r;
}

}  // namespace portico::filesystem
