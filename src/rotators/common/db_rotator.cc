#include "rotators/common/db_rotator.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace rekey::rotators {
namespace {

namespace json = boost::json;

json::string_view J(std::string_view s) { return json::string_view(s.data(), s.size()); }
std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

bool ValidName(std::string_view name, const AccountNames& names) {
  return !name.empty() && name.size() <= names.max_length &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

std::string TargetOf(const DbParams& p) { return rekey::StrCat(p.host, ":", p.port); }

void UsernameParam(const json::object& params, const AccountNames& names,
                   std::vector<rotation::Problem>* problems, DbParams& p) {
  if (auto user = StringParam(params, "username", problems)) {
    if (!ValidName(*user, names)) {
      AddProblem(problems, "username", names.bad_name);
    } else {
      p.username = *user;
    }
  } else if (!params.contains("username")) {
    AddProblem(problems, "username", "is required");
  }
}

void AdminSecretParam(const json::object& params, std::string_view required,
                      std::vector<rotation::Problem>* problems, DbParams& p) {
  if (auto admin = StringParam(params, "admin_secret", problems)) {
    if (admin->empty() || admin->size() > 512) {
      AddProblem(problems, "admin_secret", "must be the path of a rekey secret");
    } else {
      p.admin_secret = *admin;
    }
  } else if (!required.empty() && !params.contains("admin_secret")) {
    AddProblem(problems, "admin_secret", required);
  }
}

void StrategyParams(const json::object& params, const AccountNames& names,
                    std::vector<rotation::Problem>* problems, DbParams& p) {
  if (auto strategy = StringParam(params, "strategy", problems)) {
    if (*strategy == "alternating-users") {
      p.alternating = true;
    } else if (*strategy != "single-user") {
      AddProblem(problems, "strategy", "must be single-user or alternating-users");
    }
  }
  p.users = {p.username, p.username.empty() ? "" : rekey::StrCat(p.username, "_clone")};
  if (const json::value* v = params.if_contains("usernames")) {
    if (!p.alternating) {
      AddProblem(problems, "usernames", "is only for strategy alternating-users");
    } else if (!v->is_array() || v->get_array().size() != 2 || !v->get_array()[0].is_string() ||
               !v->get_array()[1].is_string() ||
               !ValidName(S(v->get_array()[0].get_string()), names) ||
               !ValidName(S(v->get_array()[1].get_string()), names) ||
               v->get_array()[0] == v->get_array()[1]) {
      AddProblem(problems, "usernames", names.bad_pair);
    } else {
      p.users = {std::string(S(v->get_array()[0].get_string())),
                 std::string(S(v->get_array()[1].get_string()))};
    }
  }
  if (p.alternating && !p.username.empty()) p.group_role = rekey::StrCat(p.username, "_group");
  if (auto group = StringParam(params, "group_role", problems)) {
    if (!p.alternating) {
      AddProblem(problems, "group_role", "is only for strategy alternating-users");
    } else if (group->empty() ? !names.group_may_be_empty : !ValidName(*group, names)) {
      AddProblem(problems, "group_role", names.bad_group);
    } else {
      p.group_role = *group;
    }
  }
}

void RevokeModeParam(const json::object& params, std::string_view disable,
                     std::vector<rotation::Problem>* problems, RevokeMode& out) {
  if (auto mode = StringParam(params, "revoke_mode", problems)) {
    if (*mode == "random_password") {
      out = RevokeMode::kRandomPassword;
    } else if (*mode != disable) {
      AddProblem(problems, "revoke_mode",
                 rekey::StrCat("must be ", disable, " or random_password"));
    }
  }
}

void VerifyQueryParam(const json::object& params, std::vector<rotation::Problem>* problems,
                      std::string& out) {
  if (auto q = StringParam(params, "verify_query", problems)) {
    if (q->empty() || q->size() > 4096) {
      AddProblem(problems, "verify_query", "must be a non-empty SQL query");
    } else {
      out = *q;
    }
  }
}

absl::StatusOr<Credential> CredentialOf(const SecretBytes& value, std::string_view what,
                                        Username username) {
  WipedObject doc;
  RETURN_IF_ERROR(doc.Parse(value.Reveal(), what));
  Credential cred;
  cred.username = doc.String("username");
  const json::value* p = doc.object().if_contains("password");
  if (p == nullptr || !p->is_string() ||
      (username == Username::kRequired && cred.username.empty())) {
    return absl::FailedPreconditionError(rekey::StrCat(
        what, username == Username::kRequired ? " lacks a \"username\" or \"password\" string"
                                              : " lacks a \"password\" string"));
  }
  cred.password = SecretBytes(S(p->get_string()));
  return cred;
}

absl::StatusOr<Credential> VersionCredential(const std::optional<rotation::VersionView>& v,
                                             std::string_view what, Username username) {
  if (!v.has_value() || !v->value.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat("the ", what, " value is not readable"));
  }
  return CredentialOf(*v->value, rekey::StrCat("the ", what, " value"), username);
}

std::optional<Credential> ReadableCredential(const std::optional<rotation::VersionView>& v,
                                             Username username) {
  absl::StatusOr<Credential> cred = VersionCredential(v, "", username);
  if (!cred.ok()) return std::nullopt;
  return std::move(*cred);
}

absl::StatusOr<Credential> AdminCredential(rotation::StepContext& ctx, std::string_view path) {
  absl::StatusOr<SecretBytes> raw = ctx.ReadSecret(path);
  if (!raw.ok()) {
    return absl::FailedPreconditionError(
        rekey::StrCat("cannot read the admin credential \"", path, "\": ", raw.status().message()));
  }
  return CredentialOf(*raw, rekey::StrCat("the admin credential \"", path, "\""));
}

absl::Status AdminConnectStatus(std::string_view path, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    return absl::PermissionDeniedError(
        rekey::StrCat("the admin credential \"", path, "\" was refused: ", status.message()));
  }
  return status;
}

absl::StatusOr<absl::Duration> TimeLeft(const rotation::StepContext& ctx, absl::Duration timeout,
                                        std::string_view what) {
  const absl::Duration left = std::min(timeout, ctx.deadline() - ctx.clock().Now());
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(
        rekey::StrCat("the step's deadline passed before reaching ", what));
  }
  return left;
}

absl::StatusOr<SecretBytes> NewCredentialValue(
    rotation::StepContext& ctx, const DbParams& p,
    const std::vector<std::pair<std::string_view, std::string_view>>& extra, std::string* user) {
  WipedObject doc;
  if (ctx.current().has_value() && ctx.current()->value.has_value()) {
    RETURN_IF_ERROR(doc.Parse(ctx.current()->value->Reveal(), "the current value"));
  }
  std::string username = p.username;
  if (p.alternating) {
    const bool has_current = ctx.current().has_value();
    username = !has_current                           ? p.users[0]
               : doc.String("username") == p.users[1] ? p.users[0]
                                                      : p.users[1];
  }
  ASSIGN_OR_RETURN(SecretBytes password, ctx.Generate());
  json::object& o = doc.object();
  if (json::value* old = o.if_contains("password")) WipeJsonStrings(*old);
  o["username"] = J(username);
  o["password"] = J(password.Reveal());
  o["host"] = J(p.host);
  o["port"] = p.port;
  for (const auto& [key, value] : extra) o[J(key)] = J(value);
  std::string text = json::serialize(o);
  if (user != nullptr) *user = std::move(username);
  return SecretBytes::TakeFrom(text);
}

}  // namespace rekey::rotators
