#pragma once
// The one shell-quoting function. Every value that reaches a remote shell goes through here.

#include <string>
#include <string_view>
#include <vector>

namespace portico::core {

// Quotes one word for a POSIX shell: the shell turns the result back into exactly the same
// bytes, whatever they are (quotes, $, backticks, newlines, leading dashes, non-UTF-8).
// Throws core::Failure(bad_request) for a NUL byte, which no argument can hold.
std::string shell_quote(std::string_view word);

// Joins argv into one command line, each word quoted. argv[0] is quoted too.
std::string command_line(const std::vector<std::string>& argv);

// One command that runs `first`, then, only if it succeeded, `then` (its exit status is the
// answer's): `sh -c '<first> && exec <then>'`, each word quoted by shell_quote. For an action
// and the description of its result in one remote round trip instead of two.
std::vector<std::string> and_then(const std::vector<std::string>& first, const std::vector<std::string>& then);

}  // namespace portico::core
