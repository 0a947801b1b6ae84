#include "transfer/transfers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <regex>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "core/utf8.hpp"
#include "filesystem/errors.hpp"
#include "scheduler/psij.hpp"
#include "scheduler/slurm_job_parse.hpp"
#include "transfer/job_scripts.hpp"

namespace portico::transfer {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;

namespace {

std::string random_id() { return core::hex(core::random_bytes(16)); }

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The object's last key segment: the file's name when it is plain, else a neutral one (S3 keys
// must be UTF-8, and the name says nothing the client does not know).
std::string object_name(const std::string& path) {
  auto name = path.substr(path.rfind('/') + 1);
  static const std::regex plain("[A-Za-z0-9._-]{1,100}");
  return std::regex_match(name, plain) && name != "." && name != ".." ? name : "data";
}

// What a path is, as the user sees it.
struct PathInfo {
  std::string type;  // stat's %F: "regular file", "regular empty file", "directory", ...
  std::uint64_t size = 0;
};

// stat as the user (following links when `follow`); with `readable`, also refuses a file the
// user cannot read. Failures map as every file operation's do (404, 403, ...).
asio::awaitable<PathInfo> inspect(cluster::UserRunner& runner, const std::string& path, bool follow, bool readable) {
  core::Command cmd;
  cmd.argv = {"env", "LC_ALL=C", "sh", "-c",
              "if [ \"$2\" = follow ]; then stat -L -c '%F|%s' -- \"$1\"; else stat -c '%F|%s' -- \"$1\"; fi || exit\n"
              "if [ \"$3\" = readable ] && [ ! -r \"$1\" ]; then\n"
              "  printf \"cannot open '%s' for reading: Permission denied\\n\" \"$1\" >&2; exit 1\n"
              "fi",
              "sh", path, follow ? "follow" : "nofollow", readable ? "readable" : "any"};
  auto result = co_await runner.run(std::move(cmd));
  const auto& out = filesystem::successful_output(result, "stat");
  auto bar = out.rfind('|');
  PathInfo info;
  if (bar == std::string::npos) throw Failure(ErrorKind::internal, "unexpected stat output");
  info.type = out.substr(0, bar);
  try {
    info.size = std::stoull(out.substr(bar + 1));
  } catch (const std::exception&) {
    throw Failure(ErrorKind::internal, "unexpected stat output");
  }
  co_return info;
}

// Appends one line to a file as the user (an abandoned upload's error log).
asio::awaitable<void> append_line(cluster::UserRunner& runner, const std::string& file, const std::string& line) {
  core::Command cmd;
  cmd.argv = {"sh", "-c", "printf '%s\\n' \"$2\" >> \"$1\"", "sh", file, line};
  auto result = co_await runner.run(std::move(cmd));
  filesystem::successful_output(result, "printf");
}

}  // namespace

std::optional<std::string> job_account(const config::Transfer& rule, const std::optional<std::string>& requested) {
  std::optional<std::string> given;
  if (requested && !requested->empty()) {
    static const std::regex name("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    if (!std::regex_match(*requested, name))
      throw core::validation_error("body", "account", "must be one account name (letters, digits, '.', '_', '-')");
    given = requested;
  }
  if (rule.account == "{account}") {
    if (!given) throw Failure(ErrorKind::bad_request, "Account parameter is required on this system");
    return given;
  }
  if (!rule.account.empty()) return rule.account;
  return given;
}

std::string work_directory(const config::Cluster& cluster, const std::string& user) {
  const config::FileSystem* chosen = cluster.file_systems.empty() ? nullptr : &cluster.file_systems.front();
  for (const auto& fs : cluster.file_systems)
    if (fs.default_work_dir) {
      chosen = &fs;
      break;
    }
  if (!chosen) throw Failure(ErrorKind::internal, "cluster " + cluster.name + " has no file system");
  return chosen->path + "/" + user;
}

struct Transfers::Job {
  std::string id;
  std::string name;  // FirecREST's names, so tools that look for transfer jobs find them
  std::string script;
  bool hold = false;
};

Transfers::Transfers(asio::any_io_executor executor, cluster::Clusters& clusters, std::shared_ptr<s3::Client> s3,
                     std::optional<config::S3> s3_config, store::Store& store)
    : executor_(std::move(executor)),
      clusters_(clusters),
      s3_(std::move(s3)),
      s3_config_(std::move(s3_config)),
      store_(store),
      timer_(std::make_shared<asio::steady_timer>(executor_)) {}

Transfers::~Transfers() { stop(); }

asio::awaitable<TransferJob> Transfers::submit(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                               const std::optional<std::string>& account, const Job& job) {
  const auto& config = cluster.config();
  TransferJob out;
  out.system = cluster.name();
  out.working_directory = work_directory(config, runner.user());
  out.output_log = out.working_directory + "/.portico-transfer-" + job.id + ".out";
  out.error_log = out.working_directory + "/.portico-transfer-" + job.id + ".err";
  scheduler::JobSubmission submission;
  submission.name = job.name;
  submission.account = job_account(config.transfer, account);
  if (!config.transfer.partition.empty()) submission.partition = config.transfer.partition;
  submission.working_directory = out.working_directory;
  submission.standard_output = out.output_log;
  submission.standard_error = out.error_log;
  submission.script = job.script;
  submission.time_limit = config.transfer.time_limit;
  submission.hold = job.hold;
  out.job_id = co_await cluster.scheduler().submit(runner, submission);
  spdlog::info("transfer {}: {} job {} of {} on {}", job.id, job.name, out.job_id, runner.user(), cluster.name());
  co_return out;
}

asio::awaitable<TransferJob> Transfers::submit_staged(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                      const std::optional<std::string>& account, const Job& job,
                                                      const std::string& key, const std::string& upload_id) {
  std::exception_ptr failed;
  TransferJob out;
  try {
    out = co_await submit(cluster, runner, account, job);
  } catch (...) {
    failed = std::current_exception();
  }
  if (!failed) co_return out;
  // No job will ever use the multipart upload: it is not left for the lifecycle rule.
  try {
    co_await s3_->abort_multipart_upload(key, upload_id);
  } catch (const std::exception& e) {
    spdlog::warn("transfer {}: could not abort the multipart upload: {}", job.id, e.what());
  }
  std::rethrow_exception(failed);
}

asio::awaitable<TransferJob> Transfers::copy(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                             const std::optional<std::string>& account, const std::string& source,
                                             const std::string& target, bool dereference, bool resume) {
  co_await inspect(runner, source, dereference, false);
  Job job{random_id(), "CopyFiles", copy_script(source, target, dereference, resume)};
  auto out = co_await submit(cluster, runner, account, job);
  co_return out;
}

asio::awaitable<TransferJob> Transfers::move(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                             const std::optional<std::string>& account, const std::string& source,
                                             const std::string& target, bool resume) {
  co_await inspect(runner, source, false, false);
  Job job{random_id(), "MoveFiles", move_script(source, target, resume)};
  auto out = co_await submit(cluster, runner, account, job);
  co_return out;
}

asio::awaitable<TransferJob> Transfers::remove(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                               const std::optional<std::string>& account, const std::string& path,
                                               bool resume) {
  if (!resume) co_await inspect(runner, path, false, false);
  Job job{random_id(), "DeleteFiles", remove_script(path, resume)};
  auto out = co_await submit(cluster, runner, account, job);
  co_return out;
}

asio::awaitable<void> Transfers::follow(cluster::Cluster& cluster, cluster::UserRunner& runner, const TransferJob& job,
                                        std::shared_ptr<core::Stop> stop) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  auto wait = std::chrono::seconds(1);
  std::optional<scheduler::psij::Status> ended;
  bool cancelled = false;
  while (!ended) {
    // The stop is looked at between polls (the timer is not cancelled from the stopping thread).
    if (stop && stop->stopped()) {
      co_await cluster.scheduler().cancel(runner, job.job_id);
      cancelled = true;
      break;
    }
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    wait = std::min<std::chrono::seconds>(wait * 2, std::chrono::seconds(5));
    auto seen = co_await cluster.scheduler().job(runner, job.job_id);
    if (!seen) continue;  // not listed yet (or between squeue and the accounting)
    auto status = scheduler::psij::status_of(*seen);
    if (scheduler::psij::is_final(status)) ended = status;
  }
  // The logs are the job's business with us: its error words go into the failure, then both go.
  std::string error;
  if (!cancelled && ended->state != "completed") {
    core::Command tail;
    tail.argv = {"tail", "-c", "2000", "--", job.error_log};
    auto result = co_await runner.run(std::move(tail));
    if (result.ok()) error = core::valid_utf8(result.out);
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  }
  core::Command cleanup;
  cleanup.argv = {"rm", "-f", "--", job.output_log, job.error_log};
  auto removed = co_await runner.run(std::move(cleanup));
  if (!removed.ok()) spdlog::warn("transfer job {}: could not remove its logs: {}", job.job_id, removed.err);
  if (cancelled) throw Failure(ErrorKind::bad_request, "transfer job " + job.job_id + " was cancelled");
  if (ended->state == "completed") co_return;
  throw Failure(ErrorKind::bad_request, "transfer job " + job.job_id + " " + ended->state +
                                            (error.empty() ? " (" + ended->message + ")" : ": " + error));
}

asio::awaitable<TransferJob> Transfers::compress(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                 const std::optional<std::string>& account, const std::string& source,
                                                 const std::string& target,
                                                 const filesystem::CompressCommands& commands) {
  co_await inspect(runner, source, false, false);
  Job job{random_id(), "CompressFiles", compress_script(source, target, commands)};
  auto out = co_await submit(cluster, runner, account, job);
  co_return out;
}

asio::awaitable<TransferJob> Transfers::extract(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                const std::optional<std::string>& account, const std::string& source,
                                                const std::string& target, const std::vector<std::string>& tar) {
  co_await inspect(runner, source, true, true);
  Job job{random_id(), "ExtractFiles", extract_script(source, target, tar)};
  auto out = co_await submit(cluster, runner, account, job);
  co_return out;
}

asio::awaitable<StagedUpload> Transfers::upload(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                const std::optional<std::string>& account, const std::string& target,
                                                std::uint64_t size) {
  if (!s3_) throw Failure(ErrorKind::bad_request, "Requested transfer method is not available");
  const auto& rule = cluster.config().transfer;
  auto parts = parts_for(size, rule.max_part_bytes);
  if (parts > kMaxParts)
    throw core::validation_error("body", "fileSize",
                                 "needs " + std::to_string(parts) + " parts of " + std::to_string(rule.max_part_bytes) +
                                     " bytes; S3 takes at most 10000");
  job_account(rule, account);  // refused before anything is created
  const auto lifetime = s3_config_->url_lifetime;
  Job job{random_id(), "IngressFileTransfer", {}, true};
  auto key = runner.user() + "/" + job.id + "/" + object_name(target);
  co_await ensure_bucket();
  auto upload_id = co_await s3_->create_multipart_upload(key);
  // The job's URLs must outlast the wait for the client and then the job's own run.
  auto job_lifetime = std::min<std::chrono::seconds>(rule.upload_wait + lifetime, std::chrono::seconds(604800));
  job.script = upload_script(target, s3_->get_url(s3::Client::Side::internal, key, job_lifetime),
                             s3_->delete_url(s3::Client::Side::internal, key, job_lifetime), size);
  StagedUpload out;
  out.job = co_await submit_staged(cluster, runner, account, job, key, upload_id);
  store::PendingUpload pending;
  pending.id = job.id;
  pending.cluster = cluster.name();
  pending.user = runner.user();
  pending.job_id = out.job.job_id;
  pending.object_key = key;
  pending.upload_id = upload_id;
  pending.size = size;
  pending.created = now_seconds();
  pending.deadline = pending.created + rule.upload_wait.count();
  pending.error_log = out.job.error_log;
  store_.add_pending_upload(pending);
  for (std::uint64_t i = 1; i <= parts; ++i)
    out.part_urls.push_back(
        s3_->upload_part_url(s3::Client::Side::public_, key, upload_id, static_cast<int>(i), rule.upload_wait));
  out.complete_url = s3_->complete_upload_url(s3::Client::Side::public_, key, upload_id, rule.upload_wait);
  out.max_part_bytes = rule.max_part_bytes;
  co_return out;
}

asio::awaitable<StagedDownload> Transfers::download(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                    const std::optional<std::string>& account,
                                                    const std::string& source) {
  if (!s3_) throw Failure(ErrorKind::bad_request, "Requested transfer method is not available");
  const auto& rule = cluster.config().transfer;
  auto info = co_await inspect(runner, source, true, true);
  if (info.type == "directory") throw Failure(ErrorKind::bad_request, source + ": Is a directory");
  if (info.type != "regular file" && info.type != "regular empty file")
    throw Failure(ErrorKind::bad_request, source + ": not a regular file (" + info.type + ")");
  auto parts = parts_for(info.size, rule.max_part_bytes);
  if (parts > kMaxParts)
    throw Failure(ErrorKind::bad_request, source + " is too large to stage: " + std::to_string(parts) + " parts of " +
                                              std::to_string(rule.max_part_bytes) + " bytes; S3 takes at most 10000");
  job_account(rule, account);
  const auto lifetime = s3_config_->url_lifetime;
  Job job{random_id(), "OutgressFileTransfer", {}, false};
  auto key = runner.user() + "/" + job.id + "/" + object_name(source);
  co_await ensure_bucket();
  auto upload_id = co_await s3_->create_multipart_upload(key);
  std::vector<std::string> part_urls;
  for (std::uint64_t i = 1; i <= parts; ++i)
    part_urls.push_back(s3_->upload_part_url(s3::Client::Side::internal, key, upload_id, static_cast<int>(i), lifetime));
  job.script = download_script(source, rule.max_part_bytes, rule.parallel_parts, part_urls,
                               s3_->complete_upload_url(s3::Client::Side::internal, key, upload_id, lifetime));
  StagedDownload out;
  out.job = co_await submit_staged(cluster, runner, account, job, key, upload_id);
  out.download_url = s3_->get_url(s3::Client::Side::public_, key, lifetime);
  co_return out;
}

asio::awaitable<void> Transfers::ensure_bucket() {
  if (bucket_ready_) co_return;
  co_await s3_->ensure_bucket(static_cast<int>(s3_config_->object_lifetime_days));
  bucket_ready_ = true;
}

void Transfers::start() {
  if (!s3_) return;
  auto pending = store_.pending_uploads();
  if (!pending.empty()) spdlog::info("transfers: {} pending uploads to watch", pending.size());
  asio::co_spawn(executor_, watch(), asio::detached);
}

void Transfers::stop() {
  stopped_ = true;
  timer_->cancel();
}

asio::awaitable<void> Transfers::watch() {
  auto timer = timer_;
  try {
    co_await ensure_bucket();
  } catch (const std::exception& e) {
    spdlog::warn("transfers: the staging bucket is not ready yet: {}", e.what());
  }
  while (!stopped_) {
    try {
      co_await watch_once();
    } catch (const std::exception& e) {
      spdlog::warn("transfers: watching pending uploads failed: {}", e.what());
    }
    if (stopped_) break;
    timer->expires_after(s3_config_->poll_interval);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Transfers::watch_once() {
  if (!s3_) co_return;
  for (const auto& upload : store_.pending_uploads()) {
    if (stopped_) co_return;
    try {
      co_await look_at(upload);
    } catch (const std::exception& e) {
      // Left in the store: the next round tries again.
      spdlog::warn("transfer {}: {}", upload.id, e.what());
    }
  }
}

asio::awaitable<void> Transfers::look_at(const store::PendingUpload& upload) {
  auto* cluster = clusters_.find(upload.cluster);
  if (!cluster) {
    spdlog::warn("transfer {}: cluster {} is no longer configured; the upload is forgotten", upload.id, upload.cluster);
    store_.remove_pending_upload(upload.id);
    co_return;
  }
  auto complete = co_await s3_->head_object(upload.object_key);
  if (!complete) {
    if (now_seconds() >= upload.deadline) co_await abandon(*cluster, upload);
    co_return;
  }
  auto runner = cluster->runner(upload.user, nullptr);
  std::exception_ptr refused;
  try {
    co_await cluster->scheduler().release(runner, upload.job_id);
  } catch (...) {
    refused = std::current_exception();
  }
  if (refused) {
    // A job the user cancelled (or that is gone) is not waited for any longer.
    auto job = co_await cluster->scheduler().job(runner, upload.job_id);
    if (job && !scheduler::is_final_state(job->status.state)) std::rethrow_exception(refused);
    spdlog::info("transfer {}: job {} of {} ended before its data arrived", upload.id, upload.job_id, upload.user);
    co_await s3_->delete_object(upload.object_key);
    store_.remove_pending_upload(upload.id);
    co_return;
  }
  spdlog::info("transfer {}: upload complete, job {} of {} released", upload.id, upload.job_id, upload.user);
  store_.remove_pending_upload(upload.id);
}

asio::awaitable<void> Transfers::abandon(cluster::Cluster& cluster, const store::PendingUpload& upload) {
  auto runner = cluster.runner(upload.user, nullptr);
  auto waited = upload.deadline - upload.created;
  auto why = "The upload was not completed within " + std::to_string(waited) +
             " seconds of its request: the transfer job was cancelled and the staged upload aborted.";
  try {
    co_await append_line(runner, upload.error_log, why);
  } catch (const std::exception& e) {
    spdlog::warn("transfer {}: could not write the error log: {}", upload.id, e.what());
  }
  try {
    co_await cluster.scheduler().cancel(runner, upload.job_id);
  } catch (const Failure& e) {
    if (e.kind() != ErrorKind::not_found) throw;
  }
  co_await s3_->abort_multipart_upload(upload.object_key, upload.upload_id);
  spdlog::info("transfer {}: upload not completed in {} s; job {} of {} cancelled", upload.id, waited, upload.job_id,
               upload.user);
  store_.remove_pending_upload(upload.id);
}

}  // namespace portico::transfer
