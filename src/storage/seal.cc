#include "storage/seal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/key_wrap.h"

namespace rekey::storage {
namespace {

constexpr char kKeyringAad[] = "rekey/core/keyring/v1";

absl::StatusOr<std::string> WrapKeyring(const crypto::Keyset& keyring, const SecretBytes& root_key,
                                        Random& random) {
  SecretBytes serialized = keyring.Serialize();
  return crypto::WrapWithKey(root_key, serialized.Reveal(), kKeyringAad, random);
}

}  // namespace

SecretBytes GenerateRootKey(Random& random) {
  SecretBytes key = SecretBytes::Zeroed(crypto::kWrapKeySize);
  random.Fill(absl::MakeSpan(key.MutableData(), key.size()));
  return key;
}

absl::StatusOr<SecretBytes> ReadRootKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT)
      return absl::NotFoundError(rekey::StrCat("root key file ", path, " does not exist"));
    return absl::PermissionDeniedError(
        rekey::StrCat("cannot read root key file ", path, ": ", std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::string_view trimmed = ToStd(absl::StripAsciiWhitespace(ToAbsl(text)));
  bool hex = trimmed.size() == 2 * crypto::kWrapKeySize &&
             trimmed.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  if (!hex) {
    SecureWipe(text);
    return absl::InvalidArgumentError(rekey::StrCat(
        "root key file ", path, " does not hold a root key (expected 64 hex characters)"));
  }
  std::string raw = absl::HexStringToBytes(ToAbsl(trimmed));
  SecureWipe(text);
  return SecretBytes::TakeFrom(raw);
}

absl::Status WriteRootKeyFile(const std::string& path, const SecretBytes& root_key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(rekey::StrCat("root key file ", path, " already exists"));
    }
    return absl::PermissionDeniedError(
        rekey::StrCat("cannot create root key file ", path, ": ", std::strerror(errno)));
  }
  std::string hex = absl::BytesToHexString(ToAbsl(root_key.Reveal()));
  hex += '\n';
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
            ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  int saved = errno;
  SecureWipe(hex);
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::UnavailableError(
        rekey::StrCat("cannot write root key file ", path, ": ", std::strerror(saved)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<crypto::Keyset>> InitializeKeyring(Store& raw,
                                                                  const SecretBytes& root_key,
                                                                  Random& random,
                                                                  const Clock& clock) {
  std::unique_ptr<crypto::Keyset> keyring = crypto::Keyset::Generate(random, clock);
  ASSIGN_OR_RETURN(std::string wrapped, WrapKeyring(*keyring, root_key, random));
  WriteBatch batch;
  batch.ExpectModIndex(kKeyringKey, 0);
  batch.Put(kKeyringKey, SecretBytes(wrapped));
  absl::StatusOr<uint64_t> committed = raw.Commit(batch);
  if (committed.status().code() == absl::StatusCode::kAborted) {
    return absl::AlreadyExistsError("this store is already initialised");
  }
  RETURN_IF_ERROR(committed.status());
  return keyring;
}

absl::StatusOr<std::unique_ptr<crypto::Keyset>> UnsealKeyring(Store& raw,
                                                              const SecretBytes& root_key,
                                                              Random& random, const Clock& clock) {
  ASSIGN_OR_RETURN(std::optional<Record> record, raw.Get(kKeyringKey));
  if (!record.has_value()) {
    return absl::FailedPreconditionError("this store is not initialised (it has no keyring)");
  }
  absl::StatusOr<SecretBytes> serialized =
      crypto::UnwrapWithKey(root_key, record->value.Reveal(), kKeyringAad);
  if (!serialized.ok()) {
    return absl::PermissionDeniedError(
        "the root key does not match this store (the keyring does not decrypt)");
  }
  return crypto::Keyset::Deserialize(*serialized, random, clock);
}

absl::Status SaveKeyring(Store& raw, const crypto::Keyset& keyring, const SecretBytes& root_key,
                         Random& random) {
  // Serialised and committed under one lock, so that concurrent savers (the usage-counter saver,
  // a rotation) commit in the order they serialised: the last write holds the newest keyring.
  static std::mutex* const mu = new std::mutex;
  std::lock_guard<std::mutex> lock(*mu);
  ASSIGN_OR_RETURN(std::string wrapped, WrapKeyring(keyring, root_key, random));
  WriteBatch batch;
  batch.Put(kKeyringKey, SecretBytes(wrapped));
  return raw.Commit(batch).status();
}

}  // namespace rekey::storage
