#include "http/multipart.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"

namespace portico::http {

using core::ErrorKind;
using core::Failure;
using core::iequals;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded bytes. The bytes are kept as they are
// (a file name is bytes), whatever the charset says.
std::optional<std::string> decode_ext_value(std::string_view v) {
  auto first = v.find('\'');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = v.find('\'', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = second + 1; i < v.size(); ++i) {
    if (v[i] == '%') {
      if (i + 2 >= v.size()) return std::nullopt;
      int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// A quoted parameter as form encoders write it: a backslash escapes the next character (RFC 9110
// quoted-pair; httpx, which pyFirecREST uses, and urllib3 1.x double a backslash in a file name),
// and `"` and control characters come percent-encoded (%22, %0A, ...: the WHATWG form encoding
// that browsers, httpx and urllib3 use). Any other `%` stays literal; a file name holding "%0A"
// literally is ambiguous in that encoding and can only be sent with filename*.
std::string decode_form_quoted(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.push_back(v[++i]);
      continue;
    }
    if (v[i] == '%' && i + 2 < v.size()) {
      int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
      int c = hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
      if (c == '"' || (c >= 0 && c < 0x20)) {
        out.push_back(static_cast<char>(c));
        i += 2;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  auto semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
  auto rest = semi == std::string_view::npos ? std::string_view() : content_type.substr(semi + 1);
  while (!rest.empty()) {
    auto eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto name = trim(rest.substr(0, eq));
    rest = trim(rest.substr(eq + 1));
    std::string_view value;
    if (!rest.empty() && rest.front() == '"') {
      auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return std::nullopt;
      value = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
    } else {
      value = trim(rest.substr(0, rest.find(';')));
      rest.remove_prefix(std::min(rest.size(), rest.find(';')));
    }
    auto next = rest.find(';');
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    if (iequals(name, "boundary")) {
      if (value.empty() || value.size() > 70) return std::nullopt;
      for (unsigned char c : value)
        if (c < 0x20 || c > 0x7e) return std::nullopt;
      return std::string(value);
    }
  }
  return std::nullopt;
}

PartHeaders parse_content_disposition(std::string_view value) {
  PartHeaders h;
  auto semi = value.find(';');
  if (!iequals(trim(value.substr(0, semi)), "form-data"))
    throw Failure(ErrorKind::bad_request, "multipart part is not form-data");
  std::optional<std::string> filename, filename_ext;
  std::size_t i = semi == std::string_view::npos ? value.size() : semi + 1;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ';')) ++i;
    auto eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    auto name = trim(value.substr(i, eq - i));
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string v;
    bool quoted = i < value.size() && value[i] == '"';
    if (quoted) {
      auto close = value.find('"', i + 1);
      if (close == std::string_view::npos) throw Failure(ErrorKind::bad_request, "multipart part header has an unterminated quoted string");
      v = decode_form_quoted(value.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      auto end = value.find(';', i);
      if (end == std::string_view::npos) end = value.size();
      v = std::string(trim(value.substr(i, end - i)));
      i = end;
    }
    if (iequals(name, "name")) h.name = v;
    else if (iequals(name, "filename")) filename = v;
    else if (iequals(name, "filename*")) {
      filename_ext = decode_ext_value(v);
      if (!filename_ext) throw Failure(ErrorKind::bad_request, "multipart part has a malformed filename*");
    }
  }
  h.filename = filename_ext ? filename_ext : filename;
  return h;
}

MultipartReader::MultipartReader(std::string boundary, std::size_t max_header_bytes)
    : delimiter_("\r\n--" + boundary), max_header_bytes_(max_header_bytes) {
  // The first delimiter has no CRLF before it: supplying one lets one search find them all.
  buffer_ = "\r\n";
}

void MultipartReader::feed(std::string_view bytes) {
  if (head_ > 0) {
    buffer_.erase(0, head_);
    head_ = 0;
  }
  buffer_.append(bytes);
}

void MultipartReader::consume(std::size_t n) { head_ += n; }

MultipartReader::Step MultipartReader::need_more() {
  if (input_ended_) throw Failure(ErrorKind::bad_request, "the multipart body ended before its closing boundary");
  return {};
}

MultipartReader::Step MultipartReader::next() {
  for (;;) {
    auto in = pending();
    switch (state_) {
      case State::preamble: {
        auto p = in.find(delimiter_);
        if (p == std::string_view::npos) {
          if (in.size() >= delimiter_.size()) consume(in.size() - (delimiter_.size() - 1));
          if (buffer_.size() - head_ > max_header_bytes_ + delimiter_.size())
            throw Failure(ErrorKind::bad_request, "multipart body does not start with its boundary");
          return need_more();
        }
        consume(p + delimiter_.size());
        state_ = State::after_delimiter;
        continue;
      }
      case State::after_delimiter: {
        if (in.size() < 2) return need_more();
        if (in.substr(0, 2) == "--") {
          state_ = State::done;
          head_ = buffer_.size();  // the epilogue is ignored
          return {Step::end};
        }
        std::size_t i = 0;
        while (i < in.size() && (in[i] == ' ' || in[i] == '\t')) ++i;
        if (i + 2 > in.size()) {
          if (i > 1024) throw Failure(ErrorKind::bad_request, "malformed multipart delimiter line");
          return need_more();
        }
        if (in.substr(i, 2) != "\r\n") throw Failure(ErrorKind::bad_request, "malformed multipart delimiter line");
        consume(i + 2);
        state_ = State::headers;
        continue;
      }
      case State::headers: {
        std::size_t end;
        if (in.substr(0, 2) == "\r\n") {
          end = 0;
        } else {
          auto p = in.find("\r\n\r\n");
          if (p == std::string_view::npos) {
            if (in.size() > max_header_bytes_) throw Failure(ErrorKind::bad_request, "multipart part headers are too large");
            return need_more();
          }
          end = p + 2;
        }
        if (end > max_header_bytes_) throw Failure(ErrorKind::bad_request, "multipart part headers are too large");
        Step step{Step::part};
        bool disposition = false;
        auto block = in.substr(0, end);
        while (!block.empty()) {
          auto eol = block.find("\r\n");
          auto line = block.substr(0, eol);
          block.remove_prefix(eol + 2);
          auto colon = line.find(':');
          if (colon == std::string_view::npos) throw Failure(ErrorKind::bad_request, "malformed multipart part header");
          auto name = trim(line.substr(0, colon));
          auto value = trim(line.substr(colon + 1));
          if (iequals(name, "Content-Disposition")) {
            auto type = step.headers.content_type;
            step.headers = parse_content_disposition(value);
            step.headers.content_type = type;
            disposition = true;
          } else if (iequals(name, "Content-Type")) {
            step.headers.content_type = std::string(value);
          }
        }
        if (!disposition) throw Failure(ErrorKind::bad_request, "multipart part without a Content-Disposition header");
        consume(end + 2);
        state_ = State::body;
        return step;
      }
      case State::body: {
        auto p = in.find(delimiter_);
        if (p == 0) {
          consume(delimiter_.size());
          state_ = State::after_delimiter;
          return {Step::part_end};
        }
        // Without a delimiter, all but a possible delimiter prefix at the end is data.
        std::size_t safe = p != std::string_view::npos ? p
                           : in.size() >= delimiter_.size() ? in.size() - (delimiter_.size() - 1)
                                                            : 0;
        if (safe == 0) return need_more();
        consume(safe);
        return {Step::bytes, in.substr(0, safe)};
      }
      case State::done:
        return {Step::end};
    }
  }
}

}  // namespace portico::http
