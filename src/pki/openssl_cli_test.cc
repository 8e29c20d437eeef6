// The Debian `openssl verify` CLI accepts every chain the CA issues (and rejects a revoked leaf
// given the CRL), so the certificates are not only consistent with our own verify helper.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/ca_service.h"
#include "pki/testing/pki_fixture.h"
#include "storage/testing/temp_dir.h"

namespace rekey::pki {
namespace {

using ::testing::HasSubstr;

constexpr char kOpenSsl[] = "/usr/bin/openssl";

struct CliResult {
  int exit_code = -1;
  std::string output;
};

// Runs `args` (paths and flags without shell metacharacters) with /usr/bin/openssl.
CliResult RunOpenSsl(const std::string& args) {
  CliResult result;
  const std::string command = rekey::StrCat(kOpenSsl, " ", args, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class OpenSslCliTest : public testing::PkiTest {
 protected:
  void SetUp() override {
    if (access(kOpenSsl, X_OK) != 0) GTEST_SKIP() << kOpenSsl << " is not installed";
  }
  std::string Write(const std::string& name, std::string_view text) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << text;
    return path;
  }
  // `openssl verify` of the issued leaf against `trusted`, at the fake clock's time.
  CliResult Verify(const IssuedCertificate& leaf, std::string_view trusted,
                   const std::string& extra = "") {
    const std::string ca = Write("ca.pem", trusted);
    const std::string chain = Write("chain.pem", absl::StrJoin(leaf.ca_chain, ""));
    const std::string cert = Write("leaf.pem", leaf.certificate);
    return RunOpenSsl(rekey::StrCat("verify -attime ", absl::ToUnixSeconds(clock_.Now()),
                                    " -purpose sslserver -CAfile ", ca, " -untrusted ", chain, " ",
                                    extra, " ", cert));
  }

  storage::testing::ScopedTempDir dir_;
};

class OpenSslCliKeyTypeTest : public OpenSslCliTest,
                              public ::testing::WithParamInterface<KeyType> {};

TEST_P(OpenSslCliKeyTypeTest, AcceptsALeafThroughAnIntermediate) {
  IssuerInfo root = MakeRoot("CLI Root", GetParam(), "root");
  IntermediateCsrRequest csr_req;
  csr_req.common_name = "CLI Issuing";
  csr_req.key_type = GetParam();
  ASSERT_OK_AND_ASSIGN(IntermediateCsr csr, ca_->GenerateIntermediateCsr(csr_req));
  SignIntermediateRequest sign;
  sign.csr = csr.csr;
  ASSERT_OK_AND_ASSIGN(IssuedCertificate mid, ca_->SignIntermediate(sign));
  ASSERT_OK(ca_->SetSignedIntermediate(mid.certificate, "mid").status());
  ASSERT_OK(ca_->SetDefaultIssuer("mid"));
  MakeRole("web",
           rekey::StrCat(R"({"allowed_domains": "example.com", "allow_subdomains": true,
      "key_type": ")",
                         VaultKeyType(GetParam()), R"(", "key_bits": )", KeyBits(GetParam()), "}"));
  IssueRequest req;
  req.common_name = "api.example.com";
  req.ip_sans = {"127.0.0.1"};
  ASSERT_OK_AND_ASSIGN(IssuedCertificate leaf, ca_->Issue("web", req));

  CliResult r = Verify(leaf, root.certificate);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(": OK"));
  // Negative control: the CLI does reject the same leaf against a root that did not sign it.
  IssuerInfo stranger = MakeRoot("Stranger", KeyType::kEcP256, "stranger");
  r = Verify(leaf, stranger.certificate);
  EXPECT_NE(r.exit_code, 0) << r.output;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, OpenSslCliKeyTypeTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kEd25519),
                         [](const auto& info) {
                           std::string name(KeyTypeName(info.param));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST_F(OpenSslCliTest, RejectsARevokedLeafGivenTheCrl) {
  IssuerInfo root = MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssueRequest req;
  req.common_name = "a.test";
  ASSERT_OK_AND_ASSIGN(IssuedCertificate revoked, ca_->Issue("web", req));
  ASSERT_OK_AND_ASSIGN(IssuedCertificate kept, ca_->Issue("web", req));
  ASSERT_OK(ca_->Revoke(revoked.serial_number).status());
  ASSERT_OK_AND_ASSIGN(std::string crl, ca_->CrlPem());
  const std::string crl_path = Write("crl.pem", crl);

  CliResult r = Verify(revoked, root.certificate, rekey::StrCat("-crl_check -CRLfile ", crl_path));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("revoked"));
  r = Verify(kept, root.certificate, rekey::StrCat("-crl_check -CRLfile ", crl_path));
  EXPECT_EQ(r.exit_code, 0) << r.output;

  // The CLI also parses the CRL and checks its signature with the issuer.
  const std::string ca_path = Write("root.pem", root.certificate);
  r = RunOpenSsl(rekey::StrCat("crl -noout -text -CAfile ", ca_path, " -in ", crl_path));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("verify OK"));
  std::string upper = revoked.serial_number;
  upper.erase(std::remove(upper.begin(), upper.end(), ':'), upper.end());
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_THAT(r.output, HasSubstr(upper));
}

TEST_F(OpenSslCliTest, AcceptsOldAndNewLeavesWithTheBundleDuringACaRotation) {
  MakeRoot("Old", KeyType::kEcP256, "old");
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssueRequest req;
  req.common_name = "svc.test";
  ASSERT_OK_AND_ASSIGN(IssuedCertificate old_leaf, ca_->Issue("web", req));
  MakeRoot("New", KeyType::kRsa2048, "new");
  ASSERT_OK(ca_->SetDefaultIssuer("new"));
  ASSERT_OK_AND_ASSIGN(IssuedCertificate new_leaf, ca_->Issue("web", req));
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_->CaChainPem());
  CliResult r = Verify(old_leaf, bundle);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Verify(new_leaf, bundle);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace rekey::pki
