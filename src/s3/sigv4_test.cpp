#include "s3/sigv4.hpp"
#include "core/bytes.hpp"

#include "core/error.hpp"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace portico::s3;
using portico::core::ErrorKind;
using portico::core::Failure;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// "20150830T123600Z" -> time_point.
std::chrono::system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// AWS's SigV4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
// every vector signs with these.
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1"};
const auto kSuiteTime = at(2015, 8, 30, 12, 36, 0);
const Headers kSuiteHeaders = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};

struct SuiteVector {
  const char* name;
  const char* method;
  const char* path;  // unencoded
  QueryParams query;
  Headers headers;
  const char* creq;
  const char* sts;
  const char* authz;
};

const SuiteVector kVectors[] = {
    {"get-vanilla", "GET", "/", {}, kSuiteHeaders,
     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query-order-key-case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, kSuiteHeaders,
     "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-value", "GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}, kSuiteHeaders,
     "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-query-unreserved", "GET", "/",
     {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
     kSuiteHeaders,
     "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query", "GET", "/", {{"\xE1\x88\xB4", "bar"}}, kSuiteHeaders,
     "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-utf8", "GET", "/\xE1\x88\xB4", {}, kSuiteHeaders,
     "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", {}, kSuiteHeaders,
     "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-header-key-duplicate", "GET", "/", {},
     {{"Host", "example.amazonaws.com"}, {"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"},
      {"X-Amz-Date", "20150830T123600Z"}},
     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\n"
     "host;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-trim", "GET", "/", {},
     {{"Host", "example.amazonaws.com"}, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""},
      {"X-Amz-Date", "20150830T123600Z"}},
     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
     "host;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
     "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"post-vanilla", "POST", "/", {}, kSuiteHeaders,
     "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-vanilla-query", "POST", "/", {{"Param1", "value1"}}, kSuiteHeaders,
     "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
};

}  // namespace

TEST(SigV4Suite, EveryVectorGivesAwsCanonicalRequestStringToSignAndAuthorization) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    auto signed_ = sigv4::sign_headers(kSuite, "service", v.method, v.path, v.query, v.headers, "", kSuiteTime);
    EXPECT_EQ(signed_.canonical_request, v.creq);
    EXPECT_EQ(signed_.string_to_sign, v.sts);
    EXPECT_EQ(signed_.authorization, v.authz);
  }
}

// docs.aws.amazon.com/general/latest/gr/sigv4-calculate-signature.html: the derived key of the
// IAM example.
TEST(SigV4, SigningKeyOfTheAwsExample) {
  EXPECT_EQ(portico::core::hex(sigv4::signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, Sha256OfNothing) {
  EXPECT_EQ(sigv4::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreservedBytesAndOptionallySlash) {
  EXPECT_EQ(sigv4::uri_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(sigv4::uri_encode("a b+c/d=e&f%g*h!i'(j)"), "a%20b%2Bc%2Fd%3De%26f%25g%2Ah%21i%27%28j%29");
  EXPECT_EQ(sigv4::uri_encode("dir/file name", true), "dir/file%20name");
  EXPECT_EQ(sigv4::uri_encode("\xC3\xBC\xFF"), "%C3%BC%FF");
  EXPECT_EQ(sigv4::uri_encode(std::string("a\0b", 3)), "a%00b");
}

TEST(SigV4, AmzDateIsUtcToTheSecond) {
  EXPECT_EQ(sigv4::amz_date(at(2015, 8, 30, 12, 36, 0)), "20150830T123600Z");
  EXPECT_EQ(sigv4::amz_date(at(2024, 2, 29, 23, 59, 59) + std::chrono::milliseconds(999)), "20240229T235959Z");
  EXPECT_EQ(sigv4::amz_date(at(1999, 12, 31, 0, 0, 0)), "19991231T000000Z");
}

// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html: the example presigned URL.
TEST(Presign, TheS3DocumentationExample) {
  const Endpoint endpoint{"https://s3.amazonaws.com", Addressing::virtual_host};
  const Credentials credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"};
  PresignRequest request;
  request.method = "GET";
  request.bucket = "examplebucket";
  request.key = "test.txt";
  request.now = at(2013, 5, 24, 0, 0, 0);
  request.expires = std::chrono::seconds(86400);
  EXPECT_EQ(presign(endpoint, credentials, request),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

  // The pieces, as the documentation shows them.
  const auto creq = sigv4::canonical_request(
      "GET", "/test.txt",
      sigv4::canonical_query({{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                              {"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"},
                              {"X-Amz-Date", "20130524T000000Z"},
                              {"X-Amz-Expires", "86400"},
                              {"X-Amz-SignedHeaders", "host"}}),
      sigv4::canonical_headers({{"host", "examplebucket.s3.amazonaws.com"}}), sigv4::kUnsignedPayload);
  EXPECT_EQ(creq,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  const auto sts = sigv4::string_to_sign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", creq);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(sigv4::signature(sigv4::signing_key(credentials.secret_access_key, "20130524", "us-east-1", "s3"), sts),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

namespace {

PresignRequest simple(std::string method = "GET") {
  PresignRequest r;
  r.method = std::move(method);
  r.bucket = "portico-staging";
  r.key = "k";
  r.now = at(2026, 1, 2, 3, 4, 5);
  return r;
}

const Credentials kCreds{"S3RVER", "S3RVER", "us-east-1"};

Failure presign_failure(const Endpoint& endpoint, const PresignRequest& request) {
  try {
    presign(endpoint, kCreds, request);
  } catch (const Failure& f) {
    return f;
  }
  ADD_FAILURE() << "presign did not fail";
  return Failure(ErrorKind::bad_request, "none");
}

}  // namespace

TEST(Presign, RefusesOutOfRangeExpiry) {
  const Endpoint endpoint{"http://127.0.0.1:9100"};
  auto r = simple();
  r.expires = std::chrono::seconds(0);
  EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal);
  r.expires = std::chrono::seconds(604801);
  EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal);
  r.expires = std::chrono::seconds(604800);
  EXPECT_THAT(presign(endpoint, kCreds, r), HasSubstr("&X-Amz-Expires=604800&"));
  r.expires = std::chrono::seconds(1);
  EXPECT_THAT(presign(endpoint, kCreds, r), HasSubstr("&X-Amz-Expires=1&"));
}

TEST(Presign, RefusesBadMethodsBucketsAndQueries) {
  const Endpoint endpoint{"http://127.0.0.1:9100"};
  for (const char* method : {"get", "PATCH", "", "GET "}) {
    auto r = simple(method);
    EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal) << method;
  }
  for (const char* bucket : {"", "a/b", "a b", "bucket?x"}) {
    auto r = simple();
    r.bucket = bucket;
    EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal) << bucket;
  }
  auto r = simple();
  r.query = {{"uploadId", "a"}, {"uploadId", "b"}};
  EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal);
  r.query = {{"X-Amz-Signature", "forged"}};
  EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal);
  r.query = {{"", "x"}};
  EXPECT_EQ(presign_failure(endpoint, r).kind(), ErrorKind::internal);
}

TEST(Presign, RefusesEndpointsThatAreNotSchemeHostPort) {
  for (const char* url : {"", "127.0.0.1:9100", "ftp://host", "http://", "http://host/path", "http://host?x=1",
                          "http://user@host", "http://host:", "http://host:0", "http://host:65536", "http://host:x",
                          "http://[::1", "http://[::1]x", "http://ho st", "HTTP://host"}) {
    EXPECT_EQ(presign_failure(Endpoint{url}, simple()).kind(), ErrorKind::internal) << url;
  }
}

TEST(Presign, QueryIsTheOperationsParametersInOrderThenTheAuthParameters) {
  auto r = simple("PUT");
  r.query = {{"uploadId", "b a+/="}, {"partNumber", "3"}};
  const auto url = presign(Endpoint{"http://127.0.0.1:9100"}, kCreds, r);
  EXPECT_THAT(url, StartsWith(
                       "http://127.0.0.1:9100/portico-staging/k?uploadId=b%20a%2B%2F%3D&partNumber=3&X-Amz-Algorithm="
                       "AWS4-HMAC-SHA256&X-Amz-Credential=S3RVER%2F20260102%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
                       "20260102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature="));
  EXPECT_EQ(url.size() - url.rfind('=') - 1, 64u);
}

TEST(Presign, VirtualHostFallsBackToPathStyleForIpEndpointsAndNonDnsBuckets) {
  auto r = simple();
  EXPECT_THAT(presign(Endpoint{"http://127.0.0.1:9100", Addressing::virtual_host}, kCreds, r),
              StartsWith("http://127.0.0.1:9100/portico-staging/k?"));
  EXPECT_THAT(presign(Endpoint{"http://[::1]:9100", Addressing::virtual_host}, kCreds, r),
              StartsWith("http://[::1]:9100/portico-staging/k?"));
  EXPECT_THAT(presign(Endpoint{"http://s3.local:9100", Addressing::virtual_host}, kCreds, r),
              StartsWith("http://portico-staging.s3.local:9100/k?"));
  for (const char* bucket : {"my.bucket", "MyBucket", "ab", "-abc", "abc-", "a_bc"}) {
    r.bucket = bucket;
    EXPECT_THAT(presign(Endpoint{"http://s3.local:9100", Addressing::virtual_host}, kCreds, r),
                StartsWith(std::string("http://s3.local:9100/") + bucket + "/k?"));
  }
}

// ---- Byte for byte against botocore ------------------------------------------------------

namespace {

const char* kPython = "/usr/bin/python3";

bool botocore_available() {
  return std::system((std::string(kPython) + " -c 'import botocore' >/dev/null 2>&1").c_str()) == 0;
}

struct BotoParam {
  std::string boto;   // botocore's Params name
  std::string query;  // the query parameter it becomes
  std::string value;
  bool integer = false;
};

struct BotoCase {
  std::string name;
  std::string endpoint;
  Addressing addressing = Addressing::path;
  std::string operation;  // botocore client method
  std::string method;
  std::string bucket;
  std::string key;
  QueryParams fixed;  // query that botocore's operation puts in its URI (?uploads, ?lifecycle)
  std::vector<BotoParam> params;
  Credentials credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"};
  std::chrono::system_clock::time_point now = at(2026, 3, 14, 15, 9, 26);
  std::chrono::seconds expires{3600};
};

boost::json::object botocore_spec(const BotoCase& c) {
  boost::json::object spec;
  spec["endpoint"] = c.endpoint;
  spec["addressing"] = c.addressing == Addressing::path ? "path" : "virtual";
  spec["access_key_id"] = c.credentials.access_key_id;
  spec["secret_access_key"] = c.credentials.secret_access_key;
  spec["region"] = c.credentials.region;
  spec["operation"] = c.operation;
  spec["method"] = c.method;
  spec["bucket"] = c.bucket;
  if (!c.key.empty()) spec["key"] = c.key;
  boost::json::object params;  // in order: botocore keeps it in the URL
  for (const auto& p : c.params) {
    if (p.integer)
      params[p.boto] = std::stoi(p.value);
    else
      params[p.boto] = p.value;
  }
  spec["params"] = params;
  spec["time"] = sigv4::amz_date(c.now);
  spec["expires"] = c.expires.count();
  return spec;
}

// botocore's URL for each case, from one run of testdata/botocore_presign.py.
std::vector<std::string> botocore_urls(const std::vector<BotoCase>& cases) {
  boost::json::array specs;
  for (const auto& c : cases) specs.push_back(botocore_spec(c));
  const auto input = std::filesystem::temp_directory_path() /
                     ("portico-s3-botocore-" + std::to_string(::getpid()) + ".json");
  std::ofstream(input) << boost::json::serialize(specs);
  const std::string command = std::string(kPython) + " " + PORTICO_SOURCE_DIR "/src/s3/testdata/botocore_presign.py < " +
                              input.string();
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << "botocore_presign.py failed";
  }
  std::filesystem::remove(input);
  std::vector<std::string> urls;
  std::size_t begin = 0;
  for (std::size_t end = out.find('\n'); end != std::string::npos; begin = end + 1, end = out.find('\n', begin))
    urls.push_back(out.substr(begin, end - begin));
  return urls;
}

std::string our_url(const BotoCase& c) {
  PresignRequest r;
  r.method = c.method;
  r.bucket = c.bucket;
  r.key = c.key;
  r.query = c.fixed;
  for (const auto& p : c.params) r.query.emplace_back(p.query, p.value);
  r.now = c.now;
  r.expires = c.expires;
  return presign(Endpoint{c.endpoint, c.addressing}, c.credentials, r);
}

// A case: botocore's operation, its Params in order (the URL keeps that order) and our request.
BotoCase boto(std::string name, std::string endpoint, Addressing addressing, std::string operation, std::string method,
              std::string key, std::vector<BotoParam> params = {}, QueryParams fixed = {}) {
  BotoCase c;
  c.name = std::move(name);
  c.endpoint = std::move(endpoint);
  c.addressing = addressing;
  c.operation = std::move(operation);
  c.method = std::move(method);
  c.bucket = "portico-staging";
  c.key = std::move(key);
  c.params = std::move(params);
  c.fixed = std::move(fixed);
  return c;
}

std::vector<BotoCase> boto_cases() {
  constexpr auto path = Addressing::path;
  constexpr auto virtual_host = Addressing::virtual_host;
  std::vector<BotoCase> cases;
  cases.push_back(boto("path, IP and port, plain key", "http://127.0.0.1:9100", path, "get_object", "GET",
                       "transfers/42/output.tar.gz"));
  cases.push_back(boto("virtual, host and port, spaces", "http://s3.local:9100", virtual_host, "put_object", "PUT",
                       "my dir/my file (1).txt"));
  cases.push_back(boto("virtual, https without port, hostile key", "https://s3.example.org", virtual_host,
                       "get_object", "GET",
                       "a b/c+d~e%f=g&h/\xC3\xBC/\xE6\x97\xA5\xE6\x9C\xAC/!*'();:@$,#[]?"));
  cases.push_back(boto("path, https with port, upload part", "https://s3.example.org:8443", path, "upload_part", "PUT",
                       "users/alice/big file.bin",
                       {{"UploadId", "uploadId", "2~Ab+c/d=e f&g"}, {"PartNumber", "partNumber", "3", true}}));
  cases.push_back(boto("path, upload part, partNumber first", "http://127.0.0.1:9100", path, "upload_part", "PUT", "k",
                       {{"PartNumber", "partNumber", "10000", true}, {"UploadId", "uploadId", "abc"}}));
  cases.push_back(boto("path, create multipart upload (uploads)", "http://127.0.0.1:9100", path,
                       "create_multipart_upload", "POST", "users/bob/data.h5", {}, {{"uploads", ""}}));
  cases.push_back(boto("virtual, complete multipart upload", "https://s3.example.org", virtual_host,
                       "complete_multipart_upload", "POST", "users/bob/data.h5",
                       {{"UploadId", "uploadId", "VXBsb2FkIElE.ZvciA2aWWpbmcncy-bXktbW92aWUubTJ0cyB1cGxvYWQ"}}));
  cases.push_back(boto("virtual requested, IP endpoint: path style, abort", "http://127.0.0.1:9100", virtual_host,
                       "abort_multipart_upload", "DELETE", "k~1", {{"UploadId", "uploadId", "u-1"}}));
  BotoCase dotted = boto("virtual requested, dotted bucket: path style, delete", "https://s3.example.org",
                         virtual_host, "delete_object", "DELETE", "x");
  dotted.bucket = "portico.staging";
  cases.push_back(dotted);
  cases.push_back(boto("path, head bucket", "http://127.0.0.1:9100", path, "head_bucket", "HEAD", ""));
  cases.push_back(boto("virtual, head bucket", "http://s3.local:9100", virtual_host, "head_bucket", "HEAD", ""));
  cases.push_back(boto("path, put lifecycle, explicit default port", "http://s3.local:80", path,
                       "put_bucket_lifecycle_configuration", "PUT", "", {}, {{"lifecycle", ""}}));
  cases.push_back(boto("virtual, upper-case host with default https port, head object", "https://S3.Example.ORG:443",
                       virtual_host, "head_object", "HEAD", "k"));
  BotoCase region = boto("eu region, 7 days, unnormalised key, trailing slash on the endpoint",
                         "https://s3.example.org/", path, "get_object", "GET", "/lead//x/./y/../z/");
  region.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-central-1"};
  region.expires = std::chrono::seconds(604800);
  region.now = at(2025, 12, 31, 23, 59, 59);
  cases.push_back(region);
  return cases;
}

}  // namespace

TEST(PresignBotocore, ByteForByteIdentical) {
  if (!botocore_available()) GTEST_SKIP() << kPython << " cannot import botocore (apt-get install python3-botocore)";
  const auto cases = boto_cases();
  ASSERT_GE(cases.size(), 10u);
  const auto expected = botocore_urls(cases);
  ASSERT_EQ(expected.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    ASSERT_THAT(expected[i], StartsWith("http"));
    EXPECT_EQ(our_url(cases[i]), expected[i]);
  }
}
