#pragma once
// Pure readers of the S3 XML answers Portico needs and writers of the bodies it sends.
// Parsing is Boost.PropertyTree's xml_parser (no DTDs, no entity expansion beyond XML's own);
// element names are matched without a namespace prefix ("s3:Error" is an Error).
//
// Thread-safety: pure functions; call them from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::s3::xml {

struct Error {
  std::string code;     // "NoSuchUpload", "AccessDenied", ...
  std::string message;  // S3's own words (may be empty)
};

// The <Error> document of a body, or nullopt when the body is empty or its root is another
// element. S3 sends one with every 4xx/5xx, and CompleteMultipartUpload may send one with 200.
// Throws core::Failure(internal) on malformed XML.
std::optional<Error> read_error(std::string_view body);

// InitiateMultipartUploadResult/UploadId. Throws core::Failure(internal) on malformed XML, another
// root, or a missing or empty UploadId.
std::string read_upload_id(std::string_view body);

struct Part {
  int number = 0;    // 1 .. 10000
  std::string etag;  // as S3 returned it for the part, quotes included
};

// The CompleteMultipartUpload request body. Throws core::Failure(bad_request) when there is no part,
// a number is out of range or not strictly ascending (S3 refuses both), or an ETag holds a
// character XML cannot carry.
std::string complete_multipart_upload_body(const std::vector<Part>& parts);

// PutBucketLifecycleConfiguration: one enabled rule for the whole bucket (empty prefix filter)
// expiring objects after expiration_days and aborting multipart uploads left incomplete after
// abort_incomplete_days. Throws core::Failure(internal) for a count below 1.
std::string lifecycle_configuration_body(int expiration_days, int abort_incomplete_days);

// CreateBucket's body for a region other than us-east-1 (which takes none: empty string).
std::string create_bucket_body(std::string_view region);

// Text escaped for XML character data (& < >).
std::string escape(std::string_view text);

}  // namespace portico::s3::xml
