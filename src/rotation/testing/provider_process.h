// ProviderProcess: runs tests/integration/api_key_provider.py (the test API-key provider) on
// 127.0.0.1 with an ephemeral port, for rotator tests that need a real server.
#ifndef REKEY_ROTATION_TESTING_PROVIDER_PROCESS_H_
#define REKEY_ROTATION_TESTING_PROVIDER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rekey::rotation::testing {

class ProviderProcess {
 public:
  // Starts `python` `script` --port 0 --hmac-key `hmac_key` (plus `extra_args`) and waits for
  // its "PORT <n>" line (no polling: it blocks on the child's stdout). kFailedPrecondition when
  // python or the script is missing (tests skip then), kInternal when it exits early.
  static absl::StatusOr<std::unique_ptr<ProviderProcess>> Start(
      std::string_view python, std::string_view script, std::string_view hmac_key,
      const std::vector<std::string>& extra_args = {});

  ProviderProcess(const ProviderProcess&) = delete;
  ProviderProcess& operator=(const ProviderProcess&) = delete;
  // Sends SIGTERM, then SIGKILL if needed, and reaps the process.
  ~ProviderProcess();

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + path.
  std::string Url(std::string_view path) const;

 private:
  ProviderProcess(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

}  // namespace rekey::rotation::testing

#endif  // REKEY_ROTATION_TESTING_PROVIDER_PROCESS_H_
