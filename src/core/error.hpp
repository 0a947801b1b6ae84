#pragma once
// The one error type of Portico's cores. API layers map a Failure to their own wire format
// (FirecREST JSON, IRI problem+json) in one place each; cores never speak HTTP.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace portico::core {

enum class ErrorKind {
  validation,           // a request field is malformed or out of range (400, with fields)
  bad_request,          // the request as a whole cannot be done (400)
  unauthorized,         // no valid credential (401)
  forbidden,            // authenticated, not allowed (403)
  not_found,            // the named thing does not exist (404)
  method_not_allowed,   // (405)
  conflict,             // it already exists (400 in FirecREST, 409 in IRI)
  too_large,            // body or output over a configured cap (413)
  timeout,              // a backend command ran out of time (408)
  backend_unreachable,  // SSH or scheduler connection failed (424)
  unavailable,          // the health checker knows the service is down (503)
  rate_limited,         // (429)
  not_implemented,      // (501)
  internal,             // a bug or an unexpected backend answer (500)
};

struct FieldError {
  std::string location;  // "body", "query", "path", "header"
  std::string name;
  std::string message;
};

class Failure : public std::runtime_error {
 public:
  // message: safe to show the client. detail: for the log only (may name hosts, commands).
  Failure(ErrorKind kind, std::string message, std::string detail = {}, std::vector<FieldError> fields = {})
      : std::runtime_error(message), kind_(kind), detail_(std::move(detail)), fields_(std::move(fields)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::vector<FieldError>& fields() const noexcept { return fields_; }
  // When the client may try again (Retry-After of a 429 or 503); zero: the API's default.
  std::chrono::seconds retry_after() const noexcept { return retry_after_; }
  void set_retry_after(std::chrono::seconds after) noexcept { retry_after_ = after; }

 private:
  ErrorKind kind_;
  std::string detail_;
  std::vector<FieldError> fields_;
  std::chrono::seconds retry_after_{0};
};

inline Failure validation_error(std::string location, std::string name, std::string message) {
  std::string text = name + ": " + message;
  return Failure(ErrorKind::validation, text, {}, {{std::move(location), std::move(name), std::move(message)}});
}

// Gathers the problems of a request's fields, to refuse them all at once (each one named in the
// reply) rather than the first only.
class FieldErrors {
 public:
  explicit FieldErrors(std::string location) : location_(std::move(location)) {}
  void add(std::string_view name, std::string message) {
    fields_.push_back({location_, std::string(name), std::move(message)});
  }
  bool empty() const { return fields_.empty(); }
  // Throws Failure(validation) naming every field gathered; nothing when there is none.
  void raise() {
    if (fields_.empty()) return;
    std::string text;
    for (const auto& f : fields_) text += (text.empty() ? "" : "; ") + f.name + ": " + f.message;
    throw Failure(ErrorKind::validation, text, {}, std::move(fields_));
  }

 private:
  std::string location_;
  std::vector<FieldError> fields_;
};

const char* to_string(ErrorKind kind) noexcept;

}  // namespace portico::core
