// Whether a caller may write a rotation config, beyond the right to write it at all: every
// rekey resource the config lets rotations use (RotationEngine::ReferencesOf: a secret it reads,
// a transit key or JWT keyset it changes, the CA, running commands) must be reachable by the
// caller directly, with the capabilities the reference names. Shared by the rotation API and the
// AWS surface's RotateSecret.
#ifndef REKEY_API_ROTATION_CONFIG_REFERENCES_H_
#define REKEY_API_ROTATION_CONFIG_REFERENCES_H_

#include <boost/json/object.hpp>

#include "absl/status/status.h"
#include "auth/policy.h"
#include "rotation/engine.h"

namespace rekey::api {

// OK, or kPermissionDenied naming the first param whose reference the caller lacks a capability
// on ("permission denied: params.admin_secret needs read on secret/data/ops/pg-admin"). The text
// names paths and capabilities only: it is about the caller's own request.
absl::Status CheckConfigReferences(const rotation::RotationEngine& engine,
                                   const boost::json::object& config,
                                   const auth::PolicySet& policies);

}  // namespace rekey::api

#endif  // REKEY_API_ROTATION_CONFIG_REFERENCES_H_
