#include "app/server_command.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "api/audit/audit_recorder.h"
#include "api/aws/access_key_routes.h"
#include "api/aws/access_keys.h"
#include "api/aws/aws_handler.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "api/jwt/jwt_handler.h"
#include "api/pki/pki_handler.h"
#include "api/rotation/rotation_handler.h"
#include "api/storage_keys/storage_key_handler.h"
#include "api/transit/transit_handler.h"
#include "api/vault/vault_handler.h"
#include "app/config.h"
#include "app/keyring_saver.h"
#include "app/rotators.h"
#include "app/transit_schedules.h"
#include "audit/broker.h"
#include "auth/authorizer.h"
#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/clock.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "crypto/os_random.h"
#include "jwt/jwt_service.h"
#include "pki/ca_service.h"
#include "rotation/engine.h"
#include "rotation/net_http_transport.h"
#include "rotation/notifier.h"
#include "rotators/transit/transit_rotator.h"
#include "secrets/secrets_service.h"
#include "storage/encrypted_store.h"
#include "storage/rewrap.h"
#include "storage/seal.h"
#include "storage/sqlite_store.h"
#include "transit/transit_service.h"

namespace rekey::app {
namespace {

namespace fs = std::filesystem;

constexpr char kDbFile[] = "rekey.db";
constexpr char kRootKeyFile[] = "root.key";
constexpr char kClusterIdKey[] = "sys/cluster-id";

// An exclusive flock on <data_dir>/rekey.lock, held for the life of the process, so two servers
// never share one store. The kernel drops it when the process dies, even by SIGKILL.
class DataDirLock {
 public:
  static absl::StatusOr<DataDirLock> Acquire(const std::string& data_dir) {
    const std::string path = (fs::path(data_dir) / "rekey.lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::PermissionDeniedError(
          rekey::StrCat("cannot open lock file ", path, ": ", std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return absl::FailedPreconditionError(
          rekey::StrCat("data dir ", data_dir, " is in use by another rekey process"));
    }
    return DataDirLock(fd);
  }
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Everything a running server owns, in construction order.
struct Core {
  std::optional<DataDirLock> lock;
  RealClock clock;
  crypto::OsRandom random;
  SecretBytes root_key;
  std::unique_ptr<storage::SqliteStore> raw;
  std::unique_ptr<crypto::Keyset> keyring;
  std::unique_ptr<storage::EncryptedStore> barrier;
  std::string cluster_id;
};

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("rekey");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
}

std::string RootKeyPath(const ServerConfig& config) {
  if (const char* env = std::getenv("REKEY_ROOT_KEY_FILE"); env != nullptr && *env != '\0') {
    return env;
  }
  if (!config.root_key_file.empty()) return config.root_key_file;
  return (fs::path(config.data_dir) / kRootKeyFile).string();
}

std::string InitHint(const std::string& data_dir) {
  return rekey::StrCat("run `rekey operator init --data-dir ", data_dir,
                       "` first (or `rekey server --dev` for a throwaway dev server)");
}

// Opens the store in `config.data_dir`. With `create`, a missing store and root key are made
// (dev mode and operator init); otherwise both must exist.
absl::StatusOr<std::unique_ptr<Core>> OpenCore(const ServerConfig& config, bool create) {
  auto core = std::make_unique<Core>();
  const std::string db_path = (fs::path(config.data_dir) / kDbFile).string();
  const std::string key_path = RootKeyPath(config);
  std::error_code ec;
  if (create) {
    fs::create_directories(config.data_dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          rekey::StrCat("cannot create data dir ", config.data_dir, ": ", ec.message()));
    }
    ::chmod(config.data_dir.c_str(), 0700);
  } else if (!fs::is_directory(config.data_dir, ec)) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "data dir ", config.data_dir, " does not exist: ", InitHint(config.data_dir)));
  }
  const bool had_db = fs::exists(db_path, ec);
  if (!had_db && !create) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "data dir ", config.data_dir, " holds no rekey store: ", InitHint(config.data_dir)));
  }
  ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(config.data_dir));
  core->lock.emplace(std::move(lock));

  absl::StatusOr<SecretBytes> root_key = storage::ReadRootKeyFile(key_path);
  if (root_key.status().code() == absl::StatusCode::kNotFound && create && !had_db) {
    core->root_key = storage::GenerateRootKey(core->random);
    RETURN_IF_ERROR(storage::WriteRootKeyFile(key_path, core->root_key));
  } else if (!root_key.ok()) {
    if (root_key.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(rekey::StrCat(
          root_key.status().message(),
          ": set REKEY_ROOT_KEY_FILE or root_key_file to the key this store was initialised with"));
    }
    return root_key.status();
  } else {
    core->root_key = std::move(*root_key);
  }

  storage::SqliteStoreOptions options;
  options.create_if_missing = create;
  ASSIGN_OR_RETURN(core->raw, storage::SqliteStore::Open(db_path, options));

  absl::StatusOr<std::unique_ptr<crypto::Keyset>> keyring =
      storage::UnsealKeyring(*core->raw, core->root_key, core->random, core->clock);
  if (keyring.status().code() == absl::StatusCode::kFailedPrecondition && create) {
    keyring = storage::InitializeKeyring(*core->raw, core->root_key, core->random, core->clock);
  } else if (keyring.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(rekey::StrCat(
        "the store in ", config.data_dir, " is not initialised: ", InitHint(config.data_dir)));
  } else if (keyring.status().code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(
        rekey::StrCat("root key ", key_path, " does not match the store in ", config.data_dir));
  }
  RETURN_IF_ERROR(keyring.status());
  core->keyring = std::move(*keyring);
  core->barrier = std::make_unique<storage::EncryptedStore>(*core->raw, *core->keyring);

  ASSIGN_OR_RETURN(auto cluster, core->barrier->Get(kClusterIdKey));
  if (cluster.has_value()) {
    core->cluster_id = std::string(cluster->value.Reveal());
  } else {
    core->cluster_id = crypto::GenerateUuidV4(core->random);
    storage::WriteBatch batch;
    batch.Put(kClusterIdKey, SecretBytes(core->cluster_id));
    RETURN_IF_ERROR(core->barrier->Commit(batch).status());
  }
  return core;
}

absl::StatusOr<ServerConfig> ResolveConfig(const ServerFlags& flags) {
  ServerConfig config;
  if (!flags.config_file.empty()) {
    ASSIGN_OR_RETURN(config, LoadConfigFile(flags.config_file));
  }
  if (!flags.listen.empty()) config.http.listen = flags.listen;
  if (!flags.data_dir.empty()) config.data_dir = flags.data_dir;
  if (!flags.addr_file.empty()) config.addr_file = flags.addr_file;
  if (!flags.log_level.empty()) {
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.contains(flags.log_level)) {
      return absl::InvalidArgumentError(
          "invalid --log-level: use one of trace, debug, info, warn, error, off");
    }
    config.log_level = flags.log_level;
  }
  if (config.data_dir.empty()) {
    if (!flags.dev) {
      return absl::InvalidArgumentError(
          "no data dir: pass --data-dir or set data_dir in the config file");
    }
    std::string tmpl = (fs::temp_directory_path() / "rekey-dev-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return absl::UnavailableError("cannot create a temporary data dir for --dev");
    }
    config.data_dir = tmpl;
  }
  return config;
}

absl::Status WriteAddrFile(const std::string& path, const std::string& address) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << "\n";
    if (!out) return absl::UnavailableError(rekey::StrCat("cannot write addr file ", path));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(rekey::StrCat("cannot write addr file ", path));
  return absl::OkStatus();
}

void PrintDevBanner(const std::string& url, const std::string& data_dir,
                    std::string_view root_token, std::string_view aws_id,
                    std::string_view aws_secret) {
  std::cout << "\n"
            << "rekey dev server is running. It is not for production: the root key sits next to\n"
            << "the data it protects.\n\n"
            << "  Address:    " << url << "\n"
            << "  Root token: " << root_token << "\n"
            << "  Data dir:   " << data_dir << "\n"
            << "  AWS access key id:     " << aws_id << "\n"
            << "  AWS secret access key: " << aws_secret << "\n"
            << "  (aws --endpoint-url " << url << " --region us-east-1 secretsmanager ...)\n\n"
            << "Try, in another shell:\n\n"
            << "  export REKEY_ADDR=" << url << " REKEY_TOKEN=" << root_token << "\n"
            << "  build/release/src/app/rekey kv put hello/world password=s3cr3t\n"
            << "  build/release/src/app/rekey kv get hello/world\n"
            << "  curl -s -H \"X-Vault-Token: $REKEY_TOKEN\" " << url
            << "/v1/secret/data/hello/world\n\n"
            << "Stop with Ctrl-C.\n"
            << std::endl;
}

// This server's name in audit entries: the host name.
std::string NodeName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "rekey";
  return host;
}

int Fail(const absl::Status& status) {
  std::cerr << "rekey: " << status.message() << std::endl;
  return 1;
}

}  // namespace

int RunServer(const ServerFlags& flags) {
  absl::StatusOr<ServerConfig> config = ResolveConfig(flags);
  if (!config.ok()) return Fail(config.status());
  SetUpLogging(config->log_level);

  absl::StatusOr<std::unique_ptr<Core>> opened = OpenCore(*config, /*create=*/flags.dev);
  if (!opened.ok()) return Fail(opened.status());
  Core& core = **opened;

  secrets::SecretsService kv(*core.barrier, core.clock, core.random, "secret");
  auth::TokenStore tokens(*core.barrier, core.clock, core.random);
  auth::PolicyStore policies(*core.barrier);
  auth::Authorizer authz(tokens, policies);
  if (absl::StatusOr<size_t> tidied = tokens.Tidy(); !tidied.ok()) {
    return Fail(tidied.status());
  } else if (*tidied > 0) {
    spdlog::info("removed {} expired or revoked tokens", *tidied);
  }

  std::string shown_token;
  if (flags.dev) {
    if (!flags.dev_root_token.empty()) {
      if (absl::Status s = tokens.EnsureRootToken(SecretBytes(flags.dev_root_token)); !s.ok()) {
        return Fail(s);
      }
      shown_token = flags.dev_root_token;
    } else {
      absl::StatusOr<SecretBytes> token = tokens.CreateRootToken("root");
      if (!token.ok()) return Fail(token.status());
      shown_token = std::string(token->Reveal());
    }
  } else if (!flags.dev_root_token.empty()) {
    return Fail(absl::InvalidArgumentError("--dev-root-token needs --dev"));
  }

  api::aws::AccessKeyStore aws_keys(*core.barrier, core.clock, core.random);
  std::string shown_aws_id, shown_aws_secret;
  if (flags.dev) {
    if (!flags.dev_aws_key.empty()) {
      const size_t colon = flags.dev_aws_key.find(':');
      if (colon == std::string::npos) {
        return Fail(absl::InvalidArgumentError("--dev-aws-key must be ID:SECRET"));
      }
      shown_aws_id = flags.dev_aws_key.substr(0, colon);
      shown_aws_secret = flags.dev_aws_key.substr(colon + 1);
      if (absl::Status s = aws_keys.Ensure(shown_aws_id, SecretBytes(shown_aws_secret), {"root"});
          !s.ok()) {
        return Fail(s);
      }
    } else {
      absl::StatusOr<api::aws::AccessKey> key = aws_keys.Create({"root"});
      if (!key.ok()) return Fail(key.status());
      shown_aws_id = key->id;
      shown_aws_secret = std::string(key->secret.Reveal());
    }
  } else if (!flags.dev_aws_key.empty()) {
    return Fail(absl::InvalidArgumentError("--dev-aws-key needs --dev"));
  }

  // The internal CA (pki/ in the barrier), before the engine: the pki rotator issues from it.
  pki::CaService ca(*core.barrier, core.clock, core.random);
  rotation::RotatorRegistry registry;
  if (absl::Status s = RegisterRotators(registry, ca); !s.ok()) return Fail(s);
  if (absl::Status s = RegisterAcmeRotator(registry, kv); !s.ok()) return Fail(s);
  // JWT signing keysets (jwt/ in the barrier), before the engine: the jwt rotator rotates them.
  jwt::JwtService jwt_service(*core.barrier, core.clock, core.random);
  if (absl::Status s = RegisterJwtRotator(registry, jwt_service); !s.ok()) return Fail(s);
  // Transit keys (transit/ in the barrier), before the engine: the transit rotator rotates them.
  // A version that reaches the usage threshold is rotated by the next TransitSchedules pass.
  transit::TransitOptions transit_options;
  transit_options.on_rotation_needed = [](std::string_view key, uint32_t version,
                                          uint64_t encryptions) {
    spdlog::warn("transit key {} version {} reached {} encryptions: it will be rotated", key,
                 version, encryptions);
  };
  transit::TransitService transit_service(*core.barrier, core.clock, core.random,
                                          std::move(transit_options));
  if (absl::Status s = rotators::transit::RegisterTransitRotator(registry, transit_service);
      !s.ok()) {
    return Fail(s);
  }
  rotation::NetHttpTransport outbound;
  absl::StatusOr<rotation::EngineOptions> engine_options = EngineOptionsFor(*config);
  if (!engine_options.ok()) return Fail(engine_options.status());
  rotation::RotationEngine engine(*core.barrier, kv, registry, core.clock, core.random, outbound,
                                  *engine_options);

  // Audit devices before anything is served: with one enabled and unusable, nothing may be
  // served unrecorded.
  audit::AuditBroker audit_broker(*core.barrier, core.clock, core.random, NodeName());
  if (absl::Status s = audit_broker.Load(); !s.ok()) return Fail(s);
  // Webhooks named by each secret's rotation config (`notify`), delivered off the engine's threads.
  rotation::Notifier notifier(
      [&engine](std::string_view path) -> absl::StatusOr<std::vector<rotation::NotifyTarget>> {
        ASSIGN_OR_RETURN(rotation::RotationConfig config, engine.GetConfig(path));
        return config.notify;
      },
      [&kv](std::string_view path) -> absl::StatusOr<SecretBytes> {
        return rotation::ReadHmacKey(kv, path);
      },
      outbound, core.clock);
  engine.events().AddListener([&notifier](const rotation::Event& e) { notifier.Enqueue(e); });
  engine.events().AddListener([&audit_broker](const rotation::Event& e) {
    audit::AuditEntry entry(audit::EntryType::kEvent);
    entry.time = e.time;
    entry.operation = e.type;
    entry.path = e.path;
    entry.error = e.message;
    (void)entry.SetString("rotation_id", e.run_id);
    if (!e.step.empty()) (void)entry.SetString("step", e.step);
    if (e.attempt > 0) (void)entry.SetInt("attempt", e.attempt);
    audit_broker.Record(entry, [type = e.type](absl::Status s) {
      if (!s.ok()) {
        spdlog::error("audit: rotation event {} was not recorded: {}", type, ToStd(s.message()));
      }
    });
  });

  // Started once every listener is attached, so that events of runs it resumes are audited
  // and notified too.
  if (absl::Status s = engine.Start(); !s.ok()) return Fail(s);
  // Transit keys' auto_rotate_period and usage threshold, run through the engine.
  TransitSchedules transit_schedules(transit_service, engine, kv);
  transit_schedules.Start();
  // On any early return from here the engine's threads must stop before the notifier and the
  // audit broker its listeners use are destroyed (they were declared after it).
  absl::Cleanup stop_engine = [&engine] { engine.Stop(); };

  api::VaultHandler vault(kv, authz, core.clock,
                          api::VaultHandlerOptions{.cluster_id = core.cluster_id});
  api::RotationHandler rotation(engine, authz, core.clock);
  api::SysAuditHandler sys_audit(audit_broker, authz);
  http::PrefixRouter handler(vault);
  handler.Add("/v1/rotation/", rotation);
  handler.Add("/v1/sys/audit", sys_audit);
  api::TransitHandler transit_api(transit_service, authz);
  handler.Add("/v1/transit/", transit_api);
  api::PkiHandler pki_api(ca, authz);
  handler.Add("/v1/pki/", pki_api);
  api::JwtHandler jwt_api(jwt_service, authz);
  handler.Add("/v1/jwt/", jwt_api);
  handler.Add(std::string(api::JwtHandler::kWellKnownPrefix), jwt_api);  // public JWK Sets
  api::aws::AwsHandler aws(
      kv, &engine, aws_keys, policies, core.clock, core.random,
      api::aws::AwsHandlerOptions{.account_id = api::aws::AccountIdForCluster(core.cluster_id)});
  api::aws::AccessKeyHandler aws_key_admin(aws_keys, authz);
  handler.Add("/v1/sys/aws-keys", aws_key_admin);
  // The storage keyring: rotation, the background rewrap (resumed if a restart interrupted it)
  // and automatic rotation at the usage threshold.
  storage::StorageKeyManager storage_keys(
      *core.raw, *core.keyring, core.root_key, core.random, core.clock,
      storage::StorageKeyOptions{.rotation_threshold = config->storage_key_rotation_threshold,
                                 .log = [](std::string_view m) { spdlog::info("{}", m); }});
  if (absl::Status s = storage_keys.Load(); !s.ok()) return Fail(s);
  if (storage_keys.Progress().active) {
    spdlog::info("resuming the storage rewrap to key {} (pass {}, {} records examined)",
                 storage_keys.Progress().target_key, storage_keys.Progress().pass,
                 storage_keys.Progress().done);
  }
  storage_keys.Start();
  api::StorageKeyHandler storage_key_api(storage_keys, *core.keyring, authz);
  handler.Add("/v1/sys/rotate", storage_key_api);
  handler.Add("/v1/sys/key-status", storage_key_api);
  api::aws::AwsSplitter surfaces(aws, handler);
  api::AuditRecorder recorder(audit_broker, tokens);
  KeyringSaver keyring_saver(*core.raw, *core.keyring, core.root_key, core.random,
                             absl::Seconds(10));
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Create(config->http, surfaces, &recorder);
  if (!server.ok()) return Fail(server.status());
  (*server)->Start();

  const std::vector<std::string> bound = (*server)->BoundAddresses();
  const std::string scheme = config->http.tls_cert_file.empty() ? "http" : "https";
  const std::string url = rekey::StrCat(scheme, "://", bound.front());
  for (const std::string& address : bound) {
    spdlog::info("listening on {}://{}", scheme, address);
  }
  spdlog::info("data dir {}, storage sqlite, cluster {}", config->data_dir, core.cluster_id);
  if (!config->addr_file.empty()) {
    if (absl::Status s = WriteAddrFile(config->addr_file, bound.front()); !s.ok()) {
      (*server)->Shutdown(absl::ZeroDuration());
      return Fail(s);
    }
  }
  if (flags.dev) {
    PrintDevBanner(url, config->data_dir, shown_token, shown_aws_id, shown_aws_secret);
  }
  SecureWipe(shown_token);
  SecureWipe(shown_aws_secret);

  http::WaitForShutdownSignal();
  spdlog::info("shutting down: finishing in-flight requests");
  engine.events().ReleaseWaiters();  // answer long polls before the server stops waiting
  (*server)->Shutdown(absl::Seconds(10));
  if (absl::Status s = transit_service.FlushUsage(); !s.ok()) {
    spdlog::warn("transit usage counters were not flushed (they over-count): {}",
                 ToStd(s.message()));
  }
  transit_schedules.Stop();
  engine.Stop();
  notifier.Stop();
  audit_broker.CloseAll();
  storage_keys.Stop();
  keyring_saver.Stop();
  const storage::SqliteStore::GroupCommitStats stats = core.raw->Stats();
  spdlog::info("stopped; storage committed {} batches in {} transactions", stats.batches,
               stats.transactions);
  return 0;
}

int RunOperatorInit(const std::string& data_dir_flag, const std::string& config_file) {
  ServerFlags flags;
  flags.config_file = config_file;
  flags.data_dir = data_dir_flag;
  absl::StatusOr<ServerConfig> config = ResolveConfig(flags);
  if (!config.ok()) return Fail(config.status());
  std::error_code ec;
  if (fs::exists(fs::path(config->data_dir) / kDbFile, ec)) {
    return Fail(absl::AlreadyExistsError(
        rekey::StrCat("data dir ", config->data_dir, " already holds a rekey store")));
  }
  absl::StatusOr<std::unique_ptr<Core>> opened = OpenCore(*config, /*create=*/true);
  if (!opened.ok()) return Fail(opened.status());
  Core& core = **opened;
  auth::TokenStore tokens(*core.barrier, core.clock, core.random);
  absl::StatusOr<SecretBytes> token = tokens.CreateRootToken("root");
  if (!token.ok()) return Fail(token.status());
  std::cout << "Initialised a rekey store in " << config->data_dir << "\n"
            << "Root key file: " << RootKeyPath(*config) << " (keep it safe; without it the data "
            << "cannot be read)\n\n"
            << "Root token: " << token->Reveal() << "\n\n"
            << "The root token is shown only now. Start the server with:\n"
            << "  rekey server --data-dir " << config->data_dir << "\n";
  return 0;
}

}  // namespace rekey::app
