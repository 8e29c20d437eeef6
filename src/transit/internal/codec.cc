#include "transit/internal/codec.h"

#include <array>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>

#include "core/strings.h"

namespace rekey::transit::internal {
namespace {

class ZeroingResource final : public boost::json::memory_resource {
 private:
  static constexpr std::size_t kAlign = alignof(std::max_align_t);
  void* do_allocate(std::size_t n, std::size_t align) override {
    const std::size_t a = std::max(align, kAlign);
    void* p = std::aligned_alloc(a, (n + a - 1) / a * a);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t n, std::size_t) override {
    SecureZero(p, n);
    std::free(p);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace

boost::json::storage_ptr ZeroingJsonStorage() {
  static ZeroingResource resource;  // stateless
  return boost::json::storage_ptr(&resource);
}

absl::StatusOr<boost::json::value> ParseSecretJson(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 16;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec,
                                            ZeroingJsonStorage(), options);
  if (ec) return absl::DataLossError(rekey::StrCat(what, " is not valid JSON"));
  return v;
}

SecretBytes SerializeSecretJson(const boost::json::value& v) {
  boost::json::serializer sr;
  sr.reset(&v);
  SecretBytes buf = SecretBytes::Zeroed(4096);
  size_t len = 0;
  while (!sr.done()) {
    if (len == buf.size()) {
      SecretBytes bigger = SecretBytes::Zeroed(buf.size() * 2);
      std::memcpy(bigger.MutableData(), buf.data(), len);
      buf = std::move(bigger);  // the old buffer is wiped
    }
    boost::json::string_view chunk =
        sr.read(reinterpret_cast<char*>(buf.MutableData()) + len, buf.size() - len);
    len += chunk.size();
  }
  if (len == buf.size()) return buf;
  return SecretBytes(buf.Reveal().substr(0, len));
}

}  // namespace rekey::transit::internal
