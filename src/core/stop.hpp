#pragma once
// A request to stop work already under way, e.g. a task the user cancelled: whoever runs the
// work (the SSH pool, for a remote command) registers what stopping means, and stop() does it
// once, now or as soon as it is registered.
// Thread-safety: every method may be called from any thread.

#include <functional>
#include <mutex>
#include <utility>

namespace portico::core {

class Stop {
 public:
  void stop() {
    std::function<void()> action;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      action = std::move(action_);
    }
    if (action) action();
  }

  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  // What stop() does; runs it at once when stop() was already called. Replaces an earlier one.
  void on_stop(std::function<void()> action) {
    {
      std::lock_guard lock(mutex_);
      if (!stopped_) {
        action_ = std::move(action);
        return;
      }
    }
    action();
  }

  // Forgets the action (the work it would stop has ended).
  void clear() {
    std::lock_guard lock(mutex_);
    action_ = nullptr;
  }

 private:
  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::function<void()> action_;
};

}  // namespace portico::core
