#pragma once
// Test-only: the demo site's sshd as the ssh tests log in to it (var/site/site.json), and
// private sshd instances started from its configuration for the tests that kill, freeze or
// reconfigure a server, which the site's own sshd must never suffer. Not part of any library.

#include <boost/json.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace portico::ssh::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Site {
  std::string host;
  std::uint16_t port = 0;
  std::string ca_key;
  std::string host_public_key;  // the .pub file's line
  fs::path ssh_dir;
};

inline std::string read_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

inline std::optional<Site> load_site() {
  const fs::path path = fs::path(PORTICO_SOURCE_DIR) / "var/site/site.json";
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto ssh = boost::json::parse(text.str()).at("ssh").as_object();
  Site site;
  site.host = std::string(ssh.at("host").as_string());
  site.port = static_cast<std::uint16_t>(ssh.at("port").to_number<int>());
  site.ca_key = std::string(ssh.at("ca_key").as_string());
  const fs::path pub = std::string(ssh.at("host_public_key").as_string());
  site.host_public_key = read_line(pub);
  site.ssh_dir = pub.parent_path();
  return site;
}

inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool listening(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

inline fs::path temp_dir(const std::string& name) {
  std::string pattern = (fs::temp_directory_path() / (name + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Processes started, directly or not, by `root`, read from /proc.
inline std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_line(entry.path() / "stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state;
    pid_t parent = 0;
    fields >> state >> parent;
    children.emplace(parent, static_cast<pid_t>(std::stoi(name)));
  }
  std::vector<pid_t> out;
  std::vector<pid_t> unvisited{root};
  while (!unvisited.empty()) {
    const pid_t p = unvisited.back();
    unvisited.pop_back();
    auto [begin, end] = children.equal_range(p);
    for (auto it = begin; it != end; ++it) {
      out.push_back(it->second);
      unvisited.push_back(it->second);
    }
  }
  return out;
}

// An sshd of our own on a free port, with the site's host key and CA: these tests kill and
// freeze it, which the site's sshd must never suffer.
class PrivateSshd {
 public:
  // sftp: false leaves out the site's `Subsystem sftp` line: a server without SFTP.
  explicit PrivateSshd(const Site& site, bool sftp = true) : dir_(temp_dir("portico-sshd")), port_(free_port()) {
    std::ifstream in(site.ssh_dir / "sshd_config");
    std::ofstream out(dir_ / "sshd_config");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Port ", 0) == 0) line = "Port " + std::to_string(port_);
      if (line.rfind("PidFile ", 0) == 0) line = "PidFile " + (dir_ / "sshd.pid").string();
      if (!sftp && line.rfind("Subsystem ", 0) == 0) continue;
      out << line << "\n";
    }
    out.close();
    start();
  }
  ~PrivateSshd() {
    kill_all();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::uint16_t port() const { return port_; }
  fs::path log() const { return dir_ / "sshd.log"; }

  void start() {
    const std::string config = (dir_ / "sshd_config").string(), log = (dir_ / "sshd.log").string();
    std::vector<std::string> args{"/usr/sbin/sshd", "-D", "-f", config, "-E", log};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start sshd");
    for (int i = 0; i < 200 && !listening(port_); ++i) std::this_thread::sleep_for(50ms);
    if (!listening(port_)) throw std::runtime_error("sshd did not listen on port " + std::to_string(port_));
  }

  std::vector<pid_t> sessions() const { return pid_ > 0 ? descendants(pid_) : std::vector<pid_t>{}; }

  // Freezes every connection it serves (and their commands): they neither answer nor close.
  void freeze_sessions() const {
    for (pid_t p : sessions()) ::kill(p, SIGSTOP);
  }

  // The listener only; its per-connection processes live on, as they do when sshd restarts.
  void kill_listener() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  void kill_all() {
    for (pid_t p : sessions()) ::kill(p, SIGKILL);
    kill_listener();
  }

 private:
  fs::path dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace portico::ssh::testing
