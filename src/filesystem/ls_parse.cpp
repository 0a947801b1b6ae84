#include "filesystem/ls_parse.hpp"

#include "core/error.hpp"

namespace portico::filesystem {

namespace {

core::Failure unexpected(std::string_view line, std::string_view why) {
  // The client sees that the listing failed; the log sees which line and why. Control bytes are
  // replaced so the log stays one line per event.
  std::string shown(line.substr(0, 120));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return core::Failure(core::ErrorKind::internal, "unexpected output from ls",
                       std::string(why) + ": " + shown);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Next whitespace-separated token; empty at the end of the line.
std::string_view take_token(std::string_view& text) {
  std::size_t start = 0;
  while (start < text.size() && is_space(text[start])) ++start;
  std::size_t end = start;
  while (end < text.size() && !is_space(text[end])) ++end;
  std::string_view token = text.substr(start, end - start);
  text.remove_prefix(end);
  return token;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_mode_chars(std::string_view perms) {
  for (char c : perms)
    if (std::string_view("rwxsStT-?").find(c) == std::string_view::npos) return false;
  return true;
}

LsEntry parse_entry(std::string_view line, const std::string& directory) {
  std::string_view rest = line;
  LsEntry entry;
  entry.directory = directory;

  std::string_view mode = take_token(rest);
  // Ten characters, plus one when ls marks an ACL ('+'), an SELinux context ('.') or both.
  if (mode.size() < 10 || mode.size() > 11) throw unexpected(line, "mode");
  if (mode.size() == 11 && mode[10] != '+' && mode[10] != '.' && mode[10] != '@') throw unexpected(line, "mode marker");
  if (std::string_view("-dlcbpsD?").find(mode[0]) == std::string_view::npos) throw unexpected(line, "file type");
  if (!valid_mode_chars(mode.substr(1, 9))) throw unexpected(line, "permissions");
  entry.type = mode[0];
  entry.permissions = std::string(mode.substr(1, 9));

  std::string_view links = take_token(rest);
  if (!all_digits(links) && links != "?") throw unexpected(line, "link count");
  std::string_view user = take_token(rest);
  std::string_view group = take_token(rest);
  if (user.empty() || group.empty()) throw unexpected(line, "owner");
  entry.user = std::string(user);
  entry.group = std::string(group);

  std::string_view size = take_token(rest);
  if (size.size() > 1 && size.back() == ',') {
    // A device: "major, minor", padded to align columns; sent as "major, minor".
    std::string_view major = size.substr(0, size.size() - 1);
    std::string_view minor = take_token(rest);
    if (!all_digits(major) || !all_digits(minor)) throw unexpected(line, "device numbers");
    entry.size = std::string(major) + ", " + std::string(minor);
  } else {
    if (!all_digits(size) && size != "?") throw unexpected(line, "size");
    entry.size = std::string(size);
  }

  std::string_view time = take_token(rest);
  if (time.empty()) throw unexpected(line, "time");
  entry.last_modified = std::string(time);

  // Exactly one space, then the quoted name.
  if (rest.size() < 2 || rest[0] != ' ' || rest[1] != '"') throw unexpected(line, "name");
  rest.remove_prefix(1);
  try {
    entry.name = take_c_quoted(rest);
    if (!rest.empty()) {
      constexpr std::string_view arrow = " -> ";
      if (rest.substr(0, arrow.size()) != arrow) throw unexpected(line, "after the name");
      rest.remove_prefix(arrow.size());
      entry.link_target = take_c_quoted(rest);
      if (!rest.empty()) throw unexpected(line, "after the link target");
    }
  } catch (const core::Failure& e) {
    if (e.detail().empty()) throw unexpected(line, e.what());
    throw;
  }
  return entry;
}

}  // namespace

std::string take_c_quoted(std::string_view& text) {
  if (text.empty() || text.front() != '"') throw core::Failure(core::ErrorKind::internal, "expected '\"'");
  std::string out;
  std::size_t i = 1;
  while (true) {
    if (i >= text.size()) throw core::Failure(core::ErrorKind::internal, "unterminated quoted name");
    char c = text[i++];
    if (c == '"') break;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i >= text.size()) throw core::Failure(core::ErrorKind::internal, "dangling backslash");
    char e = text[i++];
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case '?': out += '?'; break;
      default: {
        // gnulib's quotearg writes other bytes as exactly three octal digits.
        if (e < '0' || e > '7') throw core::Failure(core::ErrorKind::internal, "unknown escape");
        unsigned value = static_cast<unsigned>(e - '0');
        for (int n = 0; n < 2 && i < text.size() && text[i] >= '0' && text[i] <= '7'; ++n)
          value = value * 8 + static_cast<unsigned>(text[i++] - '0');
        if (value > 0xff) throw core::Failure(core::ErrorKind::internal, "octal escape out of range");
        out += static_cast<char>(value);
      }
    }
  }
  text.remove_prefix(i);
  return out;
}

std::vector<std::string> ls_command(std::string_view path, const LsOptions& options) {
  std::vector<std::string> argv{"env", "LC_ALL=C", "ls", "-l", "--quoting-style=c", "--time-style=+%Y-%m-%dT%H:%M:%S"};
  if (options.show_hidden) argv.emplace_back("-A");
  if (options.numeric_ids) argv.emplace_back("-n");
  if (options.recursive) argv.emplace_back("-R");
  if (options.dereference) argv.emplace_back("-L");
  if (options.itself) argv.emplace_back("-d");
  argv.emplace_back("--");
  argv.emplace_back(path);
  return argv;
}

std::vector<LsEntry> parse_ls(std::string_view output) {
  std::vector<LsEntry> entries;
  // A listing line is at least ~40 bytes; reserving avoids most regrowth on large directories.
  entries.reserve(output.size() / 48 + 1);
  std::string directory;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    start = end + 1;

    if (line.empty()) continue;
    if (line.substr(0, 6) == "total ") {
      if (!all_digits(line.substr(6))) throw unexpected(line, "total");
      continue;
    }
    if (line.front() == '"') {
      // A -R section header: "dir":
      std::string_view rest = line;
      try {
        directory = take_c_quoted(rest);
      } catch (const core::Failure& e) {
        throw unexpected(line, e.what());
      }
      if (rest != ":") throw unexpected(line, "directory header");
      continue;
    }
    entries.push_back(parse_entry(line, directory));
  }
  return entries;
}

}  // namespace portico::filesystem
