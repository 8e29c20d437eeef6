#include "api/vault/zeroing_json.h"

#include <boost/json.hpp>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/strings.h"

namespace rekey::api {
namespace {

class ZeroingResource final : public boost::json::memory_resource {
 private:
  void* do_allocate(std::size_t n, std::size_t align) override {
    void* p =
        std::aligned_alloc(std::max<std::size_t>(align, alignof(std::max_align_t)),
                           RoundUp(n, std::max<std::size_t>(align, alignof(std::max_align_t))));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t n, std::size_t) override {
    SecureZero(p, n);
    std::free(p);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
  static std::size_t RoundUp(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
};

}  // namespace

boost::json::storage_ptr ZeroingStorage() {
  static ZeroingResource resource;  // stateless
  return boost::json::storage_ptr(&resource);
}

absl::StatusOr<boost::json::value> ParseBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return boost::json::value(boost::json::object(ZeroingStorage()));
  }
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value v = boost::json::parse(body, ec, ZeroingStorage(), options);
  if (ec) {
    return absl::InvalidArgumentError(
        rekey::StrCat("invalid JSON in request body: ", ec.message()));
  }
  return v;
}

SecretBytes SerializeSecret(const boost::json::value& v) {
  std::string text = boost::json::serialize(v);
  return SecretBytes::TakeFrom(text);
}

}  // namespace rekey::api
