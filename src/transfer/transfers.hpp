#pragma once
// Transfers as scheduler jobs, shared by every API: cp, mv, rm, compress and extract run as a
// job of the caller, and large files are staged through S3 (presigned URLs; no byte passes
// through Portico). Knows no HTTP: refusals are core::Failures.
//
// A staged upload's job is submitted held, so it takes no slot while the client uploads; the
// watcher (one HEAD request per pending upload and poll interval) releases it as soon as the
// object is complete. An upload not completed within the cluster's transfer.upload_wait is
// abandoned: its job's error log says so, the job is cancelled and the multipart upload
// aborted. Pending uploads live in the store, so a restart of Portico loses none.
//
// Thread-safety: the operations may run concurrently from any thread; start()/stop() once each.
// Every operation takes the caller's runner and acts only as that user; REQUIRES: callers
// co_await the returned awaitable at once (arguments are taken by reference).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster.hpp"
#include "config/config.hpp"
#include "core/stop.hpp"
#include "filesystem/archive.hpp"
#include "s3/client.hpp"
#include "store/store.hpp"

namespace portico::transfer {

// S3 lets a multipart upload have at most this many parts.
constexpr std::uint64_t kMaxParts = 10'000;

struct TransferJob {
  std::string job_id;
  std::string system;
  std::string working_directory;
  std::string output_log;
  std::string error_log;
};

struct StagedUpload {
  TransferJob job;
  std::vector<std::string> part_urls;  // part i+1 of the object, in order
  std::string complete_url;            // CompleteMultipartUpload
  std::uint64_t max_part_bytes = 0;
};

struct StagedDownload {
  TransferJob job;
  std::string download_url;  // valid once the job has completed
};

// The account a transfer job is charged to, by the cluster's transfer.account rule:
// "{account}" takes the request's (then required: bad_request "Account parameter is required on
// this system"), a fixed name overrides it, "" passes the request's on (nullopt: the user's
// default). A requested account must be a plain name.
std::optional<std::string> job_account(const config::Transfer& rule, const std::optional<std::string>& requested);

// Where a user's transfer jobs run and write their logs: <default work dir file system>/<user>.
std::string work_directory(const config::Cluster& cluster, const std::string& user);

class Transfers {
 public:
  // s3 null: staging is unavailable (upload and download refuse), the other transfers work.
  Transfers(boost::asio::any_io_executor executor, cluster::Clusters& clusters, std::shared_ptr<s3::Client> s3,
            std::optional<config::S3> s3_config, store::Store& store);
  ~Transfers();

  bool staging_available() const { return s3_ != nullptr; }

  // REQUIRES: every path confined (filesystem::confine). The source of copy, move and download
  // must exist (not_found), be reachable (forbidden) before any job is submitted. `resume`: the
  // job takes over an interrupted attempt (job_scripts.hpp); the path of remove may be gone.
  boost::asio::awaitable<TransferJob> copy(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                           const std::optional<std::string>& account, const std::string& source,
                                           const std::string& target, bool dereference, bool resume = false);
  boost::asio::awaitable<TransferJob> move(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                           const std::optional<std::string>& account, const std::string& source,
                                           const std::string& target, bool resume = false);
  boost::asio::awaitable<TransferJob> remove(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                             const std::optional<std::string>& account, const std::string& path,
                                             bool resume = false);

  // Waits for a transfer job to end, polling the scheduler (every second, then less often), and
  // removes its logs. Returns when it completed; throws core::Failure with the job's error log
  // (or its state) when it did not. A stop() meanwhile cancels the job and throws.
  boost::asio::awaitable<void> follow(cluster::Cluster& cluster, cluster::UserRunner& runner, const TransferJob& job,
                                      std::shared_ptr<core::Stop> stop);
  boost::asio::awaitable<TransferJob> compress(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                               const std::optional<std::string>& account, const std::string& source,
                                               const std::string& target, const filesystem::CompressCommands& commands);
  boost::asio::awaitable<TransferJob> extract(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                              const std::optional<std::string>& account, const std::string& source,
                                              const std::string& target, const std::vector<std::string>& tar);

  // Client -> cluster: a multipart upload of `size` bytes into `target`, and its held job.
  // More than kMaxParts parts: validation failure on fileSize.
  boost::asio::awaitable<StagedUpload> upload(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                              const std::optional<std::string>& account, const std::string& target,
                                              std::uint64_t size);
  // Cluster -> client: `source` (a regular file the user can read; a directory is bad_request)
  // is staged by a job; the URL serves it once the job is done.
  boost::asio::awaitable<StagedDownload> download(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                  const std::optional<std::string>& account,
                                                  const std::string& source);

  // Starts the watcher of pending uploads (also those a previous run left in the store).
  void start();
  void stop();
  // One look at every pending upload: release, abandon, or leave it waiting.
  boost::asio::awaitable<void> watch_once();

 private:
  struct Job;
  boost::asio::awaitable<TransferJob> submit(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                             const std::optional<std::string>& account, const Job& job);
  // submit() for a staged transfer: a refused job aborts its multipart upload.
  boost::asio::awaitable<TransferJob> submit_staged(cluster::Cluster& cluster, cluster::UserRunner& runner,
                                                    const std::optional<std::string>& account, const Job& job,
                                                    const std::string& key, const std::string& upload_id);
  // The staging bucket exists with its lifecycle rule: made once, before the first staging.
  boost::asio::awaitable<void> ensure_bucket();
  boost::asio::awaitable<void> watch();
  boost::asio::awaitable<void> look_at(const store::PendingUpload& upload);
  boost::asio::awaitable<void> abandon(cluster::Cluster& cluster, const store::PendingUpload& upload);

  boost::asio::any_io_executor executor_;
  cluster::Clusters& clusters_;
  std::shared_ptr<s3::Client> s3_;
  std::optional<config::S3> s3_config_;
  store::Store& store_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> bucket_ready_{false};
};

}  // namespace portico::transfer
