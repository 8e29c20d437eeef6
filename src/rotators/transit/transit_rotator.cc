#include "rotators/transit/transit_rotator.h"

#include <boost/json.hpp>
#include <cstdint>
#include <memory>

#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators::transit {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

std::string KeyParam(const json::object& params, std::vector<Problem>* problems) {
  RejectUnknownParams(params, {"key"}, problems);
  std::optional<std::string> name = StringParam(params, "key", problems);
  if (!name.has_value()) {
    if (!params.contains("key")) {
      AddProblem(problems, "key", "is required: the transit key to rotate");
    }
    return "";
  }
  if (name->empty() || name->size() > 256 || name->find('/') != std::string::npos) {
    AddProblem(problems, "key", "must be a transit key name (1-256 characters, no '/')");
  }
  return *name;
}

absl::StatusOr<std::string> KeyOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  std::string name = KeyParam(ctx.params(), &problems);
  RETURN_IF_ERROR(FirstProblem(problems));
  return name;
}

// The version number the pending value names.
absl::StatusOr<uint32_t> TargetVersion(const StepContext& ctx) {
  if (!ctx.pending().has_value() || !ctx.pending()->value.has_value()) {
    return absl::FailedPreconditionError("there is no pending version to rotate to");
  }
  boost::system::error_code ec;
  json::value v = json::parse(ctx.pending()->value->Reveal(), ec);
  const json::value* n = !ec && v.is_object() ? v.as_object().if_contains("version") : nullptr;
  if (n == nullptr || !n->is_int64() || n->as_int64() < 1 || n->as_int64() > UINT32_MAX) {
    return absl::FailedPreconditionError("the pending value names no key version");
  }
  return static_cast<uint32_t>(n->as_int64());
}

absl::StatusOr<uint32_t> LatestVersion(rekey::transit::TransitService& service,
                                       const std::string& key) {
  absl::StatusOr<rekey::transit::KeyRotationStatus> status = service.RotationStatus(key);
  if (!status.ok()) {
    return absl::Status(status.status().code(),
                        StrCat("transit key \"", key, "\": ", ToStd(status.status().message())));
  }
  return status->latest_version;
}

}  // namespace

std::vector<Problem> TransitRotator::Validate(const json::object& params) const {
  std::vector<Problem> problems;
  KeyParam(params, &problems);
  return problems;
}

std::vector<rotation::Reference> TransitRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  AddReference(params, "key", "transit/keys/", "/rotate", {"update"}, &refs);
  return refs;
}

std::string TransitRotator::TargetKey(const json::object& params) const {
  std::vector<Problem> ignored;
  return StrCat("transit:", KeyParam(params, &ignored));
}

absl::Status TransitRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string key, KeyOf(ctx));
  ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(service_, key));
  ctx.log().Info(
      StrCat("transit key \"", key, "\" is at version ", latest, "; a rotation adds ", latest + 1));
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> TransitRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string key, KeyOf(ctx));
  ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(service_, key));
  json::object value{{"key", key}, {"version", latest + 1}};
  return SecretBytes(json::serialize(value));
}

absl::Status TransitRotator::Set(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string key, KeyOf(ctx));
  ASSIGN_OR_RETURN(uint32_t target, TargetVersion(ctx));
  ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(service_, key));
  if (latest >= target) {
    ctx.log().Info(StrCat("transit key \"", key, "\" is already at version ", latest));
    return absl::OkStatus();
  }
  absl::StatusOr<rekey::transit::KeyInfo> rotated = service_.RotateKey(key);
  if (!rotated.ok()) {
    return absl::Status(rotated.status().code(), StrCat("rotating transit key \"", key,
                                                        "\": ", ToStd(rotated.status().message())));
  }
  ctx.log().Info(StrCat("transit key \"", key, "\" rotated to version ", rotated->latest_version));
  return absl::OkStatus();
}

absl::Status TransitRotator::Test(StepContext& ctx) {
  ASSIGN_OR_RETURN(std::string key, KeyOf(ctx));
  ASSIGN_OR_RETURN(uint32_t target, TargetVersion(ctx));
  ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(service_, key));
  if (latest < target) {
    return absl::FailedPreconditionError(
        StrCat("transit key \"", key, "\" is at version ", latest, ", not ", target));
  }
  return absl::OkStatus();
}

absl::Status TransitRotator::Revoke(StepContext&) { return absl::OkStatus(); }

absl::Status TransitRotator::Rollback(StepContext&) { return absl::OkStatus(); }

absl::Status RegisterTransitRotator(rotation::RotatorRegistry& registry,
                                    rekey::transit::TransitService& service) {
  return registry.Register("transit", std::make_unique<TransitRotator>(service));
}

}  // namespace rekey::rotators::transit
