#include "s3/sigv4.hpp"

#include "core/bytes.hpp"

#include "core/error.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace portico::s3 {

using core::ErrorKind;
using core::Failure;

namespace sigv4 {

namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), out.size(), &len))
    throw Failure(ErrorKind::internal, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Trimall: leading and trailing white space removed, inner runs made one space (as botocore).
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto seconds = floor<std::chrono::seconds>(time);
  const auto days = floor<std::chrono::days>(seconds);
  const year_month_day ymd{days};
  const hh_mm_ss hms{seconds - days};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer;
}

std::string credential_scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out(date);
  out.append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string canonical_query(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) encoded.emplace_back(uri_encode(name), uri_encode(value));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

CanonicalHeaders canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  // stable_sort keeps repeated headers in their order, which their joined value depends on.
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(headers.size());
  for (const auto& [name, value] : headers) sorted.emplace_back(lower(trim_all(name)), trim_all(value));
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i].first == sorted[i - 1].first) {
      out.text.pop_back();  // the '\n': the value continues
      out.text.append(",").append(sorted[i].second).append("\n");
      continue;
    }
    out.text.append(sorted[i].first).append(":").append(sorted[i].second).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += sorted[i].first;
  }
  return out;
}

std::string canonical_request(std::string_view method, std::string_view canonical_uri, std::string_view canonical_query,
                              const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string out(method);
  out.append("\n").append(canonical_uri).append("\n").append(canonical_query).append("\n");
  out.append(headers.text).append("\n").append(headers.signed_headers).append("\n").append(payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(sha256_hex(canonical_request));
  return out;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  const std::string k_secret = "AWS4" + std::string(secret);
  const std::string k_date = hmac(k_secret, date);
  const std::string k_region = hmac(k_date, region);
  const std::string k_service = hmac(k_region, service);
  return hmac(k_service, "aws4_request");
}

std::string signature(std::string_view signing_key, std::string_view string_to_sign) {
  return core::hex(hmac(signing_key, string_to_sign));
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr))
    throw Failure(ErrorKind::internal, "SHA-256 failed");
  return core::hex(std::string_view(reinterpret_cast<const char*>(out.data()), len));
}


HeaderSignature sign_headers(const Credentials& credentials, std::string_view service, std::string_view method,
                             std::string_view path, const QueryParams& query,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view payload, std::chrono::system_clock::time_point now) {
  const std::string date_time = amz_date(now);
  const std::string date = date_time.substr(0, 8);
  const std::string scope = credential_scope(date, credentials.region, service);
  const CanonicalHeaders canonical = canonical_headers(headers);
  HeaderSignature out;
  out.canonical_request =
      canonical_request(method, uri_encode(path, true), canonical_query(query), canonical, sha256_hex(payload));
  out.string_to_sign = string_to_sign(date_time, scope, out.canonical_request);
  out.signature = signature(signing_key(credentials.secret_access_key, date, credentials.region, service),
                            out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + canonical.signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace sigv4

namespace {

// An endpoint URL split the way signing needs it.
struct ParsedEndpoint {
  std::string scheme;     // "http" or "https"
  std::string authority;  // host[:port] as written, for the URL
  std::string host;       // as written ("[::1]" with brackets)
  bool ip = false;        // an IPv4 or IPv6 literal: never virtual-host addressed
  std::string signed_host;  // lower case, ":port" only when not the scheme's default
};

bool is_ipv4_shape(std::string_view host) {  // botocore's IPV4_RE: four groups of 1-3 digits
  int groups = 0;
  std::size_t digits = 0;
  for (char c : host) {
    if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else if (c == '.') {
      if (digits == 0 || ++groups > 3) return false;
      digits = 0;
    } else {
      return false;
    }
  }
  return groups == 3 && digits > 0;
}

ParsedEndpoint parse_endpoint(std::string_view url) {
  const auto bad = [] { return Failure(ErrorKind::internal, "the S3 endpoint must be an http(s)://host[:port] URL"); };
  ParsedEndpoint out;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) throw bad();
  out.scheme = std::string(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") throw bad();
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) throw bad();
  for (unsigned char c : rest)
    if (c <= ' ' || c >= 0x7F || c == '/' || c == '?' || c == '#' || c == '@' || c == '%' || c == '\\') throw bad();
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw bad();
    host = rest.substr(0, close + 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad();
      port = after.substr(1);
    }
    out.ip = true;
  } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") throw bad();
  if (!out.ip) out.ip = is_ipv4_shape(host);
  out.authority = std::string(rest);
  out.host = std::string(host);
  out.signed_host = std::string(host);
  for (char& c : out.signed_host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (rest.back() == ':') throw bad();
  if (!port.empty()) {
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) throw bad();
    const unsigned default_port = out.scheme == "https" ? 443 : 80;
    if (number != default_port) out.signed_host.append(":").append(std::to_string(number));
  }
  return out;
}

// botocore's validate_bucket_name: the names S3 has ever accepted.
bool valid_bucket(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 255) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
}

// aws.isVirtualHostableS3Bucket(bucket, false) of botocore's endpoint rules: one DNS label.
bool virtual_hostable(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63 || bucket.front() == '-' || bucket.back() == '-') return false;
  return std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_auth_param(std::string_view name) {
  for (std::string_view auth : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                                "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"})
    if (name == auth) return true;
  return false;
}

}  // namespace

std::string presign(const Endpoint& endpoint, const Credentials& credentials, const PresignRequest& request) {
  using namespace sigv4;
  if (request.expires.count() < 1 || request.expires.count() > 604800)
    throw Failure(ErrorKind::internal, "a presigned S3 URL must expire within 1 s to 7 days");
  static constexpr std::string_view kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  if (std::find(std::begin(kMethods), std::end(kMethods), request.method) == std::end(kMethods))
    throw Failure(ErrorKind::internal, "unsupported method for a presigned S3 URL");
  if (!valid_bucket(request.bucket)) throw Failure(ErrorKind::internal, "invalid S3 bucket name");
  for (std::size_t i = 0; i < request.query.size(); ++i) {
    const auto& name = request.query[i].first;
    if (name.empty() || is_auth_param(name))
      throw Failure(ErrorKind::internal, "invalid query parameter for a presigned S3 URL");
    for (std::size_t j = 0; j < i; ++j)
      if (request.query[j].first == name)
        throw Failure(ErrorKind::internal, "repeated query parameter for a presigned S3 URL");
  }
  const ParsedEndpoint target = parse_endpoint(endpoint.url);

  const bool virtual_host =
      endpoint.addressing == Addressing::virtual_host && !target.ip && virtual_hostable(request.bucket);
  std::string authority = target.authority;
  std::string host = target.signed_host;
  std::string path;
  if (virtual_host) {
    authority = request.bucket + "." + authority;
    host = request.bucket + "." + host;
    path.append("/").append(uri_encode(request.key, true));
  } else {
    path.append("/").append(uri_encode(request.bucket));
    if (!request.key.empty()) path.append("/").append(uri_encode(request.key, true));
  }

  const std::string date_time = amz_date(request.now);
  const std::string date = date_time.substr(0, 8);
  const std::string scope = credential_scope(date, credentials.region, "s3");
  QueryParams all = request.query;
  const QueryParams auth = {
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", credentials.access_key_id + "/" + scope},
      {"X-Amz-Date", date_time},
      {"X-Amz-Expires", std::to_string(request.expires.count())},
      {"X-Amz-SignedHeaders", "host"},
  };
  all.insert(all.end(), auth.begin(), auth.end());

  const CanonicalHeaders headers = canonical_headers({{"host", host}});
  const std::string canonical = canonical_request(request.method, path, canonical_query(all), headers, kUnsignedPayload);
  const std::string to_sign = string_to_sign(date_time, scope, canonical);
  const std::string signed_value =
      signature(signing_key(credentials.secret_access_key, date, credentials.region, "s3"), to_sign);

  std::string url = target.scheme + "://" + authority + path + "?";
  for (const auto& [name, value] : all) url.append(uri_encode(name)).append("=").append(uri_encode(value)).append("&");
  url.append("X-Amz-Signature=").append(signed_value);
  return url;
}

}  // namespace portico::s3
