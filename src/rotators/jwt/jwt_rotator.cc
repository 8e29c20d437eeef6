#include "rotators/jwt/jwt_rotator.h"

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <utility>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators::jwt {
namespace {

namespace json = boost::json;
namespace keys = ::rekey::jwt;
using rotation::Problem;
using rotation::StepContext;

constexpr char kStateKid[] = "kid";
constexpr absl::Duration kTestTokenTtl = absl::Seconds(60);

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "never";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string KeysetParam(const json::object& params, std::vector<Problem>* problems) {
  RejectUnknownParams(params, {"keyset"}, problems);
  std::optional<std::string> name = StringParam(params, "keyset", problems);
  if (!name.has_value()) {
    if (!params.contains("keyset")) {
      AddProblem(problems, "keyset", "is required: the JWT keyset whose signing key rotates");
    }
    return "";
  }
  if (absl::Status s = keys::ValidateKeysetName(*name); !s.ok()) {
    AddProblem(problems, "keyset", ToStd(s.message()));
  }
  return *name;
}

absl::StatusOr<std::string> KeysetOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  std::string name = KeysetParam(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return name;
}

// The idempotency token of this run's attempt: create publishes at most one key per attempt.
// Every attempt's token starts with RunPrefix, so the run can find all the keys it published.
std::string RunPrefix(const StepContext& ctx) { return rekey::StrCat(ctx.run_id(), "/"); }
std::string RequestId(const StepContext& ctx) {
  return rekey::StrCat(RunPrefix(ctx), ctx.attempt());
}

// The kid a version's value names as "active_kid"; "" when the version is missing, unreadable or
// holds no such member (e.g. a value written by hand before the first rotation).
std::string ActiveKidOf(const std::optional<rotation::VersionView>& version,
                        std::string_view keyset) {
  if (!version.has_value() || !version->value.has_value()) return "";
  WipedObject value;
  if (!value.Parse(version->value->Reveal(), "the secret's value").ok()) return "";
  if (value.String("name") != keyset) return "";
  return value.String("active_kid");
}

}  // namespace

std::vector<Problem> JwtRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  KeysetParam(params, &problems);
  return problems;
}

std::vector<rotation::Reference> JwtRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "keyset", "jwt/keys/", "", {"update"}, &refs);
  return refs;
}

std::string JwtRotator::TargetKey(const json::object& params) const {
  const json::value* v = params.if_contains("keyset");
  if (v == nullptr || !v->is_string()) return "";
  return rekey::StrCat("jwt:", std::string_view(v->get_string().data(), v->get_string().size()));
}

absl::Status JwtRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  ASSIGN_OR_RETURN(keys::KeysetView view, jwt_.GetKeyset(keyset));
  ctx.log().Info(
      rekey::StrCat("keyset ", keyset, " (", keys::AlgorithmName(view.config.alg), "): key ",
                    view.active_kid, " signs; a new key would be published and sign ",
                    absl::FormatDuration(view.config.prepublish), " later; the old one is removed ",
                    absl::FormatDuration(view.config.max_token_ttl), " after it stops signing"));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> JwtRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  // A key an earlier attempt of this run published and never got to record (the server stopped
  // in between, and the engine resumed with a new attempt) must not stay in the JWKS forever.
  ASSIGN_OR_RETURN(std::vector<std::string> orphans,
                   jwt_.CancelKeysOf(keyset, RunPrefix(ctx), RequestId(ctx)));
  if (!orphans.empty()) {
    ctx.log().Warn(rekey::StrCat("withdrew key(s) ", absl::StrJoin(orphans, ", "),
                                 " that an earlier attempt of this run published"));
  }
  ASSIGN_OR_RETURN(keys::KeysetView before, jwt_.GetKeyset(keyset));
  ASSIGN_OR_RETURN(keys::KeyView key, jwt_.PublishKey(keyset, RequestId(ctx)));
  ctx.state()[kStateKid] = key.kid;
  ASSIGN_OR_RETURN(keys::KeysetView after, jwt_.GetKeyset(keyset));
  ctx.log().Info(rekey::StrCat("key ", key.kid, " of keyset ", keyset,
                               " is published in the JWKS (not signing yet)"));
  json::object value;
  value["name"] = J(keyset);
  value["alg"] = J(keys::AlgorithmName(after.config.alg));
  value["active_kid"] = J(key.kid);
  // The signer when this run started: a resumed create sees the same one (set has not run).
  value["previous_kid"] = J(before.active_kid);
  json::array published;
  for (const std::string& kid : after.published_kids) published.emplace_back(J(kid));
  value["published_kids"] = std::move(published);
  value["jwks_path"] = J(rekey::StrCat("/.well-known/jwks/", keyset, ".json"));
  return SecretBytes(json::serialize(value));
}

absl::Status JwtRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  const std::string kid = ActiveKidOf(ctx.pending(), keyset);
  if (kid.empty()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("the pending version names no \"active_kid\" of keyset \"", keyset, "\""));
  }
  ASSIGN_OR_RETURN(keys::KeyView key, jwt_.SchedulePromotion(keyset, kid));
  ctx.log().Info(rekey::StrCat("key ", kid, " of keyset ", keyset, " signs from ",
                               Rfc3339(key.promoted),
                               "; the key signing before it retires at that instant"));
  return absl::OkStatus();
}

absl::Status JwtRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  const std::string kid = ActiveKidOf(ctx.pending(), keyset);
  if (kid.empty()) {
    return absl::InvalidArgumentError(
        rekey::StrCat("the pending version names no \"active_kid\" of keyset \"", keyset, "\""));
  }
  json::object claims;
  claims["sub"] = "rekey-rotation-test";
  claims["jti"] = J(RequestId(ctx));
  ASSIGN_OR_RETURN(keys::SignedToken token, jwt_.SignWithKey(keyset, kid, claims, kTestTokenTtl));
  absl::StatusOr<keys::VerifiedToken> verified = jwt_.Verify(keyset, token.token);
  if (!verified.ok()) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "a token signed by key ", kid, " does not verify: ", verified.status().message()));
  }
  ASSIGN_OR_RETURN(keys::KeysetView view, jwt_.GetKeyset(keyset));
  if (std::find(view.published_kids.begin(), view.published_kids.end(), kid) ==
      view.published_kids.end()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("key ", kid, " is not in the JWKS of keyset ", keyset));
  }
  ctx.log().Info(rekey::StrCat("a token signed by key ", kid, " verifies against the JWKS"));
  return absl::OkStatus();
}

absl::Status JwtRotator::Revoke(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  std::string old_kid = ActiveKidOf(ctx.previous(), keyset);
  // The key this rotation promoted must not be the one removed (a previous value naming it
  // would be a value written by hand).
  if (old_kid == ActiveKidOf(ctx.current(), keyset)) old_kid.clear();
  absl::StatusOr<std::vector<keys::KeyView>> removed = jwt_.ScheduleRemoval(keyset, old_kid);
  if (absl::IsNotFound(removed.status()) && !old_kid.empty()) {
    // Its record is gone (removed long ago and forgotten): sweep the others.
    ctx.log().Warn(rekey::StrCat("key ", old_kid, " is no longer recorded in keyset ", keyset));
    removed = jwt_.ScheduleRemoval(keyset, "");
  }
  if (!removed.ok()) return removed.status();
  std::vector<std::string> lines;
  for (const keys::KeyView& k : *removed) {
    lines.push_back(rekey::StrCat(k.kid, " at ", Rfc3339(k.removed)));
  }
  ctx.log().Info(lines.empty() ? rekey::StrCat("no key of keyset ", keyset, " left to remove")
                               : rekey::StrCat("keys leaving the JWKS of keyset ", keyset, ": ",
                                               absl::StrJoin(lines, ", ")));
  return absl::OkStatus();
}

absl::Status JwtRotator::Rollback(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string keyset, KeysetOf(ctx));
  // Every attempt's key: a crash between publishing and recording may have left one under an
  // earlier attempt's token.
  absl::StatusOr<std::vector<std::string>> withdrawn = jwt_.CancelKeysOf(keyset, RunPrefix(ctx));
  if (absl::IsNotFound(withdrawn.status()))
    return absl::OkStatus();  // no keyset: nothing published
  RETURN_IF_ERROR(withdrawn.status());
  ctx.log().Info(withdrawn->empty() ? rekey::StrCat("no key of keyset ", keyset, " to withdraw")
                                    : rekey::StrCat("key(s) ", absl::StrJoin(*withdrawn, ", "),
                                                    " of keyset ", keyset, " withdrawn"));
  return absl::OkStatus();
}

absl::Status RegisterJwtRotator(rotation::RotatorRegistry& registry, rekey::jwt::JwtService& jwt) {
  return registry.Register("jwt", std::make_unique<JwtRotator>(jwt));
}

}  // namespace rekey::rotators::jwt
