#include "rotators/exec/exec_rotator.h"

#include <algorithm>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/exec/subprocess.h"
#include "rotators/http/step_protocol.h"

namespace rekey::rotators::exec {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;
using step_protocol::Action;
using step_protocol::ActionName;
using step_protocol::Answer;

constexpr size_t kMaxArgs = 64;
constexpr size_t kMaxArgChars = 4096;
constexpr size_t kMaxEnv = 64;
constexpr size_t kMaxStderrLinesLogged = 5;

std::string_view S(json::string_view s) { return std::string_view(s.data(), s.size()); }

void AddProblem(std::vector<Problem>* problems, std::string_view name, std::string_view message) {
  problems->push_back({rekey::StrCat("params.", name), std::string(message)});
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool IsEnvName(std::string_view name) {
  if (name.empty() || name.size() > 128 ||
      absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

struct Config {
  std::vector<std::string> command;
  absl::Duration timeout = absl::Seconds(30);
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir = "/";
  bool log_stderr = false;
  step_protocol::ValueOptions value;
};

Config ParseConfig(const json::object& params, std::vector<Problem>* problems) {
  Config config;
  step_protocol::CheckKnownParams(
      params,
      {"command", "timeout", "env", "working_dir", "log_stderr", "field", "merge", "value_source"},
      problems);
  if (const json::value* v = params.if_contains("command")) {
    if (!v->is_array() || v->as_array().empty() || v->as_array().size() > kMaxArgs) {
      AddProblem(problems, "command",
                 "must be an array of 1 to 64 strings: the program's absolute path, then its "
                 "arguments (no shell)");
    } else {
      const json::array& args = v->as_array();
      for (size_t i = 0; i < args.size(); ++i) {
        const std::string field = rekey::StrCat("command[", i, "]");
        if (!args[i].is_string() || args[i].as_string().size() > kMaxArgChars ||
            HasNul(S(args[i].as_string()))) {
          AddProblem(problems, field, "must be a string of at most 4096 characters without NUL");
        } else if (i == 0 && (args[0].as_string().empty() || args[0].as_string()[0] != '/')) {
          AddProblem(problems, field, "must be an absolute path (there is no PATH search)");
        } else {
          config.command.emplace_back(S(args[i].as_string()));
        }
      }
    }
  } else {
    AddProblem(problems, "command", "is required: [\"/absolute/path\", \"arg\", ...]");
  }
  config.timeout = step_protocol::ParseDurationParam(
      params, "timeout", absl::Seconds(30), absl::Milliseconds(100), absl::Hours(1), problems);
  if (const json::value* v = params.if_contains("env")) {
    if (!v->is_object() || v->as_object().size() > kMaxEnv) {
      AddProblem(problems, "env", "must be an object of at most 64 NAME: \"value\" pairs");
    } else {
      for (const auto& kv : v->as_object()) {
        const std::string name(S(kv.key()));
        const std::string field = rekey::StrCat("env.", step_protocol::SafeMessage(name));
        if (!IsEnvName(name)) {
          AddProblem(problems, field, "is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)");
        } else if (absl::StartsWith(name, "REKEY_") || absl::StartsWith(name, "LD_")) {
          AddProblem(problems, field, "REKEY_* is set by rekey and LD_* may not be set");
        } else if (!kv.value().is_string() || kv.value().as_string().size() > kMaxArgChars ||
                   HasNul(S(kv.value().as_string()))) {
          AddProblem(problems, field, "must be a string of at most 4096 characters without NUL");
        } else {
          config.env.emplace_back(name, std::string(S(kv.value().as_string())));
        }
      }
    }
  }
  if (const json::value* v = params.if_contains("working_dir")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string()[0] != '/' ||
        HasNul(S(v->as_string()))) {
      AddProblem(problems, "working_dir", "must be an absolute path");
    } else {
      config.working_dir = std::string(S(v->as_string()));
    }
  }
  config.log_stderr = step_protocol::ParseBoolParam(params, "log_stderr", false, problems);
  config.value = step_protocol::ParseValueOptions(params, problems);
  return config;
}

absl::StatusOr<Config> ConfigOf(const StepContext& ctx) {
  std::vector<Problem> problems;
  Config config = ParseConfig(ctx.params(), &problems);
  if (!problems.empty()) {
    return absl::FailedPreconditionError(
        rekey::StrCat(problems[0].field, ": ", problems[0].message));
  }
  return config;
}

std::string Who(const Config& config) { return rekey::StrCat("command ", config.command[0]); }

// Logs stderr as params.log_stderr asks: its size only, or its last lines made printable.
void LogStderr(StepContext& ctx, const Config& config, std::string_view what,
               const internal::SubprocessResult& result) {
  if (result.stderr_bytes == 0) return;
  if (!config.log_stderr) {
    ctx.log().Info(rekey::StrCat(what, ": ", Who(config), " wrote ", result.stderr_bytes,
                                 " bytes to stderr (not logged; params.log_stderr logs them)"));
    return;
  }
  std::vector<absl::string_view> lines =
      absl::StrSplit(ToAbsl(result.stderr_tail), '\n', absl::SkipEmpty());
  const size_t first =
      lines.size() > kMaxStderrLinesLogged ? lines.size() - kMaxStderrLinesLogged : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    ctx.log().Info(rekey::StrCat(what, " stderr: ", step_protocol::SafeMessage(ToStd(lines[i]))));
  }
}

class Runner {
 public:
  explicit Runner(const ExecRotatorOptions& options) : options_(options) {}

  // Runs the command for `action` and parses its answer (exit status 0), or maps its failure to
  // the error contract of exec_rotator.h.
  absl::StatusOr<Answer> Run(Action action, StepContext& ctx, const Config& config) const {
    const std::string who = Who(config);
    const std::string what = rekey::StrCat("exec ", ActionName(action));
    const absl::Duration remaining = ctx.deadline() - ctx.clock().Now();
    if (remaining <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          rekey::StrCat(what, ": the step's deadline passed before ", who, " was run"));
    }
    ASSIGN_OR_RETURN(SecretBytes request, step_protocol::BuildRequest(action, ctx, config.value));

    internal::SubprocessOptions run;
    run.argv = config.command;
    run.working_dir = config.working_dir;
    run.timeout = std::min(config.timeout, remaining);
    run.kill_grace = options_.kill_grace;
    run.max_stdout = step_protocol::kMaxAnswerBytes;
    std::map<std::string, std::string> env = {
        {"PATH", "/usr/bin:/bin"},
        {"HOME", options_.home},
        {"LANG", "C.UTF-8"},
    };
    for (const auto& [name, value] : config.env) env[name] = value;
    env["REKEY_STEP"] = std::string(ActionName(action));
    env["REKEY_SECRET_PATH"] = std::string(ctx.path());
    env["REKEY_RUN_ID"] = std::string(ctx.run_id());
    env["REKEY_ATTEMPT"] = std::to_string(ctx.attempt());
    env["REKEY_DRY_RUN"] = action == Action::kCheck || ctx.dry_run() ? "1" : "0";
    for (const auto& [name, value] : env) run.env.push_back(rekey::StrCat(name, "=", value));

    absl::StatusOr<internal::SubprocessResult> result =
        internal::RunSubprocess(run, request.Reveal());
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          rekey::StrCat(what, ": ", result.status().message()));
    }
    LogStderr(ctx, config, what, *result);
    SecureWipe(result->stderr_tail);
    absl::StatusOr<Answer> answer;
    if (result->timed_out) {
      answer = absl::DeadlineExceededError(rekey::StrCat(what, ": ", who, " did not finish within ",
                                                         absl::FormatDuration(run.timeout),
                                                         "; its process group was killed"));
    } else if (result->stdout_overflow) {
      answer = absl::InternalError(rekey::StrCat(what, ": ", who, " wrote more than ",
                                                 step_protocol::kMaxAnswerBytes >> 20,
                                                 " MiB to stdout; it was killed"));
    } else if (!result->exited) {
      answer = absl::UnavailableError(
          rekey::StrCat(what, ": ", who, " was killed by signal ", result->signal));
    } else if (result->exit_code == 0) {
      ctx.log().Info(rekey::StrCat(what, ": ", who, " exited with status 0"));
      answer = step_protocol::ParseAnswer(result->stdout_data, who);
    } else {
      const std::string message = step_protocol::ErrorMessage(result->stdout_data);
      const std::string text =
          rekey::StrCat(what, ": ", who, " exited with status ", result->exit_code,
                        message.empty() ? "" : ": ", message);
      ctx.log().Warn(text);
      switch (result->exit_code) {
        case 2:
          answer = absl::InvalidArgumentError(text);
          break;
        case 3:
          answer = absl::PermissionDeniedError(text);
          break;
        default:
          answer = absl::UnavailableError(text);
      }
    }
    SecureWipe(result->stdout_data);
    return answer;
  }

 private:
  const ExecRotatorOptions& options_;
};

absl::Status SimpleStep(const ExecRotatorOptions& options, Action action, StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Answer answer, Runner(options).Run(action, ctx, config));
  if (answer.value.has_value()) {
    ctx.log().Warn(rekey::StrCat("exec ", ActionName(action), ": ignored the \"value\" in ",
                                 Who(config), "'s answer (only create may return one)"));
  }
  return step_protocol::ApplyState(answer, ctx, Who(config));
}

}  // namespace

ExecRotator::ExecRotator(ExecRotatorOptions options) : options_(std::move(options)) {
  if (options_.home.empty()) {
    const char* home = std::getenv("HOME");
    options_.home = home != nullptr && home[0] == '/' ? home : "/";
  }
}

std::vector<Problem> ExecRotator::Validate(const boost::json::object& params) const {
  std::vector<Problem> problems;
  ParseConfig(params, &problems);
  return problems;
}

std::vector<rotation::Reference> ExecRotator::References(const json::object& params) const {
  std::vector<rotation::Reference> refs;
  refs.push_back(rotation::Reference{.path = std::string(rotation::kRunCommandsPath),
                                     .capabilities = {"sudo"},
                                     .param = "command"});
  return refs;
}

std::string ExecRotator::TargetKey(const boost::json::object& params) const {
  std::vector<Problem> problems;
  Config config = ParseConfig(params, &problems);
  return config.command.empty() ? "" : config.command[0];
}

absl::Status ExecRotator::Check(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  ASSIGN_OR_RETURN(Answer answer, Runner(options_).Run(Action::kCheck, ctx, config));
  if (!answer.message.empty()) {
    ctx.log().Info(rekey::StrCat("exec check: ", Who(config), " says: ", answer.message));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> ExecRotator::Create(StepContext& ctx) {
  ASSIGN_OR_RETURN(Config config, ConfigOf(ctx));
  if (config.value.source == step_protocol::ValueSource::kRekey) {
    return step_protocol::GenerateNewValue(ctx, config.value);
  }
  ASSIGN_OR_RETURN(Answer answer, Runner(options_).Run(Action::kCreate, ctx, config));
  RETURN_IF_ERROR(step_protocol::ApplyState(answer, ctx, Who(config)));
  return step_protocol::NewValueFromAnswer(answer, ctx, config.value, Who(config));
}

absl::Status ExecRotator::Set(StepContext& ctx) { return SimpleStep(options_, Action::kSet, ctx); }

absl::Status ExecRotator::Test(StepContext& ctx) {
  return SimpleStep(options_, Action::kTest, ctx);
}

absl::Status ExecRotator::Finish(StepContext& ctx) {
  return SimpleStep(options_, Action::kFinish, ctx);
}

absl::Status ExecRotator::Revoke(StepContext& ctx) {
  if (!ctx.previous().has_value()) {
    ctx.log().Info("exec revoke: no previous version, nothing to revoke");
    return absl::OkStatus();
  }
  return SimpleStep(options_, Action::kRevoke, ctx);
}

absl::Status ExecRotator::Rollback(StepContext& ctx) {
  return SimpleStep(options_, Action::kRollback, ctx);
}

absl::Status RegisterExecRotator(rotation::RotatorRegistry& registry) {
  return registry.Register("exec", std::make_unique<ExecRotator>());
}

}  // namespace rekey::rotators::exec
