#include "api/rotation/config_references.h"

#include "core/strings.h"

namespace rekey::api {

absl::Status CheckConfigReferences(const rotation::RotationEngine& engine,
                                   const boost::json::object& config,
                                   const auth::PolicySet& policies) {
  for (const rotation::Reference& ref : engine.ReferencesOf(config)) {
    for (const std::string& name : ref.capabilities) {
      absl::StatusOr<auth::Capability> cap = auth::ParseCapability(name);
      if (!cap.ok() || !policies.Allows(ref.path, *cap)) {
        const std::string field = ref.param == "rotator" || ref.param.starts_with("notify")
                                      ? ref.param
                                      : StrCat("params.", ref.param);
        return absl::PermissionDeniedError(
            StrCat("permission denied: ", field, " needs ", name, " on ", ref.path));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace rekey::api
