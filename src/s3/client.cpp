#include "s3/client.hpp"

#include "core/error.hpp"
#include "s3/xml.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace portico::s3 {

using core::ErrorKind;
using core::Failure;

namespace {

// Portico's own calls are made at once, so their URLs need live only long enough to be sent.
constexpr std::chrono::seconds kOwnCallLifetime{300};

std::string base64_md5(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_md5(), nullptr))
    throw Failure(ErrorKind::internal, "MD5 failed");
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> out{};
  const int n = EVP_EncodeBlock(out.data(), digest.data(), static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

// S3's error code, if the body is an <Error> document (a malformed body is no error document:
// proxies answer HTML).
std::optional<xml::Error> error_in(const net::HttpResponse& response) {
  try {
    return xml::read_error(response.body);
  } catch (const Failure&) {
    return std::nullopt;
  }
}

// A code fit for a message: S3's codes are short words; anything else is not repeated.
std::string safe_code(const std::optional<xml::Error>& error) {
  if (!error || error->code.empty() || error->code.size() > 64) return {};
  const bool word = std::all_of(error->code.begin(), error->code.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
  return word ? error->code : std::string();
}

// S3's message, for the log only, and only when it cannot be carrying a URL or signature.
std::string safe_detail(const std::optional<xml::Error>& error) {
  if (!error || error->message.empty() || error->message.size() > 300) return {};
  std::string lower = error->message;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view risky : {"x-amz-", "signature=", "://", "?"})
    if (lower.find(risky) != std::string::npos) return {};
  for (unsigned char c : error->message)
    if (c < 0x20 || c == 0x7F) return {};
  return error->message;
}

Failure s3_failure(const char* operation, const net::HttpResponse& response,
                   const std::optional<xml::Error>& error) {
  std::string message = std::string("S3 ") + operation + " failed: HTTP " + std::to_string(response.status);
  if (auto code = safe_code(error); !code.empty()) message += " " + code;
  return Failure(ErrorKind::backend_unreachable, message, safe_detail(error));
}

Failure s3_failure(const char* operation, const net::HttpResponse& response) {
  return s3_failure(operation, response, error_in(response));
}

bool is_code(const std::optional<xml::Error>& error, std::string_view code) { return error && error->code == code; }

// A 2xx answer may still hold an <Error> (S3 sends 200 before it knows the outcome of some calls).
void check_success(const char* operation, const net::HttpResponse& response) {
  if (auto error = error_in(response)) throw s3_failure(operation, response, error);
}

void require_key(const std::string& key) {
  if (key.empty()) throw Failure(ErrorKind::internal, "an S3 object call needs a key");
}

PresignRequest object_request(std::string method, const std::string& key, QueryParams query,
                              std::chrono::seconds lifetime) {
  require_key(key);
  PresignRequest request;
  request.method = std::move(method);
  request.key = key;
  request.query = std::move(query);
  request.expires = lifetime;
  return request;
}

}  // namespace

Client::Client(std::shared_ptr<const net::HttpClient> http, Endpoint internal, Endpoint public_,
               Credentials credentials, std::string bucket)
    : http_(std::move(http)),
      internal_endpoint_(std::move(internal)),
      public_endpoint_(std::move(public_)),
      credentials_(std::move(credentials)),
      bucket_(std::move(bucket)) {
  PresignRequest probe;
  probe.method = "HEAD";
  url(Side::internal, probe);
  url(Side::public_, probe);
}

std::string Client::url(Side side, PresignRequest request) const {
  request.bucket = bucket_;
  if (request.now == std::chrono::system_clock::time_point{}) request.now = std::chrono::system_clock::now();
  return presign(side == Side::internal ? internal_endpoint_ : public_endpoint_, credentials_, request);
}

boost::asio::awaitable<net::HttpResponse> Client::send(const char* operation, net::HttpRequest request) const {
  std::optional<Failure> failure;
  std::optional<net::HttpResponse> response;
  try {
    response = co_await http_->request(std::move(request));
  } catch (const Failure& e) {
    // HttpClient's messages name host:port only, never the URL.
    failure.emplace(e.kind(), std::string("S3 ") + operation + " failed: " + e.what(), e.detail());
  }
  if (failure) throw *failure;
  co_return std::move(*response);
}

boost::asio::awaitable<void> Client::ensure_bucket(int expiration_days) const {
  const std::string lifecycle = xml::lifecycle_configuration_body(expiration_days, expiration_days);

  PresignRequest head_request;
  head_request.method = "HEAD";
  head_request.expires = kOwnCallLifetime;
  net::HttpRequest head;
  head.method = "HEAD";
  head.url = url(Side::internal, head_request);
  const net::HttpResponse exists = co_await send("HeadBucket", std::move(head));
  if (exists.status == 200) co_return;
  if (exists.status != 404) throw s3_failure("HeadBucket", exists);

  PresignRequest create_request;
  create_request.method = "PUT";
  create_request.expires = kOwnCallLifetime;
  net::HttpRequest create;
  create.method = "PUT";
  create.url = url(Side::internal, create_request);
  create.body = xml::create_bucket_body(credentials_.region);
  if (!create.body.empty()) create.headers.push_back({"Content-Type", "application/xml"});
  const net::HttpResponse created = co_await send("CreateBucket", std::move(create));
  // Another gateway may have created it meanwhile: the same rule is then put twice, harmlessly.
  const auto create_error = error_in(created);
  if (created.status == 200) {
    if (create_error) throw s3_failure("CreateBucket", created, create_error);
  } else if (!(created.status == 409 && is_code(create_error, "BucketAlreadyOwnedByYou"))) {
    throw s3_failure("CreateBucket", created, create_error);
  }

  PresignRequest rule_request;
  rule_request.method = "PUT";
  rule_request.query = {{"lifecycle", ""}};
  rule_request.expires = kOwnCallLifetime;
  net::HttpRequest rule;
  rule.method = "PUT";
  rule.url = url(Side::internal, rule_request);
  rule.headers.push_back({"Content-MD5", base64_md5(lifecycle)});
  rule.headers.push_back({"Content-Type", "application/xml"});
  rule.body = lifecycle;
  const net::HttpResponse ruled = co_await send("PutBucketLifecycleConfiguration", std::move(rule));
  if (ruled.status != 200 && ruled.status != 204) throw s3_failure("PutBucketLifecycleConfiguration", ruled);
  check_success("PutBucketLifecycleConfiguration", ruled);
}

boost::asio::awaitable<std::string> Client::create_multipart_upload(std::string key) const {
  const PresignRequest presign_request = object_request("POST", key, {{"uploads", ""}}, kOwnCallLifetime);
  net::HttpRequest request;
  request.method = "POST";
  request.url = url(Side::internal, presign_request);
  const net::HttpResponse response = co_await send("CreateMultipartUpload", std::move(request));
  if (response.status != 200) throw s3_failure("CreateMultipartUpload", response);
  check_success("CreateMultipartUpload", response);
  co_return xml::read_upload_id(response.body);
}

boost::asio::awaitable<void> Client::abort_multipart_upload(std::string key, std::string upload_id) const {
  if (upload_id.empty()) throw Failure(ErrorKind::internal, "AbortMultipartUpload needs an upload id");
  const PresignRequest presign_request = object_request("DELETE", key, {{"uploadId", upload_id}}, kOwnCallLifetime);
  net::HttpRequest request;
  request.method = "DELETE";
  request.url = url(Side::internal, presign_request);
  const net::HttpResponse response = co_await send("AbortMultipartUpload", std::move(request));
  if (response.status == 204 || response.status == 200) {
    check_success("AbortMultipartUpload", response);
    co_return;
  }
  const auto error = error_in(response);
  if (response.status == 404 && is_code(error, "NoSuchUpload")) co_return;
  throw s3_failure("AbortMultipartUpload", response, error);
}

boost::asio::awaitable<std::optional<std::uint64_t>> Client::head_object(std::string key) const {
  const PresignRequest presign_request = object_request("HEAD", key, {}, kOwnCallLifetime);
  net::HttpRequest request;
  request.method = "HEAD";
  request.url = url(Side::internal, presign_request);
  const net::HttpResponse response = co_await send("HeadObject", std::move(request));
  if (response.status == 404) co_return std::nullopt;
  if (response.status != 200) throw s3_failure("HeadObject", response);
  const std::string* length = response.header("Content-Length");
  std::uint64_t size = 0;
  if (length == nullptr || length->empty() ||
      std::from_chars(length->data(), length->data() + length->size(), size).ptr != length->data() + length->size())
    throw Failure(ErrorKind::backend_unreachable, "S3 HeadObject failed: no valid Content-Length in the answer");
  co_return size;
}

boost::asio::awaitable<void> Client::delete_object(std::string key) const {
  const PresignRequest presign_request = object_request("DELETE", key, {}, kOwnCallLifetime);
  net::HttpRequest request;
  request.method = "DELETE";
  request.url = url(Side::internal, presign_request);
  const net::HttpResponse response = co_await send("DeleteObject", std::move(request));
  if (response.status == 204 || response.status == 200) {
    check_success("DeleteObject", response);
    co_return;
  }
  if (response.status == 404) co_return;
  throw s3_failure("DeleteObject", response);
}

std::string Client::upload_part_url(Side side, const std::string& key, const std::string& upload_id, int part_number,
                                    std::chrono::seconds lifetime) const {
  if (part_number < 1 || part_number > 10000) throw Failure(ErrorKind::internal, "S3 part numbers are 1 to 10000");
  if (upload_id.empty()) throw Failure(ErrorKind::internal, "UploadPart needs an upload id");
  // uploadId before partNumber: botocore's order for upload_part(Bucket, Key, UploadId, PartNumber).
  return url(side, object_request("PUT", key, {{"uploadId", upload_id}, {"partNumber", std::to_string(part_number)}},
                                  lifetime));
}

std::string Client::complete_upload_url(Side side, const std::string& key, const std::string& upload_id,
                                        std::chrono::seconds lifetime) const {
  if (upload_id.empty()) throw Failure(ErrorKind::internal, "CompleteMultipartUpload needs an upload id");
  return url(side, object_request("POST", key, {{"uploadId", upload_id}}, lifetime));
}

std::string Client::get_url(Side side, const std::string& key, std::chrono::seconds lifetime) const {
  return url(side, object_request("GET", key, {}, lifetime));
}

std::string Client::delete_url(Side side, const std::string& key, std::chrono::seconds lifetime) const {
  return url(side, object_request("DELETE", key, {}, lifetime));
}

}  // namespace portico::s3
