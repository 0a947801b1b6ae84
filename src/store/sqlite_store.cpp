#include "store/store.hpp"

#include <sqlite3.h>

#include <mutex>
#include <string_view>

#include "core/error.hpp"

namespace portico::store {

namespace {

using core::ErrorKind;
using core::Failure;

// The schema's version, in SQLite's user_version: a later Portico migrates from it.
// Version 2 added incidents, their resources, events, settings and the revision counter.
// Version 3 added job_specs and idempotency_keys (the IRI compute API).
// Version 4 added tasks (the IRI filesystem API).
constexpr int kSchemaVersion = 4;
constexpr std::string_view kSelectTasks =
    "SELECT id, user_name, status, command, result, created, updated, ended FROM tasks ";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw Failure(ErrorKind::internal, std::string("store: cannot prepare a statement: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& text) {
    check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, i, value));
    return *this;
  }
  Statement& bind(int i, const std::optional<std::int64_t>& value) {
    check(value ? sqlite3_bind_int64(stmt_, i, *value) : sqlite3_bind_null(stmt_, i));
    return *this;
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Failure(ErrorKind::internal, std::string("store: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::optional<std::int64_t> optional_integer(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt_, column);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw Failure(ErrorKind::internal, std::string("store: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw Failure(ErrorKind::internal, "store: cannot open " + path + ": " + message);
    }
    // Another process holding the file briefly (a second replica, the CLI) is waited for.
    sqlite3_busy_timeout(db_, 5000);
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      Statement version(db_, "PRAGMA user_version");
      version.step();
      auto found = version.integer(0);
      if (found > kSchemaVersion)
        throw Failure(ErrorKind::internal, "store: " + path + " was written by a newer Portico (schema " +
                                               std::to_string(found) + ")");
      // Every version's tables are created if missing: a version 1 file (pending uploads only)
      // gains the later tables, in one transaction with the new version number.
      exec("BEGIN IMMEDIATE");
      try {
        exec("CREATE TABLE IF NOT EXISTS pending_uploads ("
             " id TEXT PRIMARY KEY, cluster TEXT NOT NULL, user_name TEXT NOT NULL, job_id TEXT NOT NULL,"
             " object_key TEXT NOT NULL, upload_id TEXT NOT NULL, size INTEGER NOT NULL,"
             " created INTEGER NOT NULL, deadline INTEGER NOT NULL, error_log TEXT NOT NULL)");
        exec("CREATE TABLE IF NOT EXISTS incidents ("
             " id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, status TEXT NOT NULL,"
             " type TEXT NOT NULL, resolution TEXT NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER,"
             " last_modified INTEGER NOT NULL)");
        exec("CREATE TABLE IF NOT EXISTS incident_resources ("
             " incident_id TEXT NOT NULL, position INTEGER NOT NULL, resource_id TEXT NOT NULL,"
             " PRIMARY KEY (incident_id, position))");
        exec("CREATE TABLE IF NOT EXISTS events ("
             " id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, status TEXT NOT NULL,"
             " resource_id TEXT NOT NULL, incident_id TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
             " last_modified INTEGER NOT NULL)");
        exec("CREATE INDEX IF NOT EXISTS events_by_time ON events (occurred_at)");
        exec("CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
        exec("CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)");
        exec("INSERT INTO revision (id, value) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM revision)");
        // Version 3.
        exec("CREATE TABLE IF NOT EXISTS job_specs ("
             " cluster TEXT NOT NULL, job_id TEXT NOT NULL, user_name TEXT NOT NULL, spec TEXT NOT NULL,"
             " created INTEGER NOT NULL, PRIMARY KEY (cluster, job_id))");
        exec("CREATE INDEX IF NOT EXISTS job_specs_by_time ON job_specs (created)");
        exec("CREATE TABLE IF NOT EXISTS idempotency_keys ("
             " user_name TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, in_flight INTEGER NOT NULL,"
             " status INTEGER NOT NULL, response TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
             " PRIMARY KEY (user_name, key))");
        exec("CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys (expires)");
        // Version 4.
        exec("CREATE TABLE IF NOT EXISTS tasks ("
             " id TEXT PRIMARY KEY, user_name TEXT NOT NULL, status TEXT NOT NULL, command TEXT NOT NULL,"
             " result TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL, ended INTEGER)");
        exec("CREATE INDEX IF NOT EXISTS tasks_by_user ON tasks (user_name, created)");
        exec("CREATE INDEX IF NOT EXISTS tasks_by_end ON tasks (ended)");
        exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    } catch (const Failure& e) {
      sqlite3_close(db_);
      throw Failure(ErrorKind::internal, std::string(e.what()) + " (" + path + ")");
    }
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  void add_pending_upload(const PendingUpload& u) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT OR REPLACE INTO pending_uploads (id, cluster, user_name, job_id, object_key, upload_id, size,"
                " created, deadline, error_log) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    s.bind(1, u.id).bind(2, u.cluster).bind(3, u.user).bind(4, u.job_id).bind(5, u.object_key).bind(6, u.upload_id);
    s.bind(7, static_cast<std::int64_t>(u.size)).bind(8, u.created).bind(9, u.deadline).bind(10, u.error_log);
    s.step();
  }

  std::vector<PendingUpload> pending_uploads() override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT id, cluster, user_name, job_id, object_key, upload_id, size, created, deadline, error_log"
                " FROM pending_uploads ORDER BY created, id");
    std::vector<PendingUpload> out;
    while (s.step()) {
      PendingUpload u;
      u.id = s.text(0);
      u.cluster = s.text(1);
      u.user = s.text(2);
      u.job_id = s.text(3);
      u.object_key = s.text(4);
      u.upload_id = s.text(5);
      u.size = static_cast<std::uint64_t>(s.integer(6));
      u.created = s.integer(7);
      u.deadline = s.integer(8);
      u.error_log = s.text(9);
      out.push_back(std::move(u));
    }
    return out;
  }

  void remove_pending_upload(const std::string& id) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM pending_uploads WHERE id = ?1");
    s.bind(1, id);
    s.step();
  }

  void put_incident(const IncidentRecord& i) override {
    std::lock_guard lock(mutex_);
    Transaction t(*this);
    Statement s(db_,
                "INSERT OR REPLACE INTO incidents (id, name, description, status, type, resolution, start_time,"
                " end_time, last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    s.bind(1, i.id).bind(2, i.name).bind(3, i.description).bind(4, i.status).bind(5, i.type).bind(6, i.resolution);
    s.bind(7, i.start).bind(8, i.end).bind(9, i.last_modified);
    s.step();
    Statement clear(db_, "DELETE FROM incident_resources WHERE incident_id = ?1");
    clear.bind(1, i.id);
    clear.step();
    for (std::size_t k = 0; k < i.resource_ids.size(); ++k) {
      Statement r(db_, "INSERT INTO incident_resources (incident_id, position, resource_id) VALUES (?1, ?2, ?3)");
      r.bind(1, i.id).bind(2, static_cast<std::int64_t>(k)).bind(3, i.resource_ids[k]);
      r.step();
    }
    bump_revision();
    t.commit();
  }

  std::vector<IncidentRecord> incidents() override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT id, name, description, status, type, resolution, start_time, end_time, last_modified"
                " FROM incidents ORDER BY start_time, id");
    std::vector<IncidentRecord> out;
    while (s.step()) {
      IncidentRecord i;
      i.id = s.text(0);
      i.name = s.text(1);
      i.description = s.text(2);
      i.status = s.text(3);
      i.type = s.text(4);
      i.resolution = s.text(5);
      i.start = s.integer(6);
      i.end = s.optional_integer(7);
      i.last_modified = s.integer(8);
      out.push_back(std::move(i));
    }
    Statement r(db_, "SELECT incident_id, resource_id FROM incident_resources ORDER BY incident_id, position");
    while (r.step()) {
      auto id = r.text(0);
      for (auto& i : out)
        if (i.id == id) i.resource_ids.push_back(r.text(1));
    }
    return out;
  }

  void add_event(const EventRecord& e) override {
    std::lock_guard lock(mutex_);
    Transaction t(*this);
    Statement s(db_,
                "INSERT INTO events (id, name, description, status, resource_id, incident_id, occurred_at,"
                " last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, e.id).bind(2, e.name).bind(3, e.description).bind(4, e.status).bind(5, e.resource_id);
    s.bind(6, e.incident_id).bind(7, e.occurred_at).bind(8, e.last_modified);
    s.step();
    bump_revision();
    t.commit();
  }

  std::vector<EventRecord> events(std::int64_t since) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT id, name, description, status, resource_id, incident_id, occurred_at, last_modified"
                " FROM events WHERE occurred_at >= ?1 ORDER BY occurred_at, id");
    s.bind(1, since);
    std::vector<EventRecord> out;
    while (s.step()) {
      EventRecord e;
      e.id = s.text(0);
      e.name = s.text(1);
      e.description = s.text(2);
      e.status = s.text(3);
      e.resource_id = s.text(4);
      e.incident_id = s.text(5);
      e.occurred_at = s.integer(6);
      e.last_modified = s.integer(7);
      out.push_back(std::move(e));
    }
    return out;
  }

  std::size_t remove_events_before(std::int64_t before) override {
    std::lock_guard lock(mutex_);
    Transaction t(*this);
    Statement s(db_, "DELETE FROM events WHERE occurred_at < ?1");
    s.bind(1, before);
    s.step();
    auto removed = static_cast<std::size_t>(sqlite3_changes(db_));
    if (removed) bump_revision();
    t.commit();
    return removed;
  }

  std::int64_t revision() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT value FROM revision WHERE id = 1");
    return s.step() ? s.integer(0) : 0;
  }

  std::optional<std::string> setting(const std::string& key) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT value FROM settings WHERE name = ?1");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void set_setting(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)");
    s.bind(1, key).bind(2, value);
    s.step();
  }

  void put_job_spec(const JobSpecRecord& r) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT OR REPLACE INTO job_specs (cluster, job_id, user_name, spec, created) VALUES (?1, ?2, ?3, ?4, ?5)");
    s.bind(1, r.cluster).bind(2, r.job_id).bind(3, r.user).bind(4, r.spec).bind(5, r.created);
    s.step();
  }

  std::optional<JobSpecRecord> job_spec(const std::string& cluster, const std::string& job_id) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT user_name, spec, created FROM job_specs WHERE cluster = ?1 AND job_id = ?2");
    s.bind(1, cluster).bind(2, job_id);
    if (!s.step()) return std::nullopt;
    return JobSpecRecord{cluster, job_id, s.text(0), s.text(1), s.integer(2)};
  }

  std::size_t remove_job_specs_before(std::int64_t before) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM job_specs WHERE created < ?1");
    s.bind(1, before);
    s.step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

  std::optional<IdempotencyRecord> claim_idempotency_key(const IdempotencyRecord& r) override {
    std::lock_guard lock(mutex_);
    Transaction t(*this);
    Statement expired(db_, "DELETE FROM idempotency_keys WHERE expires <= ?1");
    expired.bind(1, r.created);
    expired.step();
    Statement found(db_,
                    "SELECT fingerprint, in_flight, status, response, created, expires FROM idempotency_keys"
                    " WHERE user_name = ?1 AND key = ?2");
    found.bind(1, r.user).bind(2, r.key);
    if (found.step()) {
      IdempotencyRecord held{r.user, r.key, found.text(0), found.integer(1) != 0, static_cast<int>(found.integer(2)),
                             found.text(3), found.integer(4), found.integer(5)};
      t.commit();
      return held;
    }
    Statement s(db_,
                "INSERT INTO idempotency_keys (user_name, key, fingerprint, in_flight, status, response, created,"
                " expires) VALUES (?1, ?2, ?3, 1, 0, '', ?4, ?5)");
    s.bind(1, r.user).bind(2, r.key).bind(3, r.fingerprint).bind(4, r.created).bind(5, r.expires);
    s.step();
    t.commit();
    return std::nullopt;
  }

  void finish_idempotency_key(const std::string& user, const std::string& key, int status,
                              const std::string& response) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "UPDATE idempotency_keys SET in_flight = 0, status = ?3, response = ?4 WHERE user_name = ?1 AND key = ?2");
    s.bind(1, user).bind(2, key).bind(3, static_cast<std::int64_t>(status)).bind(4, response);
    s.step();
  }

  void release_idempotency_key(const std::string& user, const std::string& key) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM idempotency_keys WHERE user_name = ?1 AND key = ?2");
    s.bind(1, user).bind(2, key);
    s.step();
  }

  void put_task(const TaskRecord& t) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT OR REPLACE INTO tasks (id, user_name, status, command, result, created, updated, ended)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, t.id).bind(2, t.user).bind(3, t.status).bind(4, t.command).bind(5, t.result).bind(6, t.created);
    s.bind(7, t.updated).bind(8, t.ended);
    s.step();
  }

  std::optional<TaskRecord> task(const std::string& id) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, (std::string(kSelectTasks) + "WHERE id = ?1").c_str());
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return task_row(s);
  }

  std::vector<TaskRecord> tasks_of(const std::string& user) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, (std::string(kSelectTasks) + "WHERE user_name = ?1 ORDER BY created, id").c_str());
    s.bind(1, user);
    std::vector<TaskRecord> out;
    while (s.step()) out.push_back(task_row(s));
    return out;
  }

  std::vector<TaskRecord> unfinished_tasks() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, (std::string(kSelectTasks) + "WHERE ended IS NULL ORDER BY created, id").c_str());
    std::vector<TaskRecord> out;
    while (s.step()) out.push_back(task_row(s));
    return out;
  }

  std::size_t remove_tasks_ended_before(std::int64_t before) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM tasks WHERE ended IS NOT NULL AND ended < ?1");
    s.bind(1, before);
    s.step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

 private:
  static TaskRecord task_row(const Statement& s) {
    return TaskRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6),
                      s.optional_integer(7)};
  }

  // One write transaction; rolled back unless committed. REQUIRES: mutex_ held.
  class Transaction {
   public:
    explicit Transaction(SqliteStore& store) : store_(store) { store_.exec("BEGIN IMMEDIATE"); }
    ~Transaction() {
      if (!done_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
      store_.exec("COMMIT");
      done_ = true;
    }

   private:
    SqliteStore& store_;
    bool done_ = false;
  };

  void bump_revision() { exec("UPDATE revision SET value = value + 1 WHERE id = 1"); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw Failure(ErrorKind::internal, "store: " + message);
    }
  }

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path) { return std::make_unique<SqliteStore>(path); }

}  // namespace portico::store
