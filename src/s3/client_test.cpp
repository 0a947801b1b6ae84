#include "s3/client.hpp"

#include "core/error.hpp"
#include "net/test_http_server.hpp"
#include "s3/xml.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/url/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>

using namespace portico::s3;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::net::testing::TestHttpServer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace asio = boost::asio;

namespace {

template <class T>
T await(asio::awaitable<T> awaitable) {
  asio::io_context ioc;
  auto result = asio::co_spawn(ioc, std::move(awaitable), asio::use_future);
  ioc.run();
  return result.get();
}

template <class T>
Failure failure_of(asio::awaitable<T> awaitable) {
  try {
    await(std::move(awaitable));
  } catch (const Failure& f) {
    return f;
  }
  ADD_FAILURE() << "the call did not fail";
  return Failure(ErrorKind::validation, "none");
}

std::string s3rver(const std::string& name) {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/src/s3/testdata/s3rver/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string error_xml(const std::string& code, const std::string& message = "an error") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
         "</Message></Error>";
}

TestHttpServer::Response answer(unsigned status, std::string body = {}) {
  return TestHttpServer::response(status, std::move(body), "application/xml");
}

TestHttpServer::Response head_answer(unsigned status, std::uint64_t length) {
  auto res = TestHttpServer::response(status, "", "binary/octet-stream");
  res.content_length(length);
  return res;
}

// What a request asked for: its encoded path, and its query decoded, in order.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  std::string first_query_name() const { return query.empty() ? "" : query.front().first; }
  std::optional<std::string> param(const std::string& name) const {
    for (const auto& [n, v] : query)
      if (n == name) return v;
    return std::nullopt;
  }
};

Target target_of(const TestHttpServer::Request& req) {
  const std::string text(req.target());  // the url_view refers to it
  auto url = boost::urls::parse_origin_form(text);
  EXPECT_TRUE(url) << text;
  Target out;
  out.path = std::string(url->encoded_path());
  for (auto p : url->params()) out.query.emplace_back(p.key, p.has_value ? p.value : "");
  return out;
}

std::string base64_md5(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

std::uint16_t closed_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// An S3 answering from a queue (500 when it runs out), remembering every request.
struct FakeS3 {
  std::mutex mutex;
  std::vector<TestHttpServer::Request> seen;
  std::deque<TestHttpServer::Response> answers;
  TestHttpServer server{[this](const TestHttpServer::Request& req) -> std::optional<TestHttpServer::Response> {
    std::lock_guard lock(mutex);
    seen.push_back(req);
    if (answers.empty()) return answer(500, error_xml("InternalError"));
    auto res = answers.front();
    answers.pop_front();
    return res;
  }};

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  // The public endpoint is a closed port: Portico's own calls must never go there.
  Client client(std::string region = "us-east-1") {
    return Client(std::make_shared<const portico::net::HttpClient>(), Endpoint{endpoint()},
                  Endpoint{"http://127.0.0.1:" + std::to_string(closed_port())},
                  Credentials{"S3RVER", "S3RVER", std::move(region)}, "portico-staging");
  }

  void expect(std::initializer_list<TestHttpServer::Response> list) {
    std::lock_guard lock(mutex);
    answers.assign(list.begin(), list.end());
  }
  std::vector<TestHttpServer::Request> requests() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

// Every call is presigned: the auth parameters follow the operation's own, signature last.
void expect_presigned(const Target& t) {
  ASSERT_GE(t.query.size(), 6u);
  EXPECT_EQ(t.query.back().first, "X-Amz-Signature");
  EXPECT_EQ(t.param("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
  EXPECT_EQ(t.param("X-Amz-SignedHeaders"), "host");
  EXPECT_EQ(t.param("X-Amz-Expires"), "300");
}

}  // namespace

TEST(S3Client, EnsureBucketLeavesAnExistingBucketAlone) {
  FakeS3 s3;
  s3.expect({answer(200)});
  await(s3.client().ensure_bucket(7));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method_string(), "HEAD");
  auto t = target_of(seen[0]);
  EXPECT_EQ(t.path, "/portico-staging");
  EXPECT_EQ(t.first_query_name(), "X-Amz-Algorithm");
  expect_presigned(t);
}

TEST(S3Client, EnsureBucketCreatesAMissingBucketWithItsLifecycleRule) {
  FakeS3 s3;
  s3.expect({answer(404), answer(200), answer(200)});
  await(s3.client().ensure_bucket(7));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 3u);

  EXPECT_EQ(seen[1].method_string(), "PUT");
  auto create = target_of(seen[1]);
  EXPECT_EQ(create.path, "/portico-staging");
  EXPECT_EQ(create.first_query_name(), "X-Amz-Algorithm");
  expect_presigned(create);
  EXPECT_EQ(seen[1].body(), "");  // us-east-1: no LocationConstraint

  EXPECT_EQ(seen[2].method_string(), "PUT");
  auto rule = target_of(seen[2]);
  EXPECT_EQ(rule.path, "/portico-staging");
  ASSERT_FALSE(rule.query.empty());
  EXPECT_EQ(rule.query.front(), (std::pair<std::string, std::string>{"lifecycle", ""}));
  expect_presigned(rule);
  EXPECT_EQ(seen[2].body(), xml::lifecycle_configuration_body(7, 7));
  EXPECT_EQ(seen[2]["Content-MD5"], base64_md5(seen[2].body()));
  EXPECT_EQ(seen[2]["Content-Type"], "application/xml");
}

TEST(S3Client, EnsureBucketOutsideUsEast1SendsTheLocationConstraint) {
  FakeS3 s3;
  s3.expect({answer(404), answer(200), answer(200)});
  await(s3.client("eu-central-1").ensure_bucket(3));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].body(), xml::create_bucket_body("eu-central-1"));
  EXPECT_THAT(*target_of(seen[1]).param("X-Amz-Credential"), HasSubstr("/eu-central-1/s3/aws4_request"));
  EXPECT_THAT(seen[2].body(), HasSubstr("<Days>3</Days>"));
}

TEST(S3Client, EnsureBucketRacingAnotherGatewayStillPutsTheRule) {
  FakeS3 s3;
  s3.expect({answer(404), answer(409, error_xml("BucketAlreadyOwnedByYou")), answer(200)});
  await(s3.client().ensure_bucket(7));
  EXPECT_EQ(s3.requests().size(), 3u);
}

TEST(S3Client, EnsureBucketFailures) {
  struct Case {
    std::vector<TestHttpServer::Response> answers;
    const char* message;
    std::size_t requests;
  };
  const std::vector<Case> cases = {
      {{answer(403)}, "S3 HeadBucket failed: HTTP 403", 1},
      {{answer(301)}, "S3 HeadBucket failed: HTTP 301", 1},
      {{answer(404), answer(409, s3rver("error_bucket_already_exists.xml"))},
       "S3 CreateBucket failed: HTTP 409 BucketAlreadyExists", 2},
      {{answer(404), answer(200, error_xml("InternalError"))}, "S3 CreateBucket failed: HTTP 200 InternalError", 2},
      {{answer(404), answer(403, error_xml("AccessDenied"))}, "S3 CreateBucket failed: HTTP 403 AccessDenied", 2},
      {{answer(404), answer(200), answer(501, s3rver("error_lifecycle_not_implemented.xml"))},
       "S3 PutBucketLifecycleConfiguration failed: HTTP 501 NotImplemented", 3},
      {{answer(404), answer(200), answer(200, error_xml("MalformedXML"))},
       "S3 PutBucketLifecycleConfiguration failed: HTTP 200 MalformedXML", 3},
  };
  for (const auto& c : cases) {
    FakeS3 s3;
    s3.answers.assign(c.answers.begin(), c.answers.end());
    auto f = failure_of(s3.client().ensure_bucket(7));
    EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable) << c.message;
    EXPECT_STREQ(f.what(), c.message);
    EXPECT_EQ(s3.requests().size(), c.requests) << c.message;
  }
  FakeS3 s3;
  EXPECT_EQ(failure_of(s3.client().ensure_bucket(0)).kind(), ErrorKind::internal);
  EXPECT_EQ(s3.requests().size(), 0u);
}

TEST(S3Client, CreateMultipartUploadPostsUploadsAndReadsTheUploadId) {
  FakeS3 s3;
  s3.expect({answer(200, s3rver("initiate_multipart_upload.xml"))});
  EXPECT_EQ(await(s3.client().create_multipart_upload("a b/\xC3\xBC.bin")), "0ddb773e3331fc1d869c1fc220ddbc22");
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method_string(), "POST");
  auto t = target_of(seen[0]);
  EXPECT_EQ(t.path, "/portico-staging/a%20b/%C3%BC.bin");
  EXPECT_EQ(t.query.front(), (std::pair<std::string, std::string>{"uploads", ""}));
  expect_presigned(t);
  EXPECT_EQ(seen[0].body(), "");
}

TEST(S3Client, CreateMultipartUploadFailures) {
  const std::vector<std::pair<TestHttpServer::Response, const char*>> cases = {
      {answer(200, error_xml("InternalError")), "S3 CreateMultipartUpload failed: HTTP 200 InternalError"},
      {answer(403, s3rver("error_invalid_access_key_id.xml")),
       "S3 CreateMultipartUpload failed: HTTP 403 InvalidAccessKeyId"},
      {answer(404, s3rver("error_no_such_bucket.xml")), "S3 CreateMultipartUpload failed: HTTP 404 NoSuchBucket"},
      {answer(502, "<html><body>Bad Gateway<br></body></html>"), "S3 CreateMultipartUpload failed: HTTP 502"},
  };
  for (const auto& [res, message] : cases) {
    FakeS3 s3;
    s3.expect({res});
    auto f = failure_of(s3.client().create_multipart_upload("k"));
    EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable) << message;
    EXPECT_STREQ(f.what(), message);
  }
  FakeS3 s3;
  s3.expect({answer(200, "<InitiateMultipartUploadResult><UploadId>")});
  EXPECT_EQ(failure_of(s3.client().create_multipart_upload("k")).kind(), ErrorKind::internal);
  EXPECT_EQ(failure_of(s3.client().create_multipart_upload("")).kind(), ErrorKind::internal);
}

TEST(S3Client, AbortMultipartUploadDeletesTheUploadId) {
  FakeS3 s3;
  s3.expect({answer(204)});
  await(s3.client().abort_multipart_upload("dir/k", "id+/= 1"));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method_string(), "DELETE");
  auto t = target_of(seen[0]);
  EXPECT_EQ(t.path, "/portico-staging/dir/k");
  EXPECT_EQ(t.query.front(), (std::pair<std::string, std::string>{"uploadId", "id+/= 1"}));
  EXPECT_THAT(std::string(seen[0].target()), HasSubstr("?uploadId=id%2B%2F%3D%201&"));
  expect_presigned(t);
}

TEST(S3Client, AbortMultipartUploadOfAnUnknownUploadIsDone) {
  FakeS3 s3;
  s3.expect({answer(404, error_xml("NoSuchUpload"))});
  EXPECT_NO_THROW(await(s3.client().abort_multipart_upload("k", "gone")));
}

TEST(S3Client, AbortMultipartUploadFailures) {
  const std::vector<std::pair<TestHttpServer::Response, const char*>> cases = {
      {answer(404, s3rver("error_no_such_bucket.xml")), "S3 AbortMultipartUpload failed: HTTP 404 NoSuchBucket"},
      {answer(404), "S3 AbortMultipartUpload failed: HTTP 404"},
      {answer(403, error_xml("AccessDenied")), "S3 AbortMultipartUpload failed: HTTP 403 AccessDenied"},
      {answer(405, s3rver("error_abort_method_not_allowed.xml")),
       "S3 AbortMultipartUpload failed: HTTP 405 MethodNotAllowed"},
      {answer(200, error_xml("InternalError")), "S3 AbortMultipartUpload failed: HTTP 200 InternalError"},
  };
  for (const auto& [res, message] : cases) {
    FakeS3 s3;
    s3.expect({res});
    auto f = failure_of(s3.client().abort_multipart_upload("k", "id"));
    EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable) << message;
    EXPECT_STREQ(f.what(), message);
  }
  FakeS3 s3;
  EXPECT_EQ(failure_of(s3.client().abort_multipart_upload("k", "")).kind(), ErrorKind::internal);
}

TEST(S3Client, HeadObjectReadsContentLength) {
  FakeS3 s3;
  s3.expect({head_answer(200, 5242884), head_answer(404, 146), head_answer(200, 0)});
  auto client = s3.client();
  EXPECT_EQ(await(client.head_object("job/out.bin")), std::optional<std::uint64_t>(5242884));
  EXPECT_EQ(await(client.head_object("missing")), std::nullopt);
  EXPECT_EQ(await(client.head_object("empty")), std::optional<std::uint64_t>(0));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method_string(), "HEAD");
  auto t = target_of(seen[0]);
  EXPECT_EQ(t.path, "/portico-staging/job/out.bin");
  EXPECT_EQ(t.first_query_name(), "X-Amz-Algorithm");
  expect_presigned(t);
}

TEST(S3Client, HeadObjectFailures) {
  FakeS3 s3;
  s3.expect({head_answer(403, 0)});
  auto f = failure_of(s3.client().head_object("k"));
  EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
  EXPECT_STREQ(f.what(), "S3 HeadObject failed: HTTP 403");
}

TEST(S3Client, DeleteObjectTakesGoneForDone) {
  FakeS3 s3;
  s3.expect({answer(204), answer(404, error_xml("NoSuchKey")), answer(200)});
  auto client = s3.client();
  await(client.delete_object("a"));
  await(client.delete_object("b"));
  await(client.delete_object("c"));
  auto seen = s3.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method_string(), "DELETE");
  auto t = target_of(seen[0]);
  EXPECT_EQ(t.path, "/portico-staging/a");
  EXPECT_EQ(t.first_query_name(), "X-Amz-Algorithm");

  s3.expect({answer(500, error_xml("InternalError")), answer(403, error_xml("AccessDenied"))});
  EXPECT_STREQ(failure_of(client.delete_object("d")).what(), "S3 DeleteObject failed: HTTP 500 InternalError");
  EXPECT_STREQ(failure_of(client.delete_object("d")).what(), "S3 DeleteObject failed: HTTP 403 AccessDenied");
}

TEST(S3Client, UnreachableS3NamesTheOperationAndHostOnly) {
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
  Client client(std::make_shared<const portico::net::HttpClient>(), Endpoint{endpoint}, Endpoint{endpoint},
                Credentials{"S3RVER", "S3RVER"}, "portico-staging");
  auto f = failure_of(client.head_object("secret/key"));
  EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
  EXPECT_THAT(f.what(), StartsWith("S3 HeadObject failed: cannot connect to 127.0.0.1:"));
  EXPECT_THAT(f.what(), Not(HasSubstr("secret")));
}

// Presigned URLs are credentials: an S3 that echoes the request in its error (as real ones do in
// SignatureDoesNotMatch answers) must not get it into a Failure's message or detail.
TEST(S3Client, NoFailureCarriesTheUrl) {
  FakeS3 s3;
  s3.server.set_handler([](const TestHttpServer::Request& req) -> std::optional<TestHttpServer::Response> {
    const std::string target(req.target());
    const unsigned status = req.method() == boost::beast::http::verb::post ? 200 : 403;
    return answer(status, error_xml(xml::escape(target), "The request " + xml::escape(target) + " was refused"));
  });
  auto client = s3.client();
  std::vector<Failure> failures;
  failures.push_back(failure_of(client.ensure_bucket(7)));
  failures.push_back(failure_of(client.create_multipart_upload("hidden/key")));
  failures.push_back(failure_of(client.abort_multipart_upload("hidden/key", "the-upload")));
  failures.push_back(failure_of(client.head_object("hidden/key")));
  failures.push_back(failure_of(client.delete_object("hidden/key")));
  s3.server.set_handler([](const TestHttpServer::Request&) -> std::optional<TestHttpServer::Response> {
    return answer(403, error_xml("SignatureDoesNotMatch", "String to sign: X-Amz-Signature=abc"));
  });
  failures.push_back(failure_of(client.delete_object("hidden/key")));
  s3.server.stop();
  failures.push_back(failure_of(client.delete_object("hidden/key")));
  for (const auto& f : failures) {
    for (const std::string& text : {std::string(f.what()), f.detail()}) {
      EXPECT_THAT(text, Not(HasSubstr("X-Amz-Signature"))) << text;
      EXPECT_THAT(text, Not(HasSubstr("X-Amz-Credential"))) << text;
      EXPECT_THAT(text, Not(HasSubstr("hidden"))) << text;
      EXPECT_THAT(text, Not(HasSubstr("the-upload"))) << text;
      EXPECT_THAT(text, Not(HasSubstr("?"))) << text;
    }
  }
  EXPECT_STREQ(failures[5].what(), "S3 DeleteObject failed: HTTP 403 SignatureDoesNotMatch");
}

TEST(S3Client, UrlMakersSignForTheRequestedSide) {
  const Endpoint internal{"http://127.0.0.1:9100"};
  const Endpoint public_{"https://s3.example.org", Addressing::virtual_host};
  const Credentials credentials{"S3RVER", "S3RVER"};
  Client client(std::make_shared<const portico::net::HttpClient>(), internal, public_, credentials,
                "portico-staging");

  const auto part = client.upload_part_url(Client::Side::public_, "u/alice/f 1", "up+id", 3, std::chrono::hours(2));
  EXPECT_THAT(part, StartsWith("https://portico-staging.s3.example.org/u/alice/f%201?uploadId=up%2Bid&partNumber=3&"
                               "X-Amz-Algorithm="));
  EXPECT_THAT(part, HasSubstr("&X-Amz-Expires=7200&"));
  EXPECT_THAT(client.upload_part_url(Client::Side::internal, "k", "id", 1, std::chrono::seconds(60)),
              StartsWith("http://127.0.0.1:9100/portico-staging/k?uploadId=id&partNumber=1&X-Amz-Algorithm="));
  EXPECT_THAT(client.complete_upload_url(Client::Side::internal, "k", "id", std::chrono::seconds(60)),
              StartsWith("http://127.0.0.1:9100/portico-staging/k?uploadId=id&X-Amz-Algorithm="));
  EXPECT_THAT(client.get_url(Client::Side::public_, "k", std::chrono::seconds(60)),
              StartsWith("https://portico-staging.s3.example.org/k?X-Amz-Algorithm="));
  EXPECT_THAT(client.delete_url(Client::Side::internal, "k", std::chrono::seconds(60)),
              StartsWith("http://127.0.0.1:9100/portico-staging/k?X-Amz-Algorithm="));

  // url() is presign() for the client's bucket: the same bytes for the same instant.
  PresignRequest request;
  request.method = "GET";
  request.bucket = "ignored";
  request.key = "k";
  request.now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  PresignRequest expected = request;
  expected.bucket = "portico-staging";
  EXPECT_EQ(client.url(Client::Side::public_, request), presign(public_, credentials, expected));
  EXPECT_EQ(client.url(Client::Side::internal, request), presign(internal, credentials, expected));

  for (auto bad : {+[](const Client& c) { c.upload_part_url(Client::Side::internal, "k", "id", 0, std::chrono::seconds(60)); },
                   +[](const Client& c) { c.upload_part_url(Client::Side::internal, "k", "id", 10001, std::chrono::seconds(60)); },
                   +[](const Client& c) { c.upload_part_url(Client::Side::internal, "k", "", 1, std::chrono::seconds(60)); },
                   +[](const Client& c) { c.get_url(Client::Side::internal, "", std::chrono::seconds(60)); },
                   +[](const Client& c) { c.get_url(Client::Side::internal, "k", std::chrono::seconds(0)); },
                   +[](const Client& c) { c.get_url(Client::Side::internal, "k", std::chrono::seconds(604801)); }}) {
    try {
      bad(client);
      ADD_FAILURE() << "no Failure";
    } catch (const Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::internal);
    }
  }
}

TEST(S3Client, ConstructionRefusesABadConfiguration) {
  auto http = std::make_shared<const portico::net::HttpClient>();
  const Endpoint good{"http://127.0.0.1:9100"};
  auto make = [&](Endpoint internal, Endpoint public_, std::string bucket) {
    try {
      Client(http, internal, public_, Credentials{"a", "b"}, bucket);
    } catch (const Failure& f) {
      return f.kind();
    }
    return ErrorKind::validation;
  };
  EXPECT_EQ(make(Endpoint{"127.0.0.1:9100"}, good, "b"), ErrorKind::internal);
  EXPECT_EQ(make(good, Endpoint{"https://s3.example.org/path"}, "b"), ErrorKind::internal);
  EXPECT_EQ(make(good, good, ""), ErrorKind::internal);
  EXPECT_EQ(make(good, good, "portico-staging"), ErrorKind::validation);  // no failure
}
