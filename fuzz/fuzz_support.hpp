#pragma once
// What the fuzz targets share: the check that turns a broken property into a crash libFuzzer
// keeps, the expected refusals of a parser, and a reader of the shell words core::command_line()
// writes, so every argv built from fuzzed input is checked to reach the remote shell intact.
//
// A target lets through only the exceptions its parser documents; any other one escapes
// LLVMFuzzerTestOneInput, which libFuzzer reports as a crash with the input saved.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/shell.hpp"

namespace portico::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: property does not hold: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(condition) ((condition) ? (void)0 : ::portico::fuzz::fail(__FILE__, __LINE__, #condition))

// Runs `parse`; a core::Failure of kind `kind` (the parser's documented refusal) is an answer,
// any other failure kind is a broken contract. Returns whether parse returned normally.
template <typename F>
bool refused_or_ran(core::ErrorKind kind, F&& parse) {
  try {
    parse();
    return true;
  } catch (const core::Failure& f) {
    FUZZ_CHECK(f.kind() == kind);
    return false;
  }
}

// The same for a parser that may refuse with any Failure kind (validation, too_large, ...).
template <typename F>
bool refused_or_ran(F&& parse) {
  try {
    parse();
    return true;
  } catch (const core::Failure&) {
    return false;
  }
}

// The words a POSIX shell reads from `line`, for the forms core::shell_quote() writes: words
// separated by one space, each bare or made of '...' runs and \' between them. nullopt for
// anything else, which shell_quote never writes.
inline std::optional<std::vector<std::string>> shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ') {
      if (!in_word) return std::nullopt;
      words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const auto close = line.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      word.append(line.substr(i + 1, close - i - 1));
      i = close;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size() || line[i + 1] != '\'') return std::nullopt;
      word += '\'';
      ++i;
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// argv reaches the remote side word for word once joined by core::command_line().
inline void check_command_line(const std::vector<std::string>& argv) {
  const auto words = shell_words(core::command_line(argv));
  FUZZ_CHECK(words && *words == argv);
}

}  // namespace portico::fuzz
