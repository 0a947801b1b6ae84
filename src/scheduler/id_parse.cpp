#include "scheduler/id_parse.hpp"

#include "core/error.hpp"
#include "scheduler/command_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace portico::scheduler {

namespace {

core::Failure malformed(std::string_view line) {
  return core::Failure(core::ErrorKind::internal, fmt::format("unexpected id output: \"{}\"", excerpt(line)));
}

// Reads "1001(alice)" or "1001" at pos and moves pos past it.
PosixIdentity read_identity(std::string_view line, std::size_t& pos) {
  PosixIdentity identity;
  auto [end, ec] = std::from_chars(line.data() + pos, line.data() + line.size(), identity.id);
  if (ec != std::errc{}) throw malformed(line);
  pos = static_cast<std::size_t>(end - line.data());
  if (pos < line.size() && line[pos] == '(') {
    auto close = line.find(')', pos + 1);
    if (close == std::string_view::npos || close == pos + 1) throw malformed(line);
    identity.name = std::string(line.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  }
  return identity;
}

}  // namespace

UserInfo parse_id(std::string_view text) {
  auto eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  std::optional<PosixIdentity> user, group;
  std::vector<PosixIdentity> groups;
  bool saw_groups = false;
  std::size_t pos = 0;
  while (pos < line.size()) {
    if (line[pos] == ' ') {
      ++pos;
      continue;
    }
    auto eq = line.find('=', pos);
    if (eq == std::string_view::npos) throw malformed(line);
    std::string_view key = line.substr(pos, eq - pos);
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string_view::npos)
      throw malformed(line);
    pos = eq + 1;
    if (key == "uid") {
      user = read_identity(line, pos);
    } else if (key == "gid") {
      group = read_identity(line, pos);
    } else if (key == "groups") {
      saw_groups = true;
      groups.push_back(read_identity(line, pos));
      while (pos < line.size() && line[pos] == ',') groups.push_back(read_identity(line, ++pos));
    } else {
      pos = std::min(line.find(' ', pos), line.size());
    }
    if (pos < line.size() && line[pos] != ' ') throw malformed(line);
  }
  if (!user || !group) throw malformed(line);
  if (!saw_groups) groups.push_back(*group);
  return UserInfo{std::move(*user), std::move(*group), std::move(groups)};
}

std::map<std::string, std::string> parse_getent_passwd(std::string_view text) {
  std::map<std::string, std::string> names;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    auto c1 = line.find(':');
    auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    auto c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos || c1 == 0) continue;
    auto uid = line.substr(c2 + 1, c3 - c2 - 1);
    if (uid.empty() || uid.find_first_not_of("0123456789") != std::string_view::npos) continue;
    names.emplace(std::string(uid), std::string(line.substr(0, c1)));
  }
  return names;
}

}  // namespace portico::scheduler
