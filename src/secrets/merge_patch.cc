#include "secrets/merge_patch.h"

#include <boost/json.hpp>

#include "core/strings.h"

namespace rekey::secrets {

void ApplyMergePatch(boost::json::value& target, const boost::json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = boost::json::object();
  boost::json::object& out = target.get_object();
  for (const auto& member : patch.get_object()) {
    if (member.value().is_null()) {
      out.erase(member.key());
    } else {
      ApplyMergePatch(out[member.key()], member.value());
    }
  }
}

}  // namespace rekey::secrets
