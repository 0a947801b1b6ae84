#pragma once
// What Portico keeps across restarts, behind one small interface: the uploads that wait for
// their data (a held transfer job and an S3 multipart upload each), the facility's incidents
// and events, a few settings, IRI job specifications, Idempotency-Keys and filesystem tasks. Callers see only this
// interface; sqlite_store.cpp is the embedded implementation (one file, WAL mode), and a
// server-backed one (PostgreSQL) can follow without changing callers: no SQL leaves an
// implementation.
//
// Thread-safety: every method may be called from any thread. Calls are short and synchronous
// (a few rows, one transaction each). Failures throw core::Failure(internal).

#include <cstdint>
#include <memory>
#include <optional>
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

// An incident as stored; the facility core gives the text fields their meaning. Times are
// milliseconds since the epoch.
struct IncidentRecord {
  std::string id;
  std::string name;
  std::string description;
  std::string status;      // up|down|degraded|unknown
  std::string type;        // planned|unplanned|reservation
  std::string resolution;  // unresolved|cancelled|completed|extended|pending
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
  std::int64_t last_modified = 0;
  std::vector<std::string> resource_ids;  // in the order given

  bool operator==(const IncidentRecord&) const = default;
};

// An event: immutable once written.
struct EventRecord {
  std::string id;
  std::string name;
  std::string description;
  std::string status;
  std::string resource_id;
  std::string incident_id;  // "" when the event belongs to no incident
  std::int64_t occurred_at = 0;
  std::int64_t last_modified = 0;

  bool operator==(const EventRecord&) const = default;
};

// The PSI/J job specification an IRI job was submitted with (getJob returns it).
struct JobSpecRecord {
  std::string cluster;
  std::string job_id;
  std::string user;
  std::string spec;         // the API's JSON text
  std::int64_t created = 0;  // seconds since the epoch

  bool operator==(const JobSpecRecord&) const = default;
};

// An Idempotency-Key of one user: in flight while its request runs, then its reply.
struct IdempotencyRecord {
  std::string user;
  std::string key;
  std::string fingerprint;  // what the request asked (operation, target, body)
  bool in_flight = true;
  int status = 0;           // the reply's HTTP status, once done
  std::string response;     // the reply's body, once done
  std::int64_t created = 0;  // seconds since the epoch
  std::int64_t expires = 0;  // forgotten at this time

  bool operator==(const IdempotencyRecord&) const = default;
};

// A filesystem task of the IRI API (tasks/manager.hpp gives the fields their meaning). Times are
// milliseconds since the epoch.
struct TaskRecord {
  std::string id;
  std::string user;
  std::string status;   // pending|active|completed|failed|canceled
  std::string command;  // JSON text: {router, command, args}
  std::string result;   // JSON text once ended, "" before
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::optional<std::int64_t> ended;

  bool operator==(const TaskRecord&) const = default;
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

  // Records an incident with its resources; replaces one with the same id.
  virtual void put_incident(const IncidentRecord& incident) = 0;
  // Every incident, by start then id.
  virtual std::vector<IncidentRecord> incidents() = 0;
  // Records an event; an id already recorded is refused (events never change).
  virtual void add_event(const EventRecord& event) = 0;
  // The events that occurred at or after `since`, oldest first.
  virtual std::vector<EventRecord> events(std::int64_t since) = 0;
  // Forgets the events that occurred before `before`; returns how many.
  virtual std::size_t remove_events_before(std::int64_t before) = 0;
  // A number that changes whenever incidents or events change, by this process or another one
  // (the `portico incident` command beside a running gateway).
  virtual std::int64_t revision() = 0;

  // Small named values (e.g. a fingerprint of the facility's configuration); nullopt when unset.
  virtual std::optional<std::string> setting(const std::string& key) = 0;
  virtual void set_setting(const std::string& key, const std::string& value) = 0;

  // ---- schema 3: IRI job specifications and Idempotency-Keys.
  // Records a job's specification; replaces the one of the same cluster and job id.
  virtual void put_job_spec(const JobSpecRecord& spec) = 0;
  // nullopt when none is recorded (the job was submitted by other means).
  virtual std::optional<JobSpecRecord> job_spec(const std::string& cluster, const std::string& job_id) = 0;
  // Forgets the specifications recorded before `before` (seconds); returns how many.
  virtual std::size_t remove_job_specs_before(std::int64_t before) = 0;
  // Claims `record.key` of `record.user` as in flight, atomically: returns nullopt when it was
  // free (or expired at record.created: expired keys are forgotten first), else the record that
  // holds it (in flight, or done with its reply), unchanged.
  virtual std::optional<IdempotencyRecord> claim_idempotency_key(const IdempotencyRecord& record) = 0;
  // Records the reply of a claimed key (it is no longer in flight).
  virtual void finish_idempotency_key(const std::string& user, const std::string& key, int status,
                                      const std::string& response) = 0;
  // Forgets a claimed key (its request did nothing, so a retry may run it).
  virtual void release_idempotency_key(const std::string& user, const std::string& key) = 0;

  // ---- schema 4: IRI filesystem tasks.
  // Records a task; replaces the one with the same id.
  virtual void put_task(const TaskRecord& task) = 0;
  virtual std::optional<TaskRecord> task(const std::string& id) = 0;
  // The user's tasks, oldest first.
  virtual std::vector<TaskRecord> tasks_of(const std::string& user) = 0;
  // The tasks that have not ended (pending or active), oldest first.
  virtual std::vector<TaskRecord> unfinished_tasks() = 0;
  // Forgets the tasks that ended before `before`; returns how many.
  virtual std::size_t remove_tasks_ended_before(std::int64_t before) = 0;
};

// The SQLite store in the file `path` (created with its tables if missing; its directory must
// exist). ":memory:" gives a store that lasts as long as the object, for tests.
// Throws core::Failure(internal) naming the file when it cannot be opened or is not Portico's.
std::unique_ptr<Store> open_sqlite(const std::string& path);

}  // namespace portico::store
