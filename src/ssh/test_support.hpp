#pragma once
// Test-only helpers of the ssh tests: a temporary directory and running shell commands
// (ssh-keygen) with their output. Not part of any library.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "ssh/openssh_key.hpp"

namespace portico::ssh::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "portico-ssh-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

struct Output {
  int status = -1;
  std::string text;  // stdout and stderr together
};

inline Output run(const std::string& command) {
  Output out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.text.append(buf, n);
  int status = pclose(p);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The base64-decoded second field of a .pub file.
inline std::string pub_blob(const std::string& pub_path) {
  std::istringstream in(slurp(pub_path));
  std::string type, b64;
  in >> type >> b64;
  return wire::base64_decode(b64);
}

// The SHA256 fingerprint `ssh-keygen -l` prints for a public key file.
inline std::string ssh_keygen_fingerprint(const std::string& pub_path) {
  std::istringstream in(run("ssh-keygen -l -f " + pub_path).text);
  std::string bits, fp;
  in >> bits >> fp;
  return fp;
}

}  // namespace portico::ssh::testing
