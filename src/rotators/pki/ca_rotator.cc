#include "rotators/pki/ca_rotator.h"

#include <boost/json.hpp>
#include <memory>

#include "core/status_macros.h"
#include "core/strings.h"
#include "rotation/schedule.h"
#include "rotators/common/params.h"

namespace rekey::rotators::pki {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

struct Params {
  std::string common_name;
  rekey::pki::KeyType key_type = rekey::pki::KeyType::kEcP256;
  absl::Duration ttl = absl::ZeroDuration();
  std::string name_prefix = "ca";
  bool force_retire = false;
};

Params ParseParams(const json::object& params, std::vector<Problem>* problems) {
  Params p;
  RejectUnknownParams(params, {"common_name", "key_type", "ttl", "name_prefix", "force_retire"},
                      problems);
  if (std::optional<std::string> cn = StringParam(params, "common_name", problems)) {
    p.common_name = *cn;
  }
  if (p.common_name.empty() && !params.contains("common_name")) {
    AddProblem(problems, "common_name", "is required: the new root certificates' common name");
  }
  if (std::optional<std::string> t = StringParam(params, "key_type", problems)) {
    absl::StatusOr<rekey::pki::KeyType> type = rekey::pki::ParseKeyType(*t);
    if (type.ok()) {
      p.key_type = *type;
    } else {
      AddProblem(problems, "key_type", "must be ec-p256, ec-p384, rsa-2048, rsa-3072 or ed25519");
    }
  }
  if (std::optional<std::string> t = StringParam(params, "ttl", problems)) {
    absl::StatusOr<absl::Duration> d = rotation::ParseScheduleDuration(*t);
    if (d.ok() && *d >= absl::Hours(1)) {
      p.ttl = *d;
    } else {
      AddProblem(problems, "ttl", "must be a duration of at least 1h, e.g. 87600h");
    }
  }
  if (std::optional<std::string> n = StringParam(params, "name_prefix", problems)) {
    bool ok = !n->empty() && n->size() <= 32;
    for (char c : *n) ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (ok) {
      p.name_prefix = *n;
    } else {
      AddProblem(problems, "name_prefix", "must be 1 to 32 of [A-Za-z0-9_-]");
    }
  }
  BoolParam(params, "force_retire", problems, p.force_retire);
  return p;
}

absl::StatusOr<Params> ParamsOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Params p = ParseParams(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return p;
}

// The issuer name a version's value names ("" when it names none).
std::string IssuerNameOf(const std::optional<rotation::VersionView>& version) {
  if (!version.has_value() || !version->value.has_value()) return "";
  boost::system::error_code ec;
  json::value v = json::parse(version->value->Reveal(), ec);
  const json::value* n = !ec && v.is_object() ? v.as_object().if_contains("issuer_name") : nullptr;
  return n != nullptr && n->is_string() ? std::string(n->as_string().c_str()) : "";
}

absl::Status Named(const absl::Status& s, std::string_view what) {
  return absl::Status(s.code(), StrCat(what, ": ", ToStd(s.message())));
}

}  // namespace

std::vector<Problem> CaRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  ParseParams(params, &problems);
  return problems;
}

absl::Status CaRotator::Check(StepContext& ctx) {
  RETURN_IF_ERROR(ParamsOf(ctx).status());
  const std::string previous = IssuerNameOf(ctx.current());
  if (!previous.empty()) {
    absl::StatusOr<rekey::pki::IssuerInfo> info = ca_.ReadIssuer(previous);
    if (!info.ok()) return Named(info.status(), StrCat("current issuer \"", previous, "\""));
    ctx.log().Info(
        StrCat("current issuer \"", previous, "\" expires ",
               absl::FormatTime(absl::RFC3339_sec, info->not_after, absl::UTCTimeZone())));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> CaRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Params p, ParamsOf(ctx));
  // Unique per run and attempt; the run id sorts by time.
  std::string name = StrCat(p.name_prefix, "-", ctx.run_id(), "-", ctx.attempt());
  if (name.size() > 64) name = name.substr(name.size() - 64);
  json::object value{{"issuer_name", name}};
  return SecretBytes(json::serialize(value));
}

absl::Status CaRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(Params p, ParamsOf(ctx));
  const std::string name = IssuerNameOf(ctx.pending());
  if (name.empty()) return absl::FailedPreconditionError("the pending value names no issuer");
  if (ca_.ReadIssuer(name).ok()) {
    ctx.log().Info(StrCat("issuer \"", name, "\" exists already (a resumed set)"));
    return absl::OkStatus();
  }
  rekey::pki::GenerateRootRequest request;
  request.common_name = p.common_name;
  request.key_type = p.key_type;
  request.ttl = p.ttl;
  request.issuer_name = name;
  absl::StatusOr<rekey::pki::GeneratedIssuer> made = ca_.GenerateRoot(request);
  if (!made.ok()) return Named(made.status(), StrCat("generating issuer \"", name, "\""));
  ctx.log().Info(
      StrCat("issuer \"", name, "\" (", made->issuer.issuer_id, ") added to the trust bundle"));
  return absl::OkStatus();
}

absl::Status CaRotator::Test(StepContext& ctx) {
  const std::string name = IssuerNameOf(ctx.pending());
  absl::StatusOr<rekey::pki::IssuerInfo> info = ca_.ReadIssuer(name);
  if (!info.ok()) return Named(info.status(), StrCat("issuer \"", name, "\""));
  const absl::Time now = ctx.clock().Now();
  if (info->retired || now < info->not_before || now >= info->not_after) {
    return absl::FailedPreconditionError(
        StrCat("issuer \"", name, "\" is retired or not valid now"));
  }
  ASSIGN_OR_RETURN(std::string bundle, ca_.CaChainPem());
  if (bundle.find(info->certificate) == std::string::npos) {
    return absl::FailedPreconditionError(
        StrCat("issuer \"", name, "\" is not in the trust bundle"));
  }
  return absl::OkStatus();
}

absl::Status CaRotator::Finish(StepContext& ctx) {
  // The new version: the engine's finish context still shows it as pending (current moved in
  // the store just before); fall back to current for contexts that show it moved.
  std::string name = IssuerNameOf(ctx.pending());
  if (name.empty()) name = IssuerNameOf(ctx.current());
  if (name.empty()) return absl::FailedPreconditionError("the new value names no issuer");
  if (absl::Status s = ca_.SetDefaultIssuer(name); !s.ok()) {
    return Named(s, StrCat("making issuer \"", name, "\" the default"));
  }
  ctx.log().Info(StrCat("issuer \"", name, "\" is the default: new certificates come from it"));
  return absl::OkStatus();
}

absl::Status CaRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(Params p, ParamsOf(ctx));
  const std::string old = IssuerNameOf(ctx.previous());
  if (old.empty()) return absl::OkStatus();  // the value before the first rotation named none
  absl::StatusOr<rekey::pki::IssuerInfo> info = ca_.ReadIssuer(old);
  if (!info.ok() && info.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (info.ok() && info->retired) return absl::OkStatus();
  if (absl::Status s = ca_.RetireIssuer(old, p.force_retire); !s.ok()) {
    absl::StatusOr<absl::Time> last = ca_.LastLeafExpiry(old);
    std::string until =
        last.ok() && *last != absl::InfinitePast()
            ? StrCat(" (its last certificate expires ",
                     absl::FormatTime(absl::RFC3339_sec, *last, absl::UTCTimeZone()), ")")
            : "";
    return Named(s, StrCat("retiring issuer \"", old, "\"", until));
  }
  ctx.log().Info(StrCat("issuer \"", old, "\" retired: it left the trust bundle"));
  return absl::OkStatus();
}

absl::Status CaRotator::Rollback(StepContext& ctx) {
  const std::string name = IssuerNameOf(ctx.pending());
  if (name.empty()) return absl::OkStatus();
  absl::StatusOr<rekey::pki::IssuerInfo> info = ca_.ReadIssuer(name);
  if (!info.ok() || info->retired || info->is_default) return absl::OkStatus();
  return ca_.RetireIssuer(name, /*force=*/true);
}

absl::Status RegisterCaRotator(rotation::RotatorRegistry& registry, rekey::pki::CaService& ca) {
  return registry.Register("pki-ca", std::make_unique<CaRotator>(ca));
}

}  // namespace rekey::rotators::pki
