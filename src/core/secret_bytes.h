// SecretBytes: the one type that holds secret material (keys, values, tokens) in memory.
#ifndef REKEY_CORE_SECRET_BYTES_H_
#define REKEY_CORE_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rekey {

// Compares two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Overwrites `size` bytes at `data` with zeros in a way the compiler may not elide.
void SecureZero(void* data, size_t size);

// Overwrites a std::string's bytes with zeros and clears it (for buffers that briefly held a
// secret, e.g. an HTTP body).
void SecureWipe(std::string& s);
// Zeroes `size` bytes at `data` in a way the compiler may not elide.
void SecureWipe(char* data, size_t size);

// Owns a buffer of secret bytes. The buffer is zeroed on destruction and on reassignment,
// equality is constant-time, there is no operator<< and no implicit conversion: reading the
// bytes needs the explicit, greppable Reveal(). Not thread-safe for concurrent mutation.
class SecretBytes {
 public:
  SecretBytes() = default;
  // Copies `data` into a new secret buffer.
  explicit SecretBytes(std::string_view data);
  // A zero-filled buffer of `size` bytes, to be filled through MutableData().
  static SecretBytes Zeroed(size_t size);
  // Takes the bytes of `s` and wipes `s`.
  static SecretBytes TakeFrom(std::string& s);

  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The raw secret bytes. Every caller is a place where material leaves this type: keep them few.
  std::string_view Reveal() const {
    return std::string_view(reinterpret_cast<const char*>(data_.get()), size_);
  }
  uint8_t* MutableData() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }

  // Constant-time for equal sizes; sizes are not secret.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return ConstantTimeEquals(a.Reveal(), b.Reveal());
  }

 private:
  void Wipe();
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

}  // namespace rekey

#endif  // REKEY_CORE_SECRET_BYTES_H_
