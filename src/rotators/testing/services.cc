#include "rotators/testing/services.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "core/strings.h"

#ifndef REKEY_SOURCE_DIR
#error "REKEY_SOURCE_DIR must be defined (the repository root)"
#endif

namespace rekey::rotators::testing {

bool ServicesDisabled() {
  const char* v = std::getenv("REKEY_NO_SERVICES");
  return v != nullptr && std::string_view(v) == "1";
}

namespace {

absl::StatusOr<ServiceEnv> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(rekey::StrCat("cannot read ", path));
  ServiceEnv env;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    line = line.substr(7);
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    env[line.substr(0, eq)] = value;
  }
  return env;
}

absl::StatusOr<ServiceEnv> Start(std::string_view service) {
  const std::string command = rekey::StrCat(REKEY_SOURCE_DIR, "/scripts/services start ", service);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError(rekey::StrCat("cannot run ", command));
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  if (rc != 0) {
    return absl::UnavailableError(rekey::StrCat(
        "`", command, "` failed (exit status ", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1,
        "); this test needs a real ", service,
        " server (install it with scripts/install-deps test, or set REKEY_NO_SERVICES=1 to "
        "skip)"));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  const size_t nl = out.rfind('\n');
  return ReadEnvFile(nl == std::string::npos ? out : out.substr(nl + 1));
}

}  // namespace

absl::StatusOr<ServiceEnv> StartService(std::string_view service) {
  static std::mutex mu;
  static std::map<std::string, absl::StatusOr<ServiceEnv>, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(service);
  if (it == cache.end()) it = cache.emplace(std::string(service), Start(service)).first;
  return it->second;
}

std::string Var(const ServiceEnv& env, std::string_view key) {
  auto it = env.find(std::string(key));
  return it == env.end() ? "" : it->second;
}

}  // namespace rekey::rotators::testing
