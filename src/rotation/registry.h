// RotatorRegistry: rotators by name. src/app registers every first-party rotator at startup;
// the engine looks them up by the name in a secret's rotation config and never names one.
#ifndef REKEY_ROTATION_REGISTRY_H_
#define REKEY_ROTATION_REGISTRY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "rotation/rotator.h"

namespace rekey::rotation {

// Filled before the engine starts, read-only afterwards (then safe to share between threads).
class RotatorRegistry {
 public:
  // kAlreadyExists when `name` is taken; kInvalidArgument for an empty name or a null rotator.
  absl::Status Register(std::string name, std::unique_ptr<Rotator> rotator);
  // The rotator named `name`, or nullptr.
  Rotator* Find(std::string_view name) const;
  // Registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<Rotator>> rotators_;
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_REGISTRY_H_
