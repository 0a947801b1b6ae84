#include "core/shell.hpp"

#include "core/error.hpp"

namespace portico::core {

std::string shell_quote(std::string_view word) {
  // Words made only of these characters mean the same unquoted; keeping them bare makes
  // logged command lines readable.
  auto plain = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == '/' || c == ':' || c == ',' || c == '+' || c == '=' || c == '@' || c == '%';
  };
  // A NUL cannot be part of any argument; callers validate input, so this is a bug upstream.
  if (word.find('\0') != std::string_view::npos)
    throw Failure(ErrorKind::bad_request, "a value contains a NUL byte");
  bool bare = !word.empty();
  for (unsigned char c : word) bare = bare && plain(c);
  // Quoting keeps bytes, not meaning: a leading '-' is still an option, so commands end their
  // options with "--" before operands.
  if (bare) return std::string(word);
  std::string out;
  out.reserve(word.size() + 2);
  out += '\'';
  for (char c : word) {
    if (c == '\'') out += "'\\''";  // close, escaped quote, reopen
    else out += c;
  }
  out += '\'';
  return out;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += shell_quote(word);
  }
  return line;
}

std::vector<std::string> and_then(const std::vector<std::string>& first, const std::vector<std::string>& then) {
  return {"sh", "-c", command_line(first) + " && exec " + command_line(then)};
}

}  // namespace portico::core
