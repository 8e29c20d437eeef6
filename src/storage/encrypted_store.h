// EncryptedStore: the storage barrier. Encrypts every value with an Aead before it reaches the
// inner Store, binding it to its key so a blob moved to another key does not decrypt.
#ifndef REKEY_STORAGE_ENCRYPTED_STORE_H_
#define REKEY_STORAGE_ENCRYPTED_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/aead.h"
#include "storage/store.h"

namespace rekey::storage {

// Keys, mod_indexes, conditions and the commit index pass through unchanged (keys are paths,
// not secrets); values are stored as aead.Encrypt(value, aad = key). A stored value that does not
// decrypt under its own key yields kDataLoss naming the key. Thread-safe if `inner` and `aead`
// are (as the Store and Aead contracts require); both must outlive this object.
class EncryptedStore final : public Store {
 public:
  EncryptedStore(Store& inner, crypto::Aead& aead) : inner_(inner), aead_(aead) {}
  EncryptedStore(const EncryptedStore&) = delete;
  EncryptedStore& operator=(const EncryptedStore&) = delete;

  absl::StatusOr<std::optional<Record>> Get(std::string_view key) override;
  absl::StatusOr<std::vector<Record>> Scan(std::string_view prefix, std::string_view start_after,
                                           size_t limit) override;
  absl::StatusOr<std::vector<std::string>> ScanKeys(std::string_view prefix,
                                                    std::string_view start_after,
                                                    size_t limit) override;
  // Encryption failures (internal crypto errors) are returned before anything is written.
  absl::StatusOr<uint64_t> Commit(const WriteBatch& batch) override;
  void CommitAsync(WriteBatch batch, CommitCallback done) override;
  uint64_t CommitIndex() override;

 private:
  // The batch with every value encrypted under its key.
  absl::StatusOr<WriteBatch> Seal(const WriteBatch& batch);
  // Replaces record.value (ciphertext) with its plaintext.
  absl::Status Decrypt(Record& record);

  Store& inner_;
  crypto::Aead& aead_;
};

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_ENCRYPTED_STORE_H_
