// RotateSecret and CancelRotateSecret: the AWS face of the rotation engine (docs/api/aws.md,
// "Rotation"). The engine does the work; this file maps AWS's request onto a rotation config and
// a run, and the secret's rotation state back onto DescribeSecret's members.
#include <boost/json.hpp>

#include "absl/strings/str_split.h"
#include "api/aws/aws_call.h"
#include "api/aws/aws_rotation_rules.h"
#include "api/rotation/config_references.h"
#include "api/vault/zeroing_json.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "rotation/config.h"

namespace rekey::api::aws {
namespace {

// A tag naming the fields of a JSON value the default (generic) rotation regenerates.
constexpr std::string_view kRotateFieldsTag = "rekey:rotate-fields";

Reply InProgress() {
  return Err("InvalidRequestException",
             "A previous rotation isn't complete. That rotation will be reattempted.");
}

json::array FieldsJson(const std::vector<std::string>& fields) {
  json::array out;
  for (const std::string& f : fields) out.emplace_back(JV(f));
  return out;
}

}  // namespace

absl::StatusOr<json::object> AwsCall::GenericConfigFor(const Resolved& r, Reply& reply) {
  json::object config{{"rotator", "generic"}};
  auto fail = [&](std::string message) -> absl::Status {
    reply = Err("InvalidRequestException", std::move(message));
    return absl::InvalidArgumentError("no rotation config");
  };
  absl::StatusOr<secrets::ReadResult> current = kv_.Read(r.name, 0);
  if (!current.ok() || !current->value.has_value()) {
    return fail("The secret has no AWSCURRENT value to rotate.");
  }
  absl::StatusOr<json::value> value = ParseBody(current->value->Reveal());
  if (!value.ok() || !value->is_object()) return fail("The secret's value cannot be rotated.");
  const json::object& fields = value->as_object();
  if (fields.size() == 1 && fields.contains(JV(kStringField))) {
    config["params"] = json::object{{"fields", json::array{JV(kStringField)}}};
  } else if (fields.size() == 1 && fields.contains(JV(kBinaryField))) {
    config["params"] = json::object{{"fields", json::array{JV(kBinaryField)}}};
    config["generator"] = json::object{{"type", "bytes"}, {"length", 32}, {"encoding", "base64"}};
  } else if (auto tag = r.meta.custom_metadata.find(std::string(kRotateFieldsTag));
             tag != r.meta.custom_metadata.end()) {
    std::vector<std::string> names =
        absl::StrSplit(ToAbsl(tag->second), ',', absl::SkipWhitespace());
    config["params"] = json::object{{"fields", FieldsJson(names)}};
  } else {
    return fail(StrCat(
        "The secret's value is a JSON object: say which of its fields to rotate, with the tag ",
        kRotateFieldsTag,
        " (e.g. \"password\" or \"password,api_key\"), or a rekey rotation config "
        "(`rekey rotation config set ",
        r.name, " --rotator generic --param fields=[...]`)."));
  }
  return config;
}

absl::StatusOr<json::object> AwsCall::RotationConfigFor(
    const Resolved& r, const std::optional<std::string>& lambda,
    const absl::StatusOr<rotation::RotationConfig>& own, Reply& reply) {
  if (!lambda.has_value()) {
    if (own.ok()) return rotation::ToJson(*own);
    return GenericConfigFor(r, reply);
  }
  absl::StatusOr<std::string> function = LambdaFunctionName(*lambda);
  if (!function.ok()) {
    reply = Err("InvalidParameterException", std::string(ToStd(function.status().message())));
    return function.status();
  }
  if (engine_->registry().Find(*function) != nullptr) {
    if (own.ok() && own->rotator == *function) return rotation::ToJson(*own);
    if (*function == "generic") return GenericConfigFor(r, reply);
    return json::object{{"rotator", JV(*function)}};
  }
  // A template: the rotation config of the secret at that path.
  if (*function != r.name && Allowed(ConfigPath(*function), Capability::kRead)) {
    absl::StatusOr<rotation::RotationConfig> shared = engine_->GetConfig(*function);
    if (shared.ok()) return rotation::ToJson(*shared);
  }
  reply = Err("InvalidRequestException",
              StrCat("RotationLambdaARN names function \"", *function,
                     "\": there is no rekey rotator of that name, nor a rotation config at that "
                     "path that you may read."));
  return absl::NotFoundError("no such function");
}

Reply AwsCall::RotateSecret(const json::object& o) {
  Reply reply;
  Body b{o, reply};
  std::optional<std::string> token, lambda;
  std::optional<bool> immediately;
  if (!b.String("ClientRequestToken", token, 32, 64) ||
      !b.String("RotationLambdaARN", lambda, 0, 2048) ||
      !b.Bool("RotateImmediately", immediately)) {
    return reply;
  }
  std::optional<RotationRulesSpec> rules;
  if (const json::value* v = o.if_contains("RotationRules"); v != nullptr && !v->is_null()) {
    if (!v->is_object()) return Err("SerializationException", "RotationRules must be a structure");
    absl::StatusOr<RotationRulesSpec> parsed = ParseRotationRules(v->as_object());
    if (!parsed.ok()) {
      return Err("InvalidParameterException", std::string(ToStd(parsed.status().message())));
    }
    rules = *std::move(parsed);
  }
  REKEY_AWS_RESOLVE(r, o, RotatePath, Capability::kRotate);
  if (engine_ == nullptr) {
    return Err("InvalidRequestException", "Rotation is not available on this server.");
  }
  const std::string arn = Arn(r->name, r->meta.created);
  // The same request again (its token already names a version): nothing new starts.
  if (token.has_value() && VersionNumberOf(r->meta, *token).has_value()) {
    return Reply{std::nullopt,
                 json::object{{"ARN", JV(arn)}, {"Name", JV(r->name)}, {"VersionId", JV(*token)}}};
  }
  // A run in its grace period counts as finished for AWS (AWSCURRENT moved): a new rotation ends
  // the grace (revoking the value it kept alive) and starts right after. Any other phase is a
  // rotation in progress.
  absl::StatusOr<rotation::SecretStatus> status = engine_->StatusOf(r->name);
  if (status.ok() && !status->phase.empty() && status->phase != "grace") return InProgress();
  if (auto pending = r->meta.labels.find(secrets::kLabelPending);
      pending != r->meta.labels.end() && pending->second != r->meta.CurrentVersion()) {
    return Err("InvalidRequestException",
               "AWSPENDING is on a version that is not AWSCURRENT, so a rotation is still in "
               "progress. Finish it (move AWSCURRENT to that version) or remove the label with "
               "UpdateSecretVersionStage.");
  }

  absl::StatusOr<rotation::RotationConfig> own = engine_->GetConfig(r->name);
  if (!own.ok() && own.status().code() != absl::StatusCode::kNotFound) {
    return FromStatus(own.status());
  }
  if ((!own.ok() || lambda.has_value() || rules.has_value()) &&
      !Allowed(ConfigPath(r->name), Capability::kUpdate)) {
    return AccessDenied();
  }
  absl::StatusOr<json::object> config = RotationConfigFor(*r, lambda, own, reply);
  if (!config.ok()) return reply;
  if (rules.has_value()) {
    if (rules->schedule.empty()) {
      config->erase("schedule");
    } else {
      (*config)["schedule"] = JV(rules->schedule);
    }
    if (rules->window.has_value()) {
      (*config)["window"] = JV(*rules->window);
    } else {
      config->erase("window");
    }
  }
  const bool changed = !own.ok() || *config != rotation::ToJson(*own);
  // A config this call installs must reach (another secret, a transit key, the CA, commands;
  // e.g. through a template named by RotationLambdaARN) only what the caller may reach. Rotating
  // with the secret's existing config needs only the rotate capability, as through the API.
  if (changed) {
    if (absl::Status refs = CheckConfigReferences(*engine_, *config, policies_); !refs.ok()) {
      return Err("AccessDeniedException", std::string(ToStd(refs.message())));
    }
  }
  if (changed) {
    std::vector<rotation::Problem> problems;
    absl::Status set = engine_->SetConfig(r->name, *config, &problems);
    if (!set.ok()) {
      if (set.code() != absl::StatusCode::kInvalidArgument) return FromStatus(set);
      return Err("InvalidRequestException", StrCat("The rotation configuration is not valid: ",
                                                   rotation::JoinProblems(problems)));
    }
  }
  auto restore = [&] {
    if (!changed) return;
    if (own.ok()) {
      (void)engine_->SetConfig(r->name, rotation::ToJson(*own), nullptr);
    } else {
      (void)engine_->DeleteConfig(r->name);
    }
  };

  json::object out{{"ARN", JV(arn)}, {"Name", JV(r->name)}};
  if (!immediately.value_or(true)) {
    // AWS tests the configuration instead of rotating: a dry run, which changes nothing.
    absl::StatusOr<rotation::DryRunReport> report = engine_->DryRun(r->name);
    if (!report.ok() || !report->problems.empty()) {
      restore();
      if (!report.ok()) return FromStatus(report.status());
      return Err("InvalidRequestException",
                 StrCat("The rotation test failed: ", rotation::JoinProblems(report->problems)));
    }
    return Reply{std::nullopt, std::move(out)};
  }
  const std::string version_id = token.value_or(crypto::GenerateUuidV4(random_));
  absl::StatusOr<rotation::Run> run = engine_->Rotate(
      r->name, rotation::RotateOptions{
                   .version_id = version_id, .trigger = "aws", .actor = actor_, .end_grace = true});
  if (!run.ok()) {
    restore();  // the request changed nothing, its config included
    if (run.status().code() == absl::StatusCode::kAborted) return InProgress();
    return FromStatus(run.status());
  }
  out["VersionId"] = JV(version_id);
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::CancelRotateSecret(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, ConfigPath, Capability::kUpdate);
  json::object out{{"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}};
  if (engine_ == nullptr) return Reply{std::nullopt, std::move(out)};
  absl::StatusOr<rotation::RotationConfig> own = engine_->GetConfig(r->name);
  if (!own.ok()) {
    if (own.status().code() == absl::StatusCode::kNotFound) return Reply{std::nullopt, out};
    return FromStatus(own.status());
  }
  // Automatic rotation stops; the config stays, so RotateSecret can still rotate on demand. A run
  // in progress finishes (or rolls back) by itself: the engine never leaves AWSPENDING behind.
  json::object config = rotation::ToJson(*own);
  config.erase("schedule");
  config.erase("window");
  if (absl::Status s = engine_->SetConfig(r->name, config, nullptr); !s.ok()) {
    return FromStatus(s);
  }
  if (auto pending = r->meta.labels.find(secrets::kLabelPending); pending != r->meta.labels.end()) {
    out["VersionId"] = VersionIdOf(r->meta, pending->second);
  }
  return Reply{std::nullopt, std::move(out)};
}

void AwsCall::AddRotationJson(const std::string& name, json::object& out) const {
  if (engine_ == nullptr) return;
  absl::StatusOr<rotation::RotationConfig> config = engine_->GetConfig(name);
  if (!config.ok()) return;
  const bool enabled = config->schedule.has_value();
  out["RotationEnabled"] = enabled;
  out["RotationLambdaARN"] = StrCat("arn:aws:lambda:", options_.region, ":", options_.account_id,
                                    ":function:", config->rotator);
  json::object rules = RotationRulesJson(config->schedule_text, config->window);
  if (!rules.empty()) out["RotationRules"] = std::move(rules);
  absl::StatusOr<rotation::SecretStatus> status = engine_->StatusOf(name);
  if (!status.ok()) return;
  if (status->state.last_rotated != absl::InfinitePast()) {
    out["LastRotatedDate"] = Epoch(status->state.last_rotated);
  }
  if (enabled && status->state.next_due != absl::InfiniteFuture()) {
    out["NextRotationDate"] = Epoch(status->state.next_due);
  }
}

}  // namespace rekey::api::aws
