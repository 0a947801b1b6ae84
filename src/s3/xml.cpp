#include "s3/xml.hpp"

#include "core/error.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <sstream>

namespace portico::s3::xml {

using boost::property_tree::ptree;
using core::ErrorKind;
using core::Failure;

namespace {

constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string_view local_name(std::string_view name) {
  const auto colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_markup(std::string_view name) { return name == "<xmlattr>" || name == "<xmlcomment>"; }

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool blank(std::string_view body) { return trim(body).empty(); }

// The document's root element (name, node). Throws on malformed XML or no element at all.
std::pair<std::string, ptree> parse_root(std::string_view body) {
  ptree doc;
  try {
    std::istringstream in{std::string(body)};
    boost::property_tree::read_xml(in, doc, boost::property_tree::xml_parser::no_comments);
  } catch (const boost::property_tree::xml_parser_error& e) {
    throw Failure(ErrorKind::internal, "S3 answered malformed XML", e.message());
  }
  for (auto& [name, node] : doc)
    if (!is_markup(name)) return {std::string(local_name(name)), std::move(node)};
  throw Failure(ErrorKind::internal, "S3 answered an XML document without an element");
}

// The trimmed text of the first child element with this local name, or nullopt.
std::optional<std::string> child_text(const ptree& node, std::string_view name) {
  for (const auto& [child_name, child] : node)
    if (!is_markup(child_name) && local_name(child_name) == name) return std::string(trim(child.data()));
  return std::nullopt;
}

// XML 1.0 Char: no C0 control other than tab, LF, CR (bytes >= 0x80 are UTF-8, passed through).
bool xml_text_ok(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<Error> read_error(std::string_view body) {
  if (blank(body)) return std::nullopt;
  const auto [root, node] = parse_root(body);
  if (root != "Error") return std::nullopt;
  Error error;
  error.code = child_text(node, "Code").value_or("");
  error.message = child_text(node, "Message").value_or("");
  return error;
}

std::string read_upload_id(std::string_view body) {
  if (blank(body)) throw Failure(ErrorKind::internal, "S3 answered CreateMultipartUpload with an empty body");
  const auto [root, node] = parse_root(body);
  if (root != "InitiateMultipartUploadResult")
    throw Failure(ErrorKind::internal, "S3 answered CreateMultipartUpload with an unexpected document");
  auto id = child_text(node, "UploadId");
  if (!id || id->empty()) throw Failure(ErrorKind::internal, "S3 answered CreateMultipartUpload without an UploadId");
  return *id;
}

std::string complete_multipart_upload_body(const std::vector<Part>& parts) {
  if (parts.empty()) throw Failure(ErrorKind::bad_request, "a multipart upload needs at least one part");
  std::string out = "<CompleteMultipartUpload xmlns=\"" + std::string(kNamespace) + "\">";
  int previous = 0;
  for (const auto& part : parts) {
    if (part.number < 1 || part.number > 10000)
      throw Failure(ErrorKind::bad_request, "part numbers must be 1 to 10000");
    if (part.number <= previous) throw Failure(ErrorKind::bad_request, "part numbers must be strictly ascending");
    if (part.etag.empty() || !xml_text_ok(part.etag))
      throw Failure(ErrorKind::bad_request, "invalid ETag for part " + std::to_string(part.number));
    previous = part.number;
    out += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" + escape(part.etag) +
           "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string lifecycle_configuration_body(int expiration_days, int abort_incomplete_days) {
  if (expiration_days < 1 || abort_incomplete_days < 1)
    throw Failure(ErrorKind::internal, "S3 lifecycle days must be at least 1");
  // Element order is the schema's (LifecycleRule: Expiration, ID, Filter, Status, ...,
  // AbortIncompleteMultipartUpload): some S3 implementations insist on it.
  return "<LifecycleConfiguration xmlns=\"" + std::string(kNamespace) +
         "\"><Rule><Expiration><Days>" + std::to_string(expiration_days) +
         "</Days></Expiration><ID>portico-expiry</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
         "<AbortIncompleteMultipartUpload><DaysAfterInitiation>" +
         std::to_string(abort_incomplete_days) +
         "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>";
}

std::string create_bucket_body(std::string_view region) {
  if (region.empty() || region == "us-east-1") return {};
  return "<CreateBucketConfiguration xmlns=\"" + std::string(kNamespace) + "\"><LocationConstraint>" +
         escape(region) + "</LocationConstraint></CreateBucketConfiguration>";
}

}  // namespace portico::s3::xml
