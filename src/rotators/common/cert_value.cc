#include "rotators/common/cert_value.h"

#include "core/status_macros.h"
#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators {

absl::StatusOr<CertValue> CertValueOf(const std::optional<rotation::VersionView>& version,
                                      std::string_view what) {
  if (!version.has_value() || !version->value.has_value()) {
    return absl::FailedPreconditionError(rekey::StrCat("the ", what, " value is not readable"));
  }
  WipedObject obj;
  RETURN_IF_ERROR(obj.Parse(version->value->Reveal(), rekey::StrCat("the ", what, " value")));
  CertValue out;
  out.certificate = obj.String("certificate");
  out.chain = obj.String("chain");
  out.serial_number = obj.String("serial_number");
  if (const boost::json::value* k = obj.object().if_contains("private_key");
      k != nullptr && k->is_string()) {
    out.private_key = SecretBytes(std::string_view(k->get_string().data(), k->get_string().size()));
  }
  return out;
}

}  // namespace rekey::rotators
