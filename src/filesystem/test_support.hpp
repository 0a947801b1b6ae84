#pragma once
// Test helpers: a temporary directory removed at the end of the test, running a real command
// (argv joined by core::command_line, as the SSH runner does), and reading golden files.

#include "core/shell.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace portico::filesystem::fstest {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "portico-fs-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Run {
  int status = -1;
  std::string out;
};

// Runs argv through /bin/sh like the remote side does; redirect: where stderr goes ("2>&1 >/dev/null" to
// capture only stderr, "" to leave it on the terminal).
inline Run run(const std::vector<std::string>& argv, const std::string& redirect = "") {
  std::string line = core::command_line(argv) + (redirect.empty() ? "" : " " + redirect);
  Run r;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "popen failed: " << line;
    return r;
  }
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string golden(const std::string& name) {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/src/filesystem/testdata/" + name, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "missing golden file testdata/" << name;
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::string& path, const std::string& content = {}) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace portico::filesystem::fstest
