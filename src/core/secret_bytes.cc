#include "core/secret_bytes.h"

#include <cstring>
#include <utility>

namespace rekey {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | (static_cast<uint8_t>(a[i]) ^ static_cast<uint8_t>(b[i]));
  }
  return diff == 0;
}

void SecureZero(void* data, size_t size) {
  if (data != nullptr && size > 0) explicit_bzero(data, size);
}

void SecureWipe(std::string& s) {
  SecureZero(s.data(), s.size());
  s.clear();
}

void SecureWipe(char* data, size_t size) { SecureZero(data, size); }

SecretBytes::SecretBytes(std::string_view data)
    : data_(new uint8_t[data.size()]), size_(data.size()) {
  if (size_ > 0) std::memcpy(data_.get(), data.data(), size_);
}

SecretBytes SecretBytes::Zeroed(size_t size) {
  SecretBytes out;
  out.data_.reset(new uint8_t[size]());
  out.size_ = size;
  return out;
}

SecretBytes SecretBytes::TakeFrom(std::string& s) {
  SecretBytes out(s);
  SecureWipe(s);
  return out;
}

SecretBytes::SecretBytes(const SecretBytes& other) : SecretBytes(other.Reveal()) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    SecretBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  SecureZero(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

}  // namespace rekey
