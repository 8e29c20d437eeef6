// FaultRotator: a rotator over a simulated target, for engine tests. The target is the set of
// values it accepts; any step can be told to fail a number of times, and every generated value
// is recorded so tests can check that retries used new ones.
#ifndef REKEY_ROTATION_TESTING_FAULT_ROTATOR_H_
#define REKEY_ROTATION_TESTING_FAULT_ROTATOR_H_

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/strings.h"
#include "rotation/rotator.h"

namespace rekey::rotation::testing {

class FaultRotator final : public Rotator {
 public:
  // The target accepts `value` (as if an initial credential had been provisioned).
  void Accept(const std::string& value) {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_.insert(value);
  }
  bool Accepts(const std::string& value) const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_.contains(value);
  }
  std::set<std::string> accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  // The next `times` calls of `step` fail with `code`.
  void FailNext(Step step, int times, absl::StatusCode code = absl::StatusCode::kUnavailable) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[step] = {times, code};
  }
  std::vector<std::string> generated() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generated_;
  }
  int calls(Step step) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(step);
    return it == calls_.end() ? 0 : it->second;
  }

  std::vector<Problem> Validate(const boost::json::object& params) const override {
    std::vector<Problem> problems;
    for (const auto& [k, v] : params) {
      if (k != "target") problems.push_back(Problem{"params." + std::string(k), "unknown field"});
    }
    return problems;
  }
  std::string TargetKey(const boost::json::object& params) const override {
    const boost::json::value* t = params.if_contains("target");
    return t != nullptr && t->is_string() ? std::string(t->get_string()) : std::string();
  }
  absl::Status Check(StepContext& ctx) override { return Enter(Step::kCreate, /*count=*/false); }
  absl::StatusOr<SecretBytes> Create(StepContext& ctx) override {
    if (absl::Status s = Enter(Step::kCreate); !s.ok()) return s;
    absl::StatusOr<SecretBytes> v = ctx.Generate();
    if (!v.ok()) return v.status();
    {
      std::lock_guard<std::mutex> lock(mu_);
      generated_.emplace_back(v->Reveal());
    }
    boost::json::object o;
    o["value"] = std::string(v->Reveal());
    return SecretBytes(boost::json::serialize(o));
  }
  absl::Status Set(StepContext& ctx) override {
    if (absl::Status s = Enter(Step::kSet); !s.ok()) return s;
    Accept(ValueOf(ctx.pending()));
    return absl::OkStatus();
  }
  absl::Status Test(StepContext& ctx) override {
    if (absl::Status s = Enter(Step::kTest); !s.ok()) return s;
    return Accepts(ValueOf(ctx.pending())) ? absl::OkStatus()
                                           : absl::FailedPreconditionError("target rejects it");
  }
  absl::Status Finish(StepContext& ctx) override { return Enter(Step::kFinish); }
  absl::Status Revoke(StepContext& ctx) override {
    if (absl::Status s = Enter(Step::kRevoke); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    accepted_.erase(ValueOf(ctx.previous()));
    return absl::OkStatus();
  }
  absl::Status Rollback(StepContext& ctx) override {
    if (absl::Status s = Enter(Step::kRollback); !s.ok()) return s;
    if (ctx.pending().has_value()) {
      std::lock_guard<std::mutex> lock(mu_);
      accepted_.erase(ValueOf(ctx.pending()));
    }
    return absl::OkStatus();
  }

  // The "value" field of a version's JSON, or "" when unreadable.
  static std::string ValueOf(const std::optional<VersionView>& v) {
    if (!v.has_value() || !v->value.has_value()) return "";
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(
        boost::json::string_view(v->value->Reveal().data(), v->value->Reveal().size()), ec);
    if (ec || !doc.is_object()) return "";
    const boost::json::value* f = doc.get_object().if_contains("value");
    return f != nullptr && f->is_string() ? std::string(f->get_string()) : "";
  }

 private:
  absl::Status Enter(Step step, bool count = true) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count) ++calls_[step];
    auto it = failures_.find(step);
    if (it == failures_.end() || it->second.first <= 0) return absl::OkStatus();
    --it->second.first;
    return absl::Status(it->second.second, rekey::StrCat("injected failure at ", StepName(step)));
  }

  mutable std::mutex mu_;
  std::set<std::string> accepted_;
  std::map<Step, std::pair<int, absl::StatusCode>> failures_;
  std::map<Step, int> calls_;
  std::vector<std::string> generated_;
};

}  // namespace rekey::rotation::testing

#endif  // REKEY_ROTATION_TESTING_FAULT_ROTATOR_H_
