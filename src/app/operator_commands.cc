#include "app/operator_commands.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "app/config.h"
#include "core/clock.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/os_random.h"
#include "storage/rewrap.h"
#include "storage/seal.h"
#include "storage/sqlite_store.h"

namespace rekey::app {
namespace {

namespace fs = std::filesystem;

absl::Status Durable(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(rekey::StrCat("cannot open ", dir));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::UnavailableError(rekey::StrCat("cannot sync ", dir));
  return absl::OkStatus();
}

// Replaces `path` with a file holding `key`: written beside it, synced, renamed over it.
absl::Status ReplaceRootKeyFile(const std::string& path, const SecretBytes& key) {
  const std::string tmp = path + ".new";
  ::unlink(tmp.c_str());
  RETURN_IF_ERROR(storage::WriteRootKeyFile(tmp, key));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    return absl::UnavailableError(
        rekey::StrCat("cannot replace ", path, ": ", std::strerror(saved)));
  }
  fs::path parent = fs::path(path).parent_path();
  return Durable(parent.empty() ? "." : parent.string());
}

absl::Status RekeyRoot(const std::string& data_dir_flag, const std::string& config_file,
                       const std::string& new_key_file) {
  ServerConfig config;
  if (!config_file.empty()) {
    ASSIGN_OR_RETURN(config, LoadConfigFile(config_file));
  }
  if (!data_dir_flag.empty()) config.data_dir = data_dir_flag;
  if (config.data_dir.empty()) {
    return absl::InvalidArgumentError("no data dir: pass --data-dir or --config");
  }
  if (new_key_file.empty()) return absl::InvalidArgumentError("--new-key-file is required");
  std::string key_path = (fs::path(config.data_dir) / "root.key").string();
  if (!config.root_key_file.empty()) key_path = config.root_key_file;
  if (const char* env = std::getenv("REKEY_ROOT_KEY_FILE"); env != nullptr && *env != '\0') {
    key_path = env;
  }
  std::error_code ec;
  if (fs::exists(new_key_file, ec) && fs::equivalent(new_key_file, key_path, ec)) {
    return absl::InvalidArgumentError("--new-key-file must not be the current root key file");
  }
  const std::string db_path = (fs::path(config.data_dir) / "rekey.db").string();
  if (!fs::exists(db_path, ec)) {
    return absl::FailedPreconditionError(
        rekey::StrCat("data dir ", config.data_dir, " holds no rekey store"));
  }
  // The server's lock: the server must be stopped.
  const std::string lock_path = (fs::path(config.data_dir) / "rekey.lock").string();
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    return absl::FailedPreconditionError(rekey::StrCat(
        "data dir ", config.data_dir, " is in use by another rekey process: stop the server"));
  }
  struct CloseLock {
    int fd;
    ~CloseLock() { ::close(fd); }
  } close_lock{lock_fd};

  ASSIGN_OR_RETURN(SecretBytes old_root, storage::ReadRootKeyFile(key_path));
  crypto::OsRandom random;
  RealClock clock;
  SecretBytes new_root;
  absl::StatusOr<SecretBytes> existing = storage::ReadRootKeyFile(new_key_file);
  if (existing.ok()) {
    new_root = *std::move(existing);
  } else if (existing.status().code() == absl::StatusCode::kNotFound) {
    new_root = storage::GenerateRootKey(random);
    RETURN_IF_ERROR(storage::WriteRootKeyFile(new_key_file, new_root));
    fs::path parent = fs::path(new_key_file).parent_path();
    RETURN_IF_ERROR(Durable(parent.empty() ? "." : parent.string()));
  } else {
    return existing.status();
  }
  if (new_root.Reveal() == old_root.Reveal()) {
    return absl::InvalidArgumentError("the new root key is the current one");
  }
  storage::SqliteStoreOptions options;
  ASSIGN_OR_RETURN(std::unique_ptr<storage::SqliteStore> raw,
                   storage::SqliteStore::Open(db_path, options));
  RETURN_IF_ERROR(storage::RekeyRoot(*raw, old_root, new_root, random, clock));
  raw.reset();
  std::cout << "The storage keyring is now wrapped by the root key in " << new_key_file << "\n";
  if (absl::Status s = ReplaceRootKeyFile(key_path, new_root); !s.ok()) {
    return absl::Status(s.code(), rekey::StrCat(s.message(), " — the store now needs the key in ",
                                                new_key_file, "; copy it to ", key_path));
  }
  std::cout << "Replaced " << key_path << " with the new root key; the old key no longer "
            << "opens this store.\n";
  return absl::OkStatus();
}

}  // namespace

int RunOperatorRekeyRoot(const std::string& data_dir, const std::string& config_file,
                         const std::string& new_key_file) {
  absl::Status s = RekeyRoot(data_dir, config_file, new_key_file);
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace rekey::app
