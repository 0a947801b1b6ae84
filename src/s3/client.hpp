#pragma once
// The S3 calls Portico makes (staging bucket, multipart uploads) and the presigned URLs it hands
// to clients and job scripts. Every call, Portico's own included, goes through a URL from
// presign(), so there is one signing code path, checked byte for byte against botocore.
//
// Two endpoints, because the same bucket may be reached by two names: `internal` is what Portico
// and the cluster's nodes use, `public_` what clients outside use (they may be the same).
// Portico's own calls always use `internal`.
//
// Failures: an unexpected S3 answer (including a 200 that holds an <Error>, which S3 sends for
// some calls) is core::Failure(backend_unreachable, "S3 <Operation> failed: HTTP <status> <Code>");
// S3 unreachable is core::Failure(backend_unreachable, "S3 <Operation> failed: <why>", naming
// host:port). No message or detail ever holds a URL, a query string or a signature: presigned
// URLs are bearer credentials and must not reach logs or error bodies.
//
// Thread-safety: immutable after construction; every member may be called concurrently from
// any thread (each call owns its connection).

#include "net/http_client.hpp"
#include "s3/sigv4.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace portico::s3 {

class Client {
 public:
  enum class Side { internal, public_ };

  // REQUIRES: http is not null. Throws core::Failure(internal) for an invalid endpoint URL or
  // bucket name (checked here so that a bad configuration fails at start, not at first use).
  Client(std::shared_ptr<const net::HttpClient> http, Endpoint internal, Endpoint public_, Credentials credentials,
         std::string bucket);

  // presign() for the client's bucket, at the side's endpoint; request.bucket is ignored and a
  // request.now left at the epoch means the system clock's now.
  std::string url(Side side, PresignRequest request) const;

  // HEAD the bucket; when it does not exist (404), create it (PUT, with a LocationConstraint
  // unless the region is us-east-1) and give it the lifecycle rule (PUT ?lifecycle with
  // Content-MD5, which S3 requires): objects expire and incomplete multipart uploads are aborted
  // after expiration_days. An existing bucket is left as it is. REQUIRES: expiration_days >= 1.
  boost::asio::awaitable<void> ensure_bucket(int expiration_days) const;

  // POST ?uploads: the new upload's UploadId.
  boost::asio::awaitable<std::string> create_multipart_upload(std::string key) const;
  // DELETE ?uploadId=: an upload S3 no longer knows (404 NoSuchUpload) counts as aborted.
  boost::asio::awaitable<void> abort_multipart_upload(std::string key, std::string upload_id) const;
  // The object's Content-Length, or nullopt when it does not exist (404).
  boost::asio::awaitable<std::optional<std::uint64_t>> head_object(std::string key) const;
  // An object that does not exist (404) counts as deleted, as it does in S3 itself (204).
  boost::asio::awaitable<void> delete_object(std::string key) const;

  // Presigned URLs for clients and job scripts (lifetime: 1 s .. 7 days). The client then talks
  // to S3 directly; Portico never sees those bytes. REQUIRES: key not empty, part_number 1..10000.
  std::string upload_part_url(Side side, const std::string& key, const std::string& upload_id, int part_number,
                              std::chrono::seconds lifetime) const;
  std::string complete_upload_url(Side side, const std::string& key, const std::string& upload_id,
                                  std::chrono::seconds lifetime) const;
  std::string get_url(Side side, const std::string& key, std::chrono::seconds lifetime) const;
  std::string delete_url(Side side, const std::string& key, std::chrono::seconds lifetime) const;

  const std::string& bucket() const noexcept { return bucket_; }

 private:
  // Sends one request to a URL made by url(Side::internal, ...); the answer whatever its status.
  boost::asio::awaitable<net::HttpResponse> send(const char* operation, net::HttpRequest request) const;

  std::shared_ptr<const net::HttpClient> http_;
  Endpoint internal_endpoint_;
  Endpoint public_endpoint_;
  Credentials credentials_;
  std::string bucket_;
};

}  // namespace portico::s3
