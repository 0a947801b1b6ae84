#pragma once
// What Portico keeps across restarts, behind one small interface: today the uploads that wait
// for their data (a held transfer job and an S3 multipart upload each). Callers see only this
// interface; sqlite_store.cpp is the embedded implementation (one file, WAL mode), and a
// server-backed one (PostgreSQL) can follow without changing callers: no SQL leaves an
// implementation.
//
// Thread-safety: every method may be called from any thread. Calls are short and synchronous
// (a few rows, one transaction each). Failures throw core::Failure(internal).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace portico::store {

// A staged upload whose transfer job is held until the client has completed the object.
struct PendingUpload {
  std::string id;           // the transfer's id (random hex), also part of the object key
  std::string cluster;
  std::string user;
  std::string job_id;
  std::string object_key;
  std::string upload_id;    // the S3 multipart upload
  std::uint64_t size = 0;   // bytes the client announced
  std::int64_t created = 0;   // seconds since the epoch
  std::int64_t deadline = 0;  // seconds since the epoch: abandoned after this
  std::string error_log;    // the job's error log, where an abandoned upload says why

  bool operator==(const PendingUpload&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Records an upload; replaces one with the same id.
  virtual void add_pending_upload(const PendingUpload& upload) = 0;
  // Every recorded upload, oldest first.
  virtual std::vector<PendingUpload> pending_uploads() = 0;
  // Forgets an upload; unknown ids are ignored.
  virtual void remove_pending_upload(const std::string& id) = 0;
};

// The SQLite store in the file `path` (created with its tables if missing; its directory must
// exist). ":memory:" gives a store that lasts as long as the object, for tests.
// Throws core::Failure(internal) naming the file when it cannot be opened or is not Portico's.
std::unique_ptr<Store> open_sqlite(const std::string& path);

}  // namespace portico::store
