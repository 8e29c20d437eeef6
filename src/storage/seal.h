// The root of trust: the root key (a 32-byte key in a file) wraps the storage keyring, which is
// kept in the raw store at "core/keyring" and unwrapped at startup.
#ifndef REKEY_STORAGE_SEAL_H_
#define REKEY_STORAGE_SEAL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/secret_bytes.h"
#include "crypto/keyset.h"
#include "storage/store.h"

namespace rekey::storage {

inline constexpr char kKeyringKey[] = "core/keyring";

SecretBytes GenerateRootKey(Random& random);

// Reads a root key file (64 hex characters, surrounding whitespace ignored). kNotFound when the
// file does not exist; kInvalidArgument when it does not hold a root key; kPermissionDenied when
// it cannot be read. Messages name the file, never its content.
absl::StatusOr<SecretBytes> ReadRootKeyFile(const std::string& path);
// Creates `path` with mode 0600 (never overwrites: kAlreadyExists) and syncs it.
absl::Status WriteRootKeyFile(const std::string& path, const SecretBytes& root_key);

// Creates a fresh storage keyring in `raw` wrapped by `root_key`. kAlreadyExists when the store
// already has one.
absl::StatusOr<std::unique_ptr<crypto::Keyset>> InitializeKeyring(Store& raw,
                                                                  const SecretBytes& root_key,
                                                                  Random& random,
                                                                  const Clock& clock);
// Unwraps the keyring. kFailedPrecondition when the store has none (not initialised);
// kPermissionDenied when `root_key` is not the key this store was initialised with.
absl::StatusOr<std::unique_ptr<crypto::Keyset>> UnsealKeyring(Store& raw,
                                                              const SecretBytes& root_key,
                                                              Random& random, const Clock& clock);
// Writes the keyring back (new keys, usage counters).
absl::Status SaveKeyring(Store& raw, const crypto::Keyset& keyring, const SecretBytes& root_key,
                         Random& random);

}  // namespace rekey::storage

#endif  // REKEY_STORAGE_SEAL_H_
