#pragma once
// The ids a request carries into the logs: its own, the client's X-Request-ID when safe, and
// the trace of a W3C traceparent header. Pure readers of header values, apart from the fresh id.
// Thread-safety: every function may be called from any thread.

#include <string>
#include <string_view>

namespace portico::http {

// A fresh request id: 16 random bytes, hex.
std::string new_request_id();

// The client's X-Request-ID when it is short and plain (so it is safe in logs), else empty.
std::string sane_request_id(std::string_view value);

// The trace id of a W3C traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"), else empty.
std::string trace_id_from_traceparent(std::string_view value);

}  // namespace portico::http
