#include "s3/xml.hpp"

#include "core/error.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace portico::s3;
using portico::core::ErrorKind;
using portico::core::Failure;
using ::testing::HasSubstr;

namespace {

// Real answers of the demo site's S3 endpoint (testdata/s3rver/README.md).
std::string s3rver(const std::string& name) {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/src/s3/testdata/s3rver/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

template <class F>
Failure failure_of(F f) {
  try {
    f();
  } catch (const Failure& e) {
    return e;
  }
  ADD_FAILURE() << "no Failure thrown";
  return Failure(ErrorKind::validation, "none");
}

// Well-formed, by an XML parser that is not the code under test's reader.
boost::property_tree::ptree parsed(const std::string& body) {
  boost::property_tree::ptree tree;
  std::istringstream in(body);
  boost::property_tree::read_xml(in, tree);
  return tree;
}

}  // namespace

TEST(S3Xml, UploadIdFromS3rver) {
  EXPECT_EQ(xml::read_upload_id(s3rver("initiate_multipart_upload.xml")), "0ddb773e3331fc1d869c1fc220ddbc22");
}

// docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html, with its namespace.
TEST(S3Xml, UploadIdFromTheAwsExample) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Bucket>example-bucket</Bucket>\n"
      "  <Key>example-object</Key>\n"
      "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
      "</InitiateMultipartUploadResult>";
  EXPECT_EQ(xml::read_upload_id(body), "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
}

TEST(S3Xml, UploadIdEntitiesAreDecodedAndPrefixesIgnored) {
  EXPECT_EQ(xml::read_upload_id("<s3:InitiateMultipartUploadResult xmlns:s3=\"x\"><s3:UploadId> a&amp;b&lt;c "
                                "</s3:UploadId></s3:InitiateMultipartUploadResult>"),
            "a&b<c");
}

TEST(S3Xml, UploadIdRefusesOtherDocuments) {
  for (const std::string& body :
       {std::string(""), std::string("  \n"), s3rver("error_no_such_bucket.xml"),
        std::string("<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>"),
        std::string("<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>"),
        std::string("<InitiateMultipartUploadResult><UploadId>x</UploadId>"), std::string("not xml at all"),
        std::string("<a><b></a>")}) {
    auto f = failure_of([&] { xml::read_upload_id(body); });
    EXPECT_EQ(f.kind(), ErrorKind::internal) << body;
    EXPECT_THAT(f.what(), HasSubstr("S3")) << body;
  }
}

TEST(S3Xml, ErrorsFromS3rver) {
  const std::pair<const char*, const char*> cases[] = {
      {"error_no_such_bucket.xml", "NoSuchBucket"},
      {"error_invalid_access_key_id.xml", "InvalidAccessKeyId"},
      {"error_lifecycle_not_implemented.xml", "NotImplemented"},
      {"error_abort_method_not_allowed.xml", "MethodNotAllowed"},
      {"error_bucket_already_exists.xml", "BucketAlreadyExists"},
  };
  for (const auto& [file, code] : cases) {
    auto error = xml::read_error(s3rver(file));
    ASSERT_TRUE(error) << file;
    EXPECT_EQ(error->code, code);
    EXPECT_FALSE(error->message.empty()) << file;
  }
  EXPECT_EQ(xml::read_error(s3rver("error_no_such_bucket.xml"))->message, "The specified bucket does not exist");
}

// docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html: an error in a 200 answer.
TEST(S3Xml, ErrorInsideACompleteMultipartUploadAnswer) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error>\n<Code>InternalError</Code>\n"
      "<Message>We encountered an internal error. Please try again.</Message>\n"
      "<RequestId>656c76696e6727732072657175657374</RequestId>\n"
      "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>\n</Error>";
  auto error = xml::read_error(body);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "InternalError");
  EXPECT_EQ(error->message, "We encountered an internal error. Please try again.");
}

TEST(S3Xml, NoErrorInSuccessfulOrEmptyAnswers) {
  EXPECT_FALSE(xml::read_error(s3rver("complete_multipart_upload_result.xml")));
  EXPECT_FALSE(xml::read_error(s3rver("initiate_multipart_upload.xml")));
  EXPECT_FALSE(xml::read_error(""));
  EXPECT_FALSE(xml::read_error("\r\n "));
}

TEST(S3Xml, ErrorWithoutMessageOrWithEntities) {
  auto error = xml::read_error("<Error><Code>AccessDenied</Code></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "AccessDenied");
  EXPECT_EQ(error->message, "");
  error = xml::read_error("<!-- c --><Error><Message>it&apos;s &quot;x&quot; &amp; y</Message></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "");
  EXPECT_EQ(error->message, "it's \"x\" & y");
}

TEST(S3Xml, MalformedErrorBodiesAreInternalFailures) {
  for (const char* body : {"<Error><Code>x</Error>", "<Error>", "<html><body><br></body></html>", "plain text"}) {
    auto f = failure_of([&] { xml::read_error(body); });
    EXPECT_EQ(f.kind(), ErrorKind::internal) << body;
  }
}

TEST(S3Xml, CompleteMultipartUploadBody) {
  const auto body = xml::complete_multipart_upload_body(
      {{1, "\"5f363e0e58a95f06cbe9bbc662c5dfb6\""}, {2, "\"7aea2552dfe7eb84b9443b6fc9ba6e01\""}, {7, "a&b<c>"}});
  EXPECT_EQ(body,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"5f363e0e58a95f06cbe9bbc662c5dfb6\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"7aea2552dfe7eb84b9443b6fc9ba6e01\"</ETag></Part>"
            "<Part><PartNumber>7</PartNumber><ETag>a&amp;b&lt;c&gt;</ETag></Part>"
            "</CompleteMultipartUpload>");
  auto tree = parsed(body);
  EXPECT_EQ(tree.get_child("CompleteMultipartUpload").count("Part"), 3u);
  EXPECT_EQ(tree.get_child("CompleteMultipartUpload").back().second.get<std::string>("ETag"), "a&b<c>");
}

TEST(S3Xml, CompleteMultipartUploadBodyRefusesWhatS3Would) {
  const std::vector<std::vector<xml::Part>> bad = {
      {},
      {{0, "\"e\""}},
      {{10001, "\"e\""}},
      {{2, "\"e\""}, {1, "\"e\""}},
      {{1, "\"e\""}, {1, "\"e\""}},
      {{1, ""}},
      {{1, std::string("a\x01", 2)}},
  };
  for (const auto& parts : bad) EXPECT_EQ(failure_of([&] { xml::complete_multipart_upload_body(parts); }).kind(),
                                          ErrorKind::bad_request);
  EXPECT_NO_THROW(xml::complete_multipart_upload_body({{1, "\"e\""}, {10000, "\"f\""}}));
}

TEST(S3Xml, LifecycleConfigurationBody) {
  const auto body = xml::lifecycle_configuration_body(7, 2);
  EXPECT_EQ(body,
            "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
            "<Expiration><Days>7</Days></Expiration><ID>portico-expiry</ID><Filter><Prefix></Prefix></Filter>"
            "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation>"
            "</AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>");
  auto rule = parsed(body).get_child("LifecycleConfiguration.Rule");
  EXPECT_EQ(rule.get<int>("Expiration.Days"), 7);
  EXPECT_EQ(rule.get<std::string>("Filter.Prefix"), "");
  EXPECT_EQ(rule.get<int>("AbortIncompleteMultipartUpload.DaysAfterInitiation"), 2);
  EXPECT_EQ(failure_of([] { xml::lifecycle_configuration_body(0, 1); }).kind(), ErrorKind::internal);
  EXPECT_EQ(failure_of([] { xml::lifecycle_configuration_body(1, -1); }).kind(), ErrorKind::internal);
}

TEST(S3Xml, CreateBucketBody) {
  EXPECT_EQ(xml::create_bucket_body("us-east-1"), "");
  EXPECT_EQ(xml::create_bucket_body(""), "");
  EXPECT_EQ(xml::create_bucket_body("eu-central-1"),
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>eu-central-1</LocationConstraint></CreateBucketConfiguration>");
}
