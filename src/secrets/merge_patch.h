// JSON Merge Patch (RFC 7386) over Boost.JSON values.
#ifndef REKEY_SECRETS_MERGE_PATCH_H_
#define REKEY_SECRETS_MERGE_PATCH_H_

#include <boost/json/value.hpp>

namespace rekey::secrets {

// Applies `patch` to `target` in place: object members are merged recursively, a null member
// removes the key, and any non-object patch replaces the target.
void ApplyMergePatch(boost::json::value& target, const boost::json::value& patch);

}  // namespace rekey::secrets

#endif  // REKEY_SECRETS_MERGE_PATCH_H_
