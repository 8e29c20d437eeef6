#include "rotation/registry.h"

#include <algorithm>

#include "core/strings.h"

namespace rekey::rotation {

std::string_view StepName(Step step) {
  switch (step) {
    case Step::kCreate:
      return "create";
    case Step::kSet:
      return "set";
    case Step::kTest:
      return "test";
    case Step::kFinish:
      return "finish";
    case Step::kRevoke:
      return "revoke";
    case Step::kRollback:
      return "rollback";
  }
  return "unknown";
}

absl::Status RotatorRegistry::Register(std::string name, std::unique_ptr<Rotator> rotator) {
  if (name.empty()) return absl::InvalidArgumentError("rotator name must not be empty");
  if (rotator == nullptr) {
    return absl::InvalidArgumentError(rekey::StrCat("rotator \"", name, "\" is null"));
  }
  auto [it, inserted] = rotators_.try_emplace(name, nullptr);
  if (!inserted) {
    return absl::AlreadyExistsError(rekey::StrCat("rotator \"", name, "\" is already registered"));
  }
  it->second = std::move(rotator);
  return absl::OkStatus();
}

Rotator* RotatorRegistry::Find(std::string_view name) const {
  auto it = rotators_.find(ToAbsl(name));
  return it == rotators_.end() ? nullptr : it->second.get();
}

std::vector<std::string> RotatorRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(rotators_.size());
  for (const auto& [name, rotator] : rotators_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace rekey::rotation
