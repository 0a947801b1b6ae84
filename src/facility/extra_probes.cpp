#include "facility/extra_probes.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>

extern char** environ;

namespace portico::facility {

Observation run_probe_command(const std::string& resource_id, const std::string& command,
                              std::chrono::milliseconds timeout) {
  auto seconds = std::to_string(std::max<long long>(1, (timeout.count() + 999) / 1000));
  std::vector<std::string> args = {"timeout", "-k", "1", seconds, "/bin/sh", "-c", command};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "timeout", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {resource_id, Status::unknown, "cannot run the probe"};
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {resource_id, Status::up, "probe succeeded"};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 124)
    return {resource_id, Status::down, "probe gave no answer within " + seconds + " s"};
  return {resource_id, Status::down,
          "probe exited with " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))};
}

ExtraProbes::ExtraProbes(const Model& model, const config::Facility& config, Report report)
    : report_(std::move(report)) {
  for (const auto& e : config.resources) {
    if (e.probe.empty()) continue;
    if (const auto* r = model.resource_named(e.name))
      items_.push_back({r->id, e.probe, e.probe_interval, e.probe_timeout, std::chrono::steady_clock::now()});
  }
}

ExtraProbes::~ExtraProbes() { stop(); }

void ExtraProbes::start() {
  if (items_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void ExtraProbes::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExtraProbes::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::min_element(items_.begin(), items_.end(), [](const Item& a, const Item& b) { return a.due < b.due; });
    if (wake_.wait_until(lock, next->due, [this] { return stopping_; })) break;
    if (std::chrono::steady_clock::now() < next->due) continue;
    auto item = *next;
    lock.unlock();
    auto observation = run_probe_command(item.resource_id, item.command, item.timeout);
    report_(observation);
    lock.lock();
    next->due = std::chrono::steady_clock::now() + item.interval;
  }
}

}  // namespace portico::facility
