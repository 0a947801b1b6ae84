#pragma once
// AWS Signature Version 4 for S3, as presigned URLs (query-string authentication): the one
// signing code path of Portico's S3 calls, and the URLs handed to clients and job scripts.
//
// presign() is byte-identical to botocore's generate_presigned_url (python3-botocore 1.29.27,
// signature_version s3v4, addressing_style path or virtual): sigv4_test.cpp compares the two.
// That includes botocore's choices that are not in the SigV4 specification:
//   - the URL's query is the operation's parameters in the order given, then X-Amz-Algorithm,
//     X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and last X-Amz-Signature
//     (only the canonical query inside the signature is sorted);
//   - a parameter with an empty value is written "name=" ("?uploads=", "?lifecycle=");
//   - virtual-host addressing falls back to path style when the endpoint host is an IP address
//     or the bucket is not a DNS label (3-63 of a-z 0-9 -, no dot, no leading/trailing dash);
//   - the key is never normalised ("a//b/../c" is signed and sent as it is);
//   - the signed Host is lower case, without the port when it is the scheme's default, while the
//     URL keeps the endpoint as written.
// Presigned URLs are bearer credentials until they expire: never log one or put one in an error.
//
// Thread-safety: every function here is pure; call them from any thread.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::s3 {

enum class Addressing { path, virtual_host };

struct Endpoint {
  std::string url;  // scheme://host[:port], no path: "http://127.0.0.1:9100", "https://s3.example.org"
  Addressing addressing = Addressing::path;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "us-east-1";
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct PresignRequest {
  std::string method;  // GET, PUT, POST, DELETE, HEAD
  std::string bucket;
  std::string key;     // object key, NOT encoded; "" for a bucket-level request
  QueryParams query;   // extra, unencoded, in URL order: {"uploadId", id}, {"partNumber", "3"}, {"uploads", ""}
  std::chrono::system_clock::time_point now;
  std::chrono::seconds expires{3600};  // 1 .. 604800 (7 days, S3's maximum)
};

// The presigned URL. Throws core::Failure(internal) for an invalid endpoint URL, method, bucket
// name or expiry, or a query parameter that repeats or is one of the X-Amz-* auth parameters
// (all programming or configuration errors, never client input).
std::string presign(const Endpoint& endpoint, const Credentials& credentials, const PresignRequest& request);

// The pieces of SigV4, exposed so that each is tested against AWS's published test suite.
namespace sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Percent-encoding as SigV4 and S3 use it: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX
// (upper-case hex); with keep_slash, '/' is kept too (an object key as a path).
std::string uri_encode(std::string_view text, bool keep_slash = false);

// "20150830T123600Z" (UTC, whole seconds).
std::string amz_date(std::chrono::system_clock::time_point time);

// "20150830/us-east-1/s3/aws4_request". date: the first 8 characters of amz_date().
std::string credential_scope(std::string_view date, std::string_view region, std::string_view service);

// Unencoded name/value pairs encoded, sorted by name then value, joined by '&'.
std::string canonical_query(const QueryParams& params);

struct CanonicalHeaders {
  std::string text;            // "name:value\n" per header: names lower case, values trimmed
                               // with inner runs of spaces collapsed, repeated names joined by ','
  std::string signed_headers;  // "host;x-amz-date"
};
CanonicalHeaders canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers);

// canonical_uri: the path already encoded (S3: never normalised); canonical_query: as above.
std::string canonical_request(std::string_view method, std::string_view canonical_uri, std::string_view canonical_query,
                              const CanonicalHeaders& headers, std::string_view payload_hash);

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

// The derived key (32 raw bytes): HMAC chain over "AWS4" + secret, date, region, service, "aws4_request".
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

// Hex HMAC-SHA256 of the string to sign with the signing key.
std::string signature(std::string_view signing_key, std::string_view string_to_sign);

std::string sha256_hex(std::string_view data);

// Header-based signing (an Authorization header), only to check the pieces above against AWS's
// test suite, whose vectors sign headers rather than URLs. path: unencoded, encoded once here
// and never normalised (S3's rule); headers must hold Host and X-Amz-Date, which is not checked.
struct HeaderSignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;  // the Authorization header's value
};
HeaderSignature sign_headers(const Credentials& credentials, std::string_view service, std::string_view method,
                             std::string_view path, const QueryParams& query,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view payload, std::chrono::system_clock::time_point now);

}  // namespace sigv4
}  // namespace portico::s3
