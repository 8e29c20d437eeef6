#include "api/aws/sigv4.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::api::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kAmzDateFormat = "%Y%m%dT%H%M%SZ";

AwsError Incomplete(std::string message) {
  return AwsError{400, "IncompleteSignatureException", std::move(message)};
}
AwsError Invalid(std::string message) {
  return AwsError{400, "InvalidSignatureException", std::move(message)};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Trimmed, inner runs of spaces collapsed to one (SigV4's header value canonicalization).
std::string CanonicalValue(std::string_view v) {
  v = Trim(v);
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// YYYYMMDD'T'HHMMSS'Z' (absl's %Y is greedy, so this is parsed by hand).
bool ParseAmzDate(std::string_view s, absl::Time& out) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  auto num = [&](size_t at, size_t n, int& v) {
    v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) ||
      !num(13, 2, se) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
    return false;
  }
  out = absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone());
  return true;
}

std::string FormatAmzDate(absl::Time t) {
  return ToStd(absl::FormatTime(ToAbsl(kAmzDateFormat), t, absl::UTCTimeZone())).data();
}

// Query string in canonical form: parameters sorted by name then value. The received text is
// already percent-encoded by the client; SigV4 clients encode it canonically.
std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::string> params;
  for (absl::string_view p : absl::StrSplit(ToAbsl(query), '&', absl::SkipEmpty())) {
    std::string s(p.data(), p.size());
    if (s.find('=') == std::string::npos) s += '=';
    params.push_back(std::move(s));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += '&';
    out += params[i];
  }
  return out;
}

SecretBytes Hmac(std::string_view key, std::string_view data) {
  absl::StatusOr<std::string> mac = crypto::HmacSha256(key, data);
  // HMAC over in-memory buffers only fails if OpenSSL is broken.
  if (!mac.ok()) std::abort();
  SecretBytes out(*mac);
  SecureWipe(*mac);
  return out;
}

std::string StringToSign(const http::Request& req, const SigV4Auth& auth) {
  const std::string canonical =
      CanonicalRequest(req, auth.signed_headers, crypto::Sha256Hex(req.body));
  return StrCat(kAlgorithm, "\n", auth.amz_date, "\n", auth.scope_date, "/", auth.region, "/",
                auth.service, "/aws4_request\n", crypto::Sha256Hex(canonical));
}

}  // namespace

bool ParseSigV4(const http::Request& req, absl::Time now, const SigV4Options& options,
                SigV4Auth& out, AwsError& error) {
  std::optional<std::string_view> header = req.GetHeader("authorization");
  if (!header.has_value()) {
    if (req.query.find("X-Amz-Signature=") != std::string::npos) {
      error = Incomplete("Presigned URLs are not supported by this service.");
    } else {
      error = AwsError{400, "MissingAuthenticationTokenException", "Missing Authentication Token"};
    }
    return false;
  }
  std::string_view h = Trim(*header);
  if (!h.starts_with(kAlgorithm) || h.size() == kAlgorithm.size() || h[kAlgorithm.size()] != ' ') {
    error = Incomplete(
        "Authorization header requires the AWS4-HMAC-SHA256 algorithm with 'Credential', "
        "'SignedHeaders' and 'Signature' parameters.");
    return false;
  }
  h.remove_prefix(kAlgorithm.size() + 1);
  std::string credential, signed_headers, signature;
  for (absl::string_view part : absl::StrSplit(ToAbsl(h), ',')) {
    std::string_view p = Trim(ToStd(part));
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = p.substr(0, eq), value = p.substr(eq + 1);
    if (name == "Credential") credential = std::string(value);
    if (name == "SignedHeaders") signed_headers = std::string(value);
    if (name == "Signature") signature = std::string(value);
  }
  if (credential.empty() || signed_headers.empty() || signature.empty()) {
    std::string missing;
    for (auto [name, v] :
         {std::pair<std::string_view, const std::string*>{"Credential", &credential},
          {"SignedHeaders", &signed_headers},
          {"Signature", &signature}}) {
      if (v->empty())
        missing += StrCat(missing.empty() ? "" : " ", "Authorization header requires '", name,
                          "' parameter.");
    }
    error = Incomplete(missing);
    return false;
  }
  std::vector<std::string> scope = absl::StrSplit(ToAbsl(credential), '/');
  if (scope.size() != 5 || scope[0].empty()) {
    error = Incomplete(
        StrCat("Credential should have 5 parts separated by '/', got ", scope.size(), "."));
    return false;
  }
  if (signature.size() != 64 || !std::all_of(signature.begin(), signature.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    error = Incomplete("Signature must be 64 hexadecimal characters.");
    return false;
  }
  out.access_key_id = scope[0];
  out.scope_date = scope[1];
  out.region = scope[2];
  out.service = scope[3];
  out.signature = signature;
  std::transform(out.signature.begin(), out.signature.end(), out.signature.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  out.signed_headers = absl::StrSplit(ToAbsl(signed_headers), ';', absl::SkipEmpty());
  for (std::string& name : out.signed_headers) {
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
  }

  std::string_view date_header = "x-amz-date";
  std::optional<std::string_view> date = req.GetHeader("x-amz-date");
  if (!date.has_value()) {
    date_header = "date";
    date = req.GetHeader("date");
  }
  if (!date.has_value()) {
    error = Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a "
        "'Date' header.");
    return false;
  }
  std::string err;
  absl::Time t;
  if (!ParseAmzDate(Trim(*date), t) &&
      !absl::ParseTime(absl::RFC1123_full, ToAbsl(Trim(*date)), absl::UTCTimeZone(), &t, &err)) {
    error = Incomplete(StrCat("Date must be in ISO-8601 'basic format'. Got '", Trim(*date), "'."));
    return false;
  }
  out.time = t;
  out.amz_date = FormatAmzDate(t);
  for (std::string_view required :
       {std::string_view("host"), std::string_view("x-amz-target"), date_header}) {
    if (std::find(out.signed_headers.begin(), out.signed_headers.end(), required) ==
        out.signed_headers.end()) {
      error = Incomplete(StrCat("'", required,
                                "' must be a 'SignedHeader' in the AWS "
                                "Authorization."));
      return false;
    }
  }
  for (const std::string& name : out.signed_headers) {
    if (!req.GetHeader(name).has_value()) {
      error = Incomplete(StrCat("Signed header '", name, "' is missing from the request."));
      return false;
    }
  }
  if (t < now - options.max_skew) {
    error = Invalid(StrCat("Signature expired: ", out.amz_date, " is now earlier than ",
                           FormatAmzDate(now - options.max_skew), " (", FormatAmzDate(now),
                           " - 5 min.)"));
    return false;
  }
  if (t > now + options.max_skew) {
    error = Invalid(StrCat("Signature not yet current: ", out.amz_date, " is still later than ",
                           FormatAmzDate(now + options.max_skew), " (", FormatAmzDate(now),
                           " + 5 min.)"));
    return false;
  }
  if (out.scope_date != out.amz_date.substr(0, 8)) {
    error = Invalid(StrCat(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
        "version of date from HTTP: '",
        out.scope_date, "' != '", out.amz_date.substr(0, 8), "', from '", out.amz_date, "'."));
    return false;
  }
  if (out.region != options.region) {
    error =
        Invalid(StrCat("Credential should be scoped to a valid region, not '", out.region, "'. "));
    return false;
  }
  if (out.service != options.service) {
    error = Invalid(
        StrCat("Credential should be scoped to correct service: '", options.service, "'. "));
    return false;
  }
  if (scope[4] != "aws4_request") {
    error =
        Invalid(StrCat("Credential should be scoped with a valid terminator: 'aws4_request', "
                       "not '",
                       scope[4], "'. "));
    return false;
  }
  return true;
}

std::string CanonicalRequest(const http::Request& req,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash) {
  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  std::string out = StrCat(req.method, "\n", req.path.empty() ? "/" : req.path, "\n",
                           CanonicalQuery(req.query), "\n");
  for (const std::string& name : names) {
    std::string value;
    bool first = true;
    for (const http::Header& h : req.headers) {
      if (h.name != name) continue;
      if (!first) value += ',';
      value += CanonicalValue(h.value);
      first = false;
    }
    out += StrCat(name, ":", value, "\n");
  }
  out += "\n";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ';';
    out += names[i];
  }
  out += StrCat("\n", payload_hash);
  return out;
}

std::string ComputeSignature(const http::Request& req, const SigV4Auth& auth,
                             const SecretBytes& secret_access_key) {
  std::string k_secret = StrCat("AWS4", secret_access_key.Reveal());
  SecretBytes k_date = Hmac(k_secret, auth.scope_date);
  SecureWipe(k_secret);
  SecretBytes k_region = Hmac(k_date.Reveal(), auth.region);
  SecretBytes k_service = Hmac(k_region.Reveal(), auth.service);
  SecretBytes k_signing = Hmac(k_service.Reveal(), "aws4_request");
  SecretBytes mac = Hmac(k_signing.Reveal(), StringToSign(req, auth));
  return Hex(mac.Reveal());
}

bool VerifySigV4(const http::Request& req, const SigV4Auth& auth,
                 const SecretBytes& secret_access_key, AwsError& error) {
  if (std::optional<std::string_view> declared = req.GetHeader("x-amz-content-sha256");
      declared.has_value() && Trim(*declared) != crypto::Sha256Hex(req.body)) {
    error = Invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
    return false;
  }
  const std::string expected = ComputeSignature(req, auth, secret_access_key);
  if (!ConstantTimeEquals(expected, auth.signature)) {
    error = Invalid(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.");
    return false;
  }
  return true;
}

void SignForTest(http::Request& req, std::string_view access_key_id,
                 const SecretBytes& secret_access_key, absl::Time now, std::string_view region) {
  SigV4Auth auth;
  auth.access_key_id = std::string(access_key_id);
  auth.amz_date = FormatAmzDate(now);
  auth.scope_date = auth.amz_date.substr(0, 8);
  auth.region = std::string(region);
  auth.service = "secretsmanager";
  req.headers.push_back({"x-amz-date", auth.amz_date});
  for (const http::Header& h : req.headers) {
    if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), h.name) ==
        auth.signed_headers.end()) {
      auth.signed_headers.push_back(h.name);
    }
  }
  std::sort(auth.signed_headers.begin(), auth.signed_headers.end());
  const std::string signature = ComputeSignature(req, auth, secret_access_key);
  std::string names;
  for (const std::string& n : auth.signed_headers) names += StrCat(names.empty() ? "" : ";", n);
  req.headers.push_back(
      {"authorization",
       StrCat(kAlgorithm, " Credential=", access_key_id, "/", auth.scope_date, "/", region,
              "/secretsmanager/aws4_request, SignedHeaders=", names, ", Signature=", signature)});
}

}  // namespace rekey::api::aws
