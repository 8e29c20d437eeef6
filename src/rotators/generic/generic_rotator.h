// The `generic` rotator: rotates only the value (API keys, passwords, HMAC secrets, random
// bytes) with the secret's generator; there is no target system to change.
#ifndef REKEY_ROTATORS_GENERIC_GENERIC_ROTATOR_H_
#define REKEY_ROTATORS_GENERIC_GENERIC_ROTATOR_H_

#include "absl/status/status.h"
#include "rotation/registry.h"

namespace rekey::rotators::generic {

// Registers the rotator as "generic".
absl::Status RegisterGenericRotator(rotation::RotatorRegistry& registry);

}  // namespace rekey::rotators::generic

#endif  // REKEY_ROTATORS_GENERIC_GENERIC_ROTATOR_H_
