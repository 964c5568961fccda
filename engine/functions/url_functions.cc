// URL_* functions: ksqlDB parses with java.net.URI, so a URL is split as RFC 2396 does
// ([scheme:][//authority][path][?query][#fragment]) and a malformed one is an error.
#include <re2/re2.h>

#include <optional>

#include "common/percent_decode.h"
#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

struct UrlParts {
  std::optional<std::string_view> scheme, authority, path, query, fragment;
};

// Characters java.net.URI refuses unescaped anywhere in a URI.
bool IsIllegalInUri(unsigned char c) {
  return c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
         c == '{' || c == '|' || c == '}' || c == 0x7F;
}

Result<UrlParts> ParseUrl(std::string_view url) {
  for (size_t i = 0; i < url.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(url[i]);
    bool bad_escape =
        c == '%' && (i + 2 >= url.size() || HexDigit(url[i + 1]) < 0 || HexDigit(url[i + 2]) < 0);
    if (IsIllegalInUri(c) || bad_escape) {
      return Status::InvalidArgument("URL input has invalid syntax: " + std::string(url));
    }
  }
  // RFC 3986, appendix B.
  static const RE2 kSplit(R"(^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?)");
  re2::StringPiece groups[10];
  if (!kSplit.Match(url, 0, url.size(), RE2::ANCHOR_START, groups, 10)) {
    return Status::InvalidArgument("URL input has invalid syntax: " + std::string(url));
  }
  auto part = [&](int index) -> std::optional<std::string_view> {
    if (groups[index].data() == nullptr) return std::nullopt;
    return std::string_view(groups[index].data(), groups[index].size());
  };
  UrlParts parts{part(2), part(4), part(5), part(7), part(9)};
  // An opaque URI (mailto:x) has neither path nor query; a relative one no scheme.
  if (parts.scheme && !parts.authority && (parts.path->empty() || parts.path->front() != '/')) {
    parts.path.reset();
    parts.query.reset();
  }
  return parts;
}

// The host and port of an authority [user@]host[:port]; an unparseable one (a registry
// authority in java.net.URI) has neither.
struct HostPort {
  std::optional<std::string_view> host;
  std::optional<int32_t> port;
};

HostPort SplitAuthority(std::string_view authority) {
  HostPort result;
  size_t at = authority.rfind('@');
  std::string_view rest = at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view host = rest;
  std::string_view port;
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return result;
  int64_t number = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || number > INT32_MAX / 10) return result;
    number = number * 10 + (c - '0');
  }
  result.host = host;
  if (!port.empty()) result.port = static_cast<int32_t>(number);
  return result;
}

// java.net.URLEncoder with UTF-8: letters, digits and .-*_ stay; a space is '+'.
std::string FormEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '.' || c == '-' || c == '*' || c == '_') {
      encoded += c;
    } else if (c == ' ') {
      encoded += '+';
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xF];
    }
  }
  return encoded;
}

void SetOptionalString(const std::optional<std::string_view>& text, Value& out) {
  if (text) {
    out.AssignString(*text);
  } else {
    out = Value::Null();
  }
}

// A URL_EXTRACT_* function whose answer is one part of the URL, percent-decoded as
// java.net.URI's getters decode it.
ScalarFactory ExtractPart(std::optional<std::string_view> UrlParts::*member, bool decode) {
  return [member, decode](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([member, decode](Arguments arguments, Value& out) {
      ASSIGN_OR_RAISE(UrlParts parts, ParseUrl(arguments[0].string()));
      const std::optional<std::string_view>& part = parts.*member;
      if (!part || !decode) {
        SetOptionalString(part, out);
        return Status::OK();
      }
      ASSIGN_OR_RAISE(std::string decoded, PercentDecode(*part, false));
      out.AssignString(decoded);
      return Status::OK();
    });
  };
}

}  // namespace

void AddUrlFunctions(FunctionBuilder& add) {
  using A = Accepts;
  const SqlType kString = SqlType::String();
  add.Scalar("URL_ENCODE_PARAM", {A::kString}, 0, Returns(kString), "URL_ENCODE_PARAM(s) -> STRING",
             "Encodes s for a URL query (application/x-www-form-urlencoded).", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 out.AssignString(FormEncode(arguments[0].string()));
                 return Status::OK();
               });
             });
  add.Scalar("URL_DECODE_PARAM", {A::kString}, 0, Returns(kString), "URL_DECODE_PARAM(s) -> STRING",
             "Decodes an application/x-www-form-urlencoded value.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 ASSIGN_OR_RAISE(std::string decoded, PercentDecode(arguments[0].string(), true));
                 out.AssignString(decoded);
                 return Status::OK();
               });
             });
  add.Scalar("URL_EXTRACT_FRAGMENT", {A::kString}, 0, Returns(kString),
             "URL_EXTRACT_FRAGMENT(url) -> STRING", "The fragment of url, decoded.", false,
             ExtractPart(&UrlParts::fragment, true));
  add.Scalar("URL_EXTRACT_PATH", {A::kString}, 0, Returns(kString),
             "URL_EXTRACT_PATH(url) -> STRING", "The path of url, decoded.", false,
             ExtractPart(&UrlParts::path, true));
  add.Scalar("URL_EXTRACT_QUERY", {A::kString}, 0, Returns(kString),
             "URL_EXTRACT_QUERY(url) -> STRING", "The query of url, decoded.", false,
             ExtractPart(&UrlParts::query, true));
  add.Scalar("URL_EXTRACT_PROTOCOL", {A::kString}, 0, Returns(kString),
             "URL_EXTRACT_PROTOCOL(url) -> STRING", "The scheme of url.", false,
             ExtractPart(&UrlParts::scheme, false));
  add.Scalar("URL_EXTRACT_HOST", {A::kString}, 0, Returns(kString),
             "URL_EXTRACT_HOST(url) -> STRING", "The host of url.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 ASSIGN_OR_RAISE(UrlParts parts, ParseUrl(arguments[0].string()));
                 std::optional<std::string_view> host;
                 if (parts.authority) host = SplitAuthority(*parts.authority).host;
                 SetOptionalString(host, out);
                 return Status::OK();
               });
             });
  add.Scalar("URL_EXTRACT_PORT", {A::kString}, 0, Returns(SqlType::Int()),
             "URL_EXTRACT_PORT(url) -> INT", "The port of url; NULL when it names none.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 ASSIGN_OR_RAISE(UrlParts parts, ParseUrl(arguments[0].string()));
                 std::optional<int32_t> port;
                 if (parts.authority) port = SplitAuthority(*parts.authority).port;
                 out = port ? Value::Int(*port) : Value::Null();
                 return Status::OK();
               });
             });
  add.Scalar("URL_EXTRACT_PARAMETER", {A::kString, A::kString}, 0, Returns(kString),
             "URL_EXTRACT_PARAMETER(url, name) -> STRING",
             "The first value of query parameter name, still encoded; '' when it has no value.",
             false, [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 ASSIGN_OR_RAISE(UrlParts parts, ParseUrl(arguments[0].string()));
                 out = Value::Null();
                 if (!parts.query) return Status::OK();
                 std::string_view wanted = arguments[1].string();
                 std::string_view query = *parts.query;
                 while (true) {
                   size_t end = query.find('&');
                   std::string_view parameter = query.substr(0, end);
                   size_t equals = parameter.find('=');
                   if (parameter.substr(0, equals) == wanted) {
                     out.AssignString(equals == std::string_view::npos
                                          ? std::string_view()
                                          : parameter.substr(equals + 1));
                     return Status::OK();
                   }
                   if (end == std::string_view::npos) return Status::OK();
                   query.remove_prefix(end + 1);
                 }
               });
             });
}

}  // namespace sidestream::functions
