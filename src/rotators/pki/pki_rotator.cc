#include "rotators/pki/pki_rotator.h"

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/deploy_check.h"
#include "pki/ttl.h"
#include "pki/verify.h"
#include "pki/x509.h"
#include "rotators/common/cert_value.h"
#include "rotators/common/params.h"

namespace rekey::rotators::pki {
namespace {

namespace json = boost::json;
namespace ca = ::rekey::pki;
using rotation::Problem;
using rotation::StepContext;

constexpr char kPendingSerial[] = "pending_serial";

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

struct Config {
  std::string role;
  std::string common_name;
  std::vector<std::string> alt_names;
  std::vector<std::string> ip_sans;
  absl::Duration ttl = absl::ZeroDuration();
  bool revoke_on_retire = false;
};

Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  static const std::vector<std::string_view> kKnown = {
      "role", "common_name", "alt_names", "ip_sans", "ttl", "revoke_on_retire"};
  RejectUnknownParams(params, kKnown, problems);
  Config c;
  if (auto role = StringParam(params, "role", problems); role && !role->empty()) {
    c.role = *role;
  } else if (!params.contains("role") || role.has_value()) {
    AddProblem(problems, "role", "is required: the CA role that issues the certificate");
  }
  if (auto cn = StringParam(params, "common_name", problems); cn && !cn->empty()) {
    c.common_name = *cn;
  } else if (!params.contains("common_name") || cn.has_value()) {
    AddProblem(problems, "common_name", "is required");
  }
  c.alt_names = ListParam(params, "alt_names", problems, 100);
  c.ip_sans = ListParam(params, "ip_sans", problems, 100);
  for (const std::string& ip : c.ip_sans) {
    if (!ca::IsIpAddress(ip)) {
      AddProblem(problems, "ip_sans", rekey::StrCat("\"", ip.substr(0, 64), "\" is not an IP"));
    }
  }
  if (const json::value* t = params.if_contains("ttl")) {
    absl::StatusOr<absl::Duration> ttl = ca::TtlFromJson(*t);
    if (!ttl.ok() || *ttl < absl::Minutes(1)) {
      AddProblem(problems, "ttl", "must be a duration of at least 1m, e.g. \"720h\" or \"30d\"");
    } else {
      c.ttl = *ttl;
    }
  }
  BoolParam(params, "revoke_on_retire", problems, c.revoke_on_retire);
  return c;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config c = ParseConfig(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return c;
}

ca::IssueRequest RequestOf(const Config& c) {
  ca::IssueRequest req;
  req.common_name = c.common_name;
  req.alt_names = c.alt_names;
  req.ip_sans = c.ip_sans;
  req.ttl = c.ttl;
  return req;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// Revokes `serial`; a certificate the CA no longer knows (tidied) is not an error.
absl::Status RevokeSerial(ca::CaService& ca, StepContext& ctx, std::string_view serial,
                          std::string_view why) {
  if (serial.empty()) return absl::OkStatus();
  absl::StatusOr<absl::Time> revoked = ca.Revoke(serial);
  if (absl::IsNotFound(revoked.status())) {
    ctx.log().Warn(
        rekey::StrCat("certificate ", serial, " is unknown to the CA; nothing to revoke"));
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(revoked.status());
  ctx.log().Info(rekey::StrCat("revoked certificate ", serial, " (", why, ")"));
  return absl::OkStatus();
}

// The name a TLS client would use: the first DNS SAN, else the first IP SAN, else none.

}  // namespace

std::vector<rotation::Reference> PkiRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "role", "pki/issue/", "", {"update"}, &refs);
  return refs;
}

std::vector<Problem> PkiRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

absl::Status PkiRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  absl::Status s = ca_.CheckIssue(c.role, RequestOf(c));
  if (!s.ok()) {
    return absl::Status(s.code(), rekey::StrCat("the CA would not issue \"", c.common_name,
                                                "\" under role \"", c.role, "\": ", s.message()));
  }
  RETURN_IF_ERROR(ca_.CaChainPem().status());
  ctx.log().Info(rekey::StrCat("role \"", c.role, "\" would issue \"", c.common_name, "\""));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> PkiRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  // A certificate issued by an interrupted earlier create of this run was never stored.
  auto& state = ctx.state();
  if (auto it = state.find(kPendingSerial); it != state.end()) {
    RETURN_IF_ERROR(RevokeSerial(ca_, ctx, it->second, "issued by an interrupted create"));
    state.erase(it);
  }
  absl::StatusOr<ca::IssuedCertificate> issued = ca_.Issue(c.role, RequestOf(c));
  if (!issued.ok()) {
    return absl::Status(issued.status().code(),
                        rekey::StrCat("role \"", c.role, "\" did not issue \"", c.common_name,
                                      "\": ", issued.status().message()));
  }
  state[kPendingSerial] = issued->serial_number;
  for (const std::string& w : issued->warnings) ctx.log().Warn(w);

  json::value doc = json::object();
  json::object& o = doc.get_object();
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    // Carry over fields other than the certificate's (e.g. notes a user added).
    WipedObject cur;
    if (cur.Parse(ctx.current()->value->Reveal(), "the current value").ok()) {
      for (const auto& [k, v] : cur.object()) {
        if (k != "private_key") o[k] = v;
      }
    }
  }
  o["certificate"] = J(issued->certificate);
  o["private_key"] = J(issued->private_key->Reveal());
  o["private_key_type"] = J(issued->private_key_type);
  o["issuing_ca"] = J(issued->issuing_ca);
  o["chain"] = J(absl::StrJoin(issued->ca_chain, ""));
  o["serial_number"] = J(issued->serial_number);
  o["not_before"] = J(Rfc3339(issued->not_before));
  o["not_after"] = J(Rfc3339(issued->expiration));
  std::string text = json::serialize(doc);
  WipeJsonStrings(doc);
  ctx.log().Info(rekey::StrCat("issued certificate ", issued->serial_number, " for \"",
                               c.common_name, "\" with a new ", issued->private_key_type,
                               " key, valid until ", Rfc3339(issued->expiration)));
  return SecretBytes::TakeFrom(text);
}

absl::Status PkiRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(CertValue pending, CertValueOf(ctx.pending(), "pending"));
  // Nothing to deploy: the CA made the certificate valid when it issued it; consumers pick the
  // new version up from the secret.
  ctx.log().Info(rekey::StrCat("certificate ", pending.serial_number,
                               " is ready; consumers read it from the new version"));
  return absl::OkStatus();
}

absl::Status PkiRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  ASSIGN_OR_RETURN(CertValue pending, CertValueOf(ctx.pending(), "pending"));
  ASSIGN_OR_RETURN(std::string bundle, ca_.CaChainPem());
  ca::DeployCheck check;
  check.certificate = pending.certificate;
  check.chain = pending.chain;
  check.private_key = &pending.private_key;
  check.trust_bundle = bundle;
  check.trust_name = "the CA's trust bundle";
  check.now = ctx.clock().Now();
  check.common_name = c.common_name;
  check.names = c.alt_names;
  check.names.insert(check.names.end(), c.ip_sans.begin(), c.ip_sans.end());
  absl::StatusOr<ca::DeployCheckResult> checked = ca::CheckForDeployment(check);
  if (!checked.ok()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "certificate ", pending.serial_number, " failed its test: ", checked.status().message()));
  }
  ctx.log().Info(rekey::StrCat(
      "certificate ", pending.serial_number,
      " matches its key, chains to the trust bundle, carries the requested names and completed "
      "a TLS handshake",
      checked->server_name.empty() ? "" : rekey::StrCat(" as ", checked->server_name)));
  return absl::OkStatus();
}

absl::Status PkiRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config c, ConfigOf(ctx));
  if (!c.revoke_on_retire) {
    ctx.log().Info("the previous certificate stays valid until it expires (revoke_on_retire off)");
    return absl::OkStatus();
  }
  absl::StatusOr<CertValue> previous = CertValueOf(ctx.previous(), "previous");
  if (!previous.ok() || previous->serial_number.empty()) {
    ctx.log().Warn("the previous value has no readable serial_number; nothing to revoke");
    return absl::OkStatus();
  }
  return RevokeSerial(ca_, ctx, previous->serial_number, "retired by rotation");
}

absl::Status PkiRotator::Rollback(StepContext& ctx) {
  std::string serial;
  if (absl::StatusOr<CertValue> pending = CertValueOf(ctx.pending(), "pending"); pending.ok()) {
    serial = pending->serial_number;
  } else if (auto it = ctx.state().find(kPendingSerial); it != ctx.state().end()) {
    serial = it->second;
  }
  RETURN_IF_ERROR(RevokeSerial(ca_, ctx, serial, "the rotation was rolled back"));
  ctx.state().erase(kPendingSerial);
  return absl::OkStatus();
}

absl::Status RegisterPkiRotator(rotation::RotatorRegistry& registry, rekey::pki::CaService& ca) {
  return registry.Register("pki", std::make_unique<PkiRotator>(ca));
}

}  // namespace rekey::rotators::pki
