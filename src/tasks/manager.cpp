#include "tasks/manager.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "core/error.hpp"
#include "core/time.hpp"
#include "facility/uuid.hpp"

namespace portico::tasks {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string error_result(std::string_view message) { return json::serialize(json::object{{"error", message}}); }

}  // namespace

asio::awaitable<core::CommandResult> StoppableRunner::run(core::Command command) {
  if (stop_->stopped()) throw core::Failure(core::ErrorKind::unavailable, "the task was cancelled");
  command.stop = stop_;
  auto result = co_await inner_.run(std::move(command));
  co_return result;
}

asio::awaitable<std::shared_ptr<core::RemoteFiles>> StoppableRunner::files() {
  if (stop_->stopped()) throw core::Failure(core::ErrorKind::unavailable, "the task was cancelled");
  co_return co_await inner_.files();
}

asio::awaitable<core::CommandResult> LimitedRunner::run(core::Command command) {
  if (command.timeout.count() == 0 || command.timeout > limit_) command.timeout = limit_;
  auto result = co_await inner_.run(std::move(command));
  if (result.timed_out) outlasted_ = true;
  co_return result;
}

Manager::Manager(asio::any_io_executor executor, store::Store& store, const config::Tasks& settings)
    : executor_(executor), store_(store), settings_(settings), purge_timer_(executor) {}

Manager::~Manager() { stop(); }

void Manager::start() {
  const auto now = core::now_millis();
  for (auto task : store_.unfinished_tasks()) {
    task.status = "failed";
    task.result = error_result("interrupted by a restart of Portico before it ended");
    task.updated = now;
    task.ended = now;
    store_.put_task(task);
  }
  asio::co_spawn(executor_, purge_loop(), asio::detached);
}

void Manager::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  purge_timer_.cancel();
}

asio::awaitable<void> Manager::purge_loop() {
  for (;;) {
    try {
      const auto before = core::now_millis() - std::chrono::duration_cast<std::chrono::milliseconds>(settings_.retention).count();
      if (auto n = store_.remove_tasks_ended_before(before)) spdlog::info("tasks: forgot {} ended tasks", n);
    } catch (const std::exception& e) {
      spdlog::error("tasks: cannot forget ended tasks: {}", e.what());
    }
    {
      std::lock_guard lock(mutex_);
      if (stopped_) co_return;
      purge_timer_.expires_after(std::chrono::minutes(1));
    }
    boost::system::error_code ec;
    co_await purge_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

std::string Manager::submit(std::shared_ptr<core::CommandRunner> runner, const std::string& user,
                            json::object command, Work work) {
  auto task = std::make_shared<Live>();
  const auto now = core::now_millis();
  task->record.id = facility::random_uuid();
  task->record.user = user;
  task->record.status = "pending";
  task->record.command = json::serialize(command);
  task->record.created = now;
  task->record.updated = now;
  task->runner = std::move(runner);
  task->work = std::move(work);
  store_.put_task(task->record);

  bool start_now;
  {
    std::lock_guard lock(mutex_);
    live_[task->record.id] = task;
    auto& mine = users_[user];
    start_now = mine.running < settings_.per_user;
    if (start_now) claim_slot(*task);
    else mine.waiting.push_back(task);
  }
  auto id = task->record.id;
  if (start_now) spawn(std::move(task));
  return id;
}

void Manager::claim_slot(Live& task) {
  task.launched = true;
  ++users_[task.record.user].running;
}

// Never under mutex_: co_spawn may run the task inline up to its end, which takes the mutex.
void Manager::spawn(std::shared_ptr<Live> task) { asio::co_spawn(executor_, run(std::move(task)), asio::detached); }

asio::awaitable<void> Manager::run(std::shared_ptr<Live> task) {
  if (!task->stop->stopped()) {
    task->record.status = "active";
    task->record.updated = core::now_millis();
    try {
      store_.put_task(task->record);
    } catch (const std::exception& e) {
      spdlog::error("tasks: {}: cannot record its start: {}", task->record.id, e.what());
    }
  }
  std::string status = "completed";
  std::string result;
  try {
    StoppableRunner runner(*task->runner, task->stop);
    result = co_await task->work(runner);
  } catch (const core::Failure& e) {
    status = "failed";
    result = error_result(e.what());
  } catch (const std::exception& e) {
    spdlog::error("tasks: {}: {}", task->record.id, e.what());
    status = "failed";
    result = error_result("internal error");
  }
  if (task->stop->stopped()) {
    status = "canceled";
    result = error_result("cancelled by its user");
  }
  task->record.status = status;
  task->record.result = std::move(result);
  task->record.updated = core::now_millis();
  task->record.ended = task->record.updated;
  finished(task);
}

void Manager::finished(const std::shared_ptr<Live>& task) {
  try {
    store_.put_task(task->record);
  } catch (const std::exception& e) {
    spdlog::error("tasks: {}: cannot record its end: {}", task->record.id, e.what());
  }
  std::vector<std::shared_ptr<Live>> next;
  {
    std::lock_guard lock(mutex_);
    live_.erase(task->record.id);
    auto it = users_.find(task->record.user);
    if (it == users_.end()) return;
    auto& mine = it->second;
    if (mine.running > 0) --mine.running;
    while (mine.running < settings_.per_user && !mine.waiting.empty()) {
      next.push_back(std::move(mine.waiting.front()));
      mine.waiting.pop_front();
      claim_slot(*next.back());
    }
    if (mine.running == 0 && mine.waiting.empty()) users_.erase(it);
  }
  for (auto& t : next) spawn(std::move(t));
}

std::optional<store::TaskRecord> Manager::get(const std::string& user, const std::string& id) {
  auto task = store_.task(id);
  if (!task || task->user != user) return std::nullopt;
  return task;
}

std::vector<store::TaskRecord> Manager::list(const std::string& user) { return store_.tasks_of(user); }

bool Manager::cancel(const std::string& user, const std::string& id) {
  std::shared_ptr<Live> task;
  bool waiting = false;
  {
    std::lock_guard lock(mutex_);
    auto it = live_.find(id);
    if (it != live_.end()) {
      task = it->second;
      if (task->record.user != user) return false;
      if (!task->launched) {  // never started: out of the queue, canceled now
        waiting = true;
        auto& queue = users_[user].waiting;
        queue.erase(std::find(queue.begin(), queue.end(), task));
        live_.erase(it);
      }
    }
  }
  if (!task) return get(user, id).has_value();  // ended (or another replica's): left as it is
  task->stop->stop();                           // an active task's command is killed; run() ends it
  if (waiting) {
    task->record.status = "canceled";
    task->record.result = error_result("cancelled by its user");
    task->record.updated = core::now_millis();
  task->record.ended = task->record.updated;
    store_.put_task(task->record);
  }
  return true;
}

std::size_t Manager::live() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

}  // namespace portico::tasks
