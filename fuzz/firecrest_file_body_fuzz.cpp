// The JSON bodies of FirecREST's file operations and transfers (api/firecrest/request_body.hpp
// and the validators of filesystem/validate.hpp, archive.hpp), read in the order each route
// reads them (filesystem_routes.cpp, transfer_routes.cpp).
// Input: one byte choosing the operation, then the body.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "api/firecrest/request_body.hpp"
#include "body_checks.hpp"
#include "filesystem/validate.hpp"

namespace fc = portico::api::firecrest;
namespace fs = portico::filesystem;
using portico::fuzz::check_command_line;
using portico::fuzz::check_confined;
using portico::fuzz::file_systems;

namespace {

void read(std::uint8_t op, const boost::json::object& body) {
  switch (op % 8) {
    case 0:  // ops/mkdir
      check_confined(fc::body_source_path(file_systems(), body));
      fc::body_flag(body, {"parent", "p"});
      break;
    case 1:  // ops/symlink
      check_confined(fc::body_source_path(file_systems(), body));
      check_confined(fc::body_path(file_systems(), body, {"linkPath", "link_path"}));
      break;
    case 2: {  // ops/chmod
      check_confined(fc::body_source_path(file_systems(), body));
      auto mode = fc::body_string(body, {"mode"});
      if (!mode) return;
      const auto checked = fs::validate_chmod_mode(mode->second, "body", "mode");
      FUZZ_CHECK(checked == mode->second && !checked.empty());
      FUZZ_CHECK(checked.find_first_not_of("01234567ugoa+-=rwxXst,") == std::string::npos);
      break;
    }
    case 3: {  // ops/chown
      check_confined(fc::body_source_path(file_systems(), body));
      auto owner = fc::body_string(body, {"owner"});
      auto group = fc::body_string(body, {"group"});
      const auto spec =
          fs::chown_spec(owner ? owner->second : "", group ? group->second : "", "body", "owner", "group");
      // One operand, never an option, and nothing but OWNER[:GROUP].
      FUZZ_CHECK(!spec.empty() && spec.front() != '-');
      FUZZ_CHECK(std::count(spec.begin(), spec.end(), ':') <= 1);
      break;
    }
    case 4: {  // ops/compress and transfer/compress
      const auto c = fc::parse_compress_body(file_systems(), body);
      check_confined(c.source);
      check_confined(c.target);
      check_command_line(c.commands.tar);
      if (c.commands.find) check_command_line(*c.commands.find);
      fc::body_account(body);
      break;
    }
    case 5: {  // ops/extract and transfer/extract
      const auto e = fc::parse_extract_body(file_systems(), body);
      check_confined(e.source);
      check_confined(e.target);
      check_command_line(e.tar);
      break;
    }
    case 6:  // transfer/cp and transfer/mv
      check_confined(fc::body_source_path(file_systems(), body));
      check_confined(fc::body_path(file_systems(), body, {"targetPath", "target_path"}));
      fc::body_flag(body, {"dereference"});
      fc::body_account(body);
      break;
    case 7: {  // transfer/upload: the directives' fileSize
      check_confined(fc::body_path(file_systems(), body, {"path", "sourcePath", "source_path", "targetPath", "target_path"}));
      for (const char* name : {"transferDirectives", "transfer_directives"})
        if (auto* d = body.if_contains(name); d && d->is_object()) {
          fc::transfer_file_size(d->get_object());
          break;
        }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  // Every problem of a body is a validation failure naming its field.
  portico::fuzz::refused_or_ran(portico::core::ErrorKind::validation,
                                [&] { read(data[0], fc::parse_json_object(text)); });
  return 0;
}
