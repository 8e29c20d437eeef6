#include "api/http/message.h"

namespace rekey::http {

std::optional<std::string_view> Request::GetHeader(std::string_view lower_name) const {
  for (const Header& h : headers) {
    if (h.name == lower_name) return std::string_view(h.value);
  }
  return std::nullopt;
}

}  // namespace rekey::http
