#include "app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/testing/status_matchers.h"

namespace rekey::app {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

// A file of its own per test and process: ctest runs these tests in parallel processes.
std::string WriteFile(const std::string& text) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = ::testing::TempDir() + "rekey-config-test-" + std::to_string(::getpid()) +
                     "-" + (test != nullptr ? test->name() : "none") + ".yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, ReadsEverySection) {
  std::string path = WriteFile(R"(
listen: ["127.0.0.1:9000", "[::1]:9000"]
tls: {cert_file: /c.pem, key_file: /k.pem}
data_dir: /var/lib/rekey
log_level: debug
limits: {max_body_bytes: 2048, read_timeout: 5s, write_timeout: 7s, io_threads: 3}
)");
  ASSERT_OK_AND_ASSIGN(ServerConfig c, LoadConfigFile(path));
  EXPECT_THAT(c.http.listen, ::testing::ElementsAre("127.0.0.1:9000", "[::1]:9000"));
  EXPECT_EQ(c.http.tls_cert_file, "/c.pem");
  EXPECT_EQ(c.data_dir, "/var/lib/rekey");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.http.max_body_bytes, 2048u);
  EXPECT_EQ(c.http.read_timeout, absl::Seconds(5));
  EXPECT_EQ(c.http.write_timeout, absl::Seconds(7));
  EXPECT_EQ(c.http.io_threads, 3);
}

TEST(ConfigTest, UnknownKeysAreNamed) {
  EXPECT_THAT(LoadConfigFile(WriteFile("lisen: x\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"lisen\"")));
  EXPECT_THAT(LoadConfigFile(WriteFile("limits: {read_timout: 5s}\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limits.read_timout")));
}

TEST(ConfigTest, BadValuesAreNamed) {
  EXPECT_THAT(LoadConfigFile(WriteFile("log_level: loud\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("log_level")));
  EXPECT_THAT(LoadConfigFile(WriteFile("limits: {read_timeout: soon}\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read_timeout")));
  EXPECT_THAT(LoadConfigFile(WriteFile("storage: postgres\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("storage")));
  EXPECT_THAT(LoadConfigFile(WriteFile("listen: [\n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConfigTest, CertificateExpiryWarnings) {
  ASSERT_OK_AND_ASSIGN(ServerConfig d, LoadConfigFile(WriteFile("log_level: info\n")));
  EXPECT_THAT(d.rotation.certificate_expiry_warnings,
              ::testing::ElementsAre(absl::Hours(720), absl::Hours(168), absl::Hours(24)));
  ASSERT_OK_AND_ASSIGN(
      ServerConfig c,
      LoadConfigFile(WriteFile("rotation: {certificate_expiry_warnings: [14d, 12h]}\n")));
  EXPECT_THAT(c.rotation.certificate_expiry_warnings,
              ::testing::ElementsAre(absl::Hours(336), absl::Hours(12)));
  EXPECT_THAT(LoadConfigFile(WriteFile("rotation: {certificate_expiry_warnings: [soon]}\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rotation.certificate_expiry_warnings")));
  EXPECT_THAT(LoadConfigFile(WriteFile("rotation: {certificate_expiry_warnings: 7d}\n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadConfigFile("/nonexistent/rekey.yaml"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace rekey::app
