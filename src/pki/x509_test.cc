// Tests of the X.509 building blocks: serials, the certificate builder, CSRs, CRLs, chains.
#include "pki/x509.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "pki/cert_builder.h"
#include "pki/crl.h"
#include "pki/csr.h"
#include "pki/keys.h"
#include "pki/testing/matchers.h"
#include "pki/verify.h"

namespace rekey::pki {
namespace {

using ::rekey::pki::testing::IsOkAndHolds;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

struct Pair {
  EvpPkeyPtr key;
  X509Ptr cert;
};

Pair MakeCa(std::string_view cn, const Pair* parent, Random& random, int path_len = -1) {
  Pair p;
  p.key = *GenerateKey(KeyType::kEcP256);
  CertificateSpec spec;
  spec.common_name = std::string(cn);
  spec.serial = RandomSerial(random);
  spec.not_before = kNow - absl::Hours(1);
  spec.not_after = kNow + absl::Hours(24 * 365);
  spec.is_ca = true;
  spec.max_path_length = path_len;
  absl::StatusOr<X509Ptr> cert =
      parent == nullptr ? SignCertificate(spec, p.key.get(), nullptr, p.key.get())
                        : SignCertificate(spec, p.key.get(), parent->cert.get(), parent->key.get());
  EXPECT_TRUE(cert.ok()) << cert.status();
  p.cert = std::move(*cert);
  return p;
}

Pair MakeLeaf(const Pair& issuer, Random& random, absl::Duration ttl = absl::Hours(24)) {
  Pair p;
  p.key = *GenerateKey(KeyType::kEcP256);
  CertificateSpec spec;
  spec.common_name = "web.example.com";
  spec.dns_names = {"web.example.com", "www.example.com"};
  spec.ip_addresses = {"10.1.2.3", "2001:db8::1"};
  spec.serial = RandomSerial(random);
  spec.not_before = kNow - absl::Minutes(1);
  spec.not_after = kNow + ttl;
  spec.key_usage = kDigitalSignature | kKeyAgreement;
  spec.ext_key_usage = {ExtKeyUsage::kServerAuth};
  absl::StatusOr<X509Ptr> cert =
      SignCertificate(spec, p.key.get(), issuer.cert.get(), issuer.key.get());
  EXPECT_TRUE(cert.ok()) << cert.status();
  p.cert = std::move(*cert);
  return p;
}

std::vector<X509Ptr> Certs(std::initializer_list<const X509*> certs) {
  std::vector<X509Ptr> out;
  for (const X509* c : certs) out.push_back(CopyCertificate(c));
  return out;
}

TEST(SerialTest, FormatsLikeVault) {
  EXPECT_EQ(FormatSerialBytes(std::string("\x00\x4f\x0a\xff", 4)), "4f:0a:ff");
  EXPECT_EQ(FormatSerialBytes(""), "00");
}

TEST(SerialTest, NormalizeAcceptsColonsDashesAndBareHex) {
  EXPECT_THAT(NormalizeSerial("4F:0a:FF"), IsOkAndHolds("4f:0a:ff"));
  EXPECT_THAT(NormalizeSerial("4f-0a-ff"), IsOkAndHolds("4f:0a:ff"));
  EXPECT_THAT(NormalizeSerial("4f0aff"), IsOkAndHolds("4f:0a:ff"));
  EXPECT_THAT(NormalizeSerial("f0aff"), IsOkAndHolds("0f:0a:ff"));
  EXPECT_THAT(NormalizeSerial("00:4f"), IsOkAndHolds("4f"));
  EXPECT_THAT(NormalizeSerial(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeSerial("4f::0a"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeSerial("zz"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeSerial("abc:0a"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SerialTest, RandomSerialsArePositiveSixteenBytesAndDistinct) {
  FakeRandom random(1);
  const std::string a = RandomSerial(random);
  const std::string b = RandomSerial(random);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(a[0]) & 0xc0, 0x40);
  EXPECT_NE(a, b);
  EXPECT_EQ(FormatSerialBytes(a).size(), 16u * 3 - 1);
}

TEST(CertBuilderTest, LeafCarriesWhatTheSpecSays) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair leaf = MakeLeaf(root, random);
  ASSERT_OK_AND_ASSIGN(CertificateInfo info, DescribeCertificate(leaf.cert.get()));
  EXPECT_EQ(info.common_name, "web.example.com");
  EXPECT_THAT(info.dns_names, ElementsAre("web.example.com", "www.example.com"));
  EXPECT_THAT(info.ip_addresses, ElementsAre("10.1.2.3", "2001:db8::1"));
  EXPECT_EQ(info.not_after, kNow + absl::Hours(24));
  EXPECT_FALSE(info.is_ca);
  EXPECT_FALSE(info.self_issued);
  EXPECT_EQ(info.key_type, KeyType::kEcP256);
  EXPECT_EQ(info.issuer, "CN=Root");
  EXPECT_TRUE(IssuedBy(leaf.cert.get(), root.cert.get()));
  EXPECT_TRUE(CertificateMatchesKey(leaf.cert.get(), leaf.key.get()));
  EXPECT_FALSE(CertificateMatchesKey(leaf.cert.get(), root.key.get()));
}

TEST(CertBuilderTest, CaHasBasicConstraintsAndPathLength) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random, 1);
  ASSERT_OK_AND_ASSIGN(CertificateInfo info, DescribeCertificate(root.cert.get()));
  EXPECT_TRUE(info.is_ca);
  EXPECT_EQ(info.max_path_length, 1);
  EXPECT_TRUE(info.self_issued);
}

TEST(CertBuilderTest, RefusesBadSpecs) {
  FakeRandom random;
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(KeyType::kEcP256));
  CertificateSpec spec;
  spec.serial = RandomSerial(random);
  spec.not_before = kNow;
  spec.not_after = kNow + absl::Hours(1);
  EXPECT_THAT(SignCertificate(spec, key.get(), nullptr, key.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("common_name")));
  spec.common_name = "x";
  spec.not_after = kNow;
  EXPECT_THAT(SignCertificate(spec, key.get(), nullptr, key.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not_after")));
  spec.not_after = kNow + absl::Hours(1);
  spec.ip_addresses = {"not-an-ip"};
  EXPECT_THAT(SignCertificate(spec, key.get(), nullptr, key.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-an-ip")));
}

TEST(CertBuilderTest, PemAndDerRoundTrip) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  ASSERT_OK_AND_ASSIGN(std::string pem, CertificateToPem(root.cert.get()));
  ASSERT_OK_AND_ASSIGN(std::string der, CertificateToDer(root.cert.get()));
  ASSERT_OK_AND_ASSIGN(X509Ptr from_pem, ParseCertificatePem(pem));
  ASSERT_OK_AND_ASSIGN(X509Ptr from_der, ParseCertificateDer(der));
  EXPECT_EQ(X509_cmp(from_pem.get(), from_der.get()), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<X509Ptr> two, ParseCertificatesPem(pem + "junk\n" + pem));
  EXPECT_EQ(two.size(), 2u);
  EXPECT_THAT(ParseCertificatesPem("nothing here"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCertificateDer("\x30\x03"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CsrTest, BuildThenParseGivesNamesAndKey) {
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(KeyType::kEd25519));
  ASSERT_OK_AND_ASSIGN(
      std::string pem,
      BuildCsrPem({"svc.example.com", {"a.example.com"}, {"192.0.2.7"}}, key.get()));
  ASSERT_OK_AND_ASSIGN(CsrInfo info, ParseCsrPem(pem));
  EXPECT_EQ(info.common_name, "svc.example.com");
  EXPECT_THAT(info.dns_names, ElementsAre("a.example.com"));
  EXPECT_THAT(info.ip_addresses, ElementsAre("192.0.2.7"));
  EXPECT_EQ(info.key_type, KeyType::kEd25519);
  EXPECT_TRUE(SamePublicKey(info.public_key.get(), key.get()));
}

TEST(CsrTest, TamperedCsrFailsItsSignature) {
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(KeyType::kEcP256));
  ASSERT_OK_AND_ASSIGN(std::string pem, BuildCsrPem({"svc.example.com", {}, {}}, key.get()));
  // Re-sign the same request body with another key but keep the first key as the subject: the
  // simplest tamper is to swap the public key after signing.
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(req, nullptr);
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr other, GenerateKey(KeyType::kEcP256));
  ASSERT_EQ(X509_REQ_set_pubkey(req, other.get()), 1);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(out, req);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  const std::string tampered(data, static_cast<size_t>(n));
  BIO_free(out);
  X509_REQ_free(req);
  EXPECT_THAT(ParseCsrPem(tampered),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("signature")));
  EXPECT_THAT(ParseCsrPem("not a csr"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CrlTest, ListsRevokedSerialsAndVerifiesWithTheIssuer) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair other = MakeCa("Other", nullptr, random);
  CrlSpec spec;
  spec.revoked = {{"4f:0a:01", kNow - absl::Hours(1)}, {"01:02", kNow}};
  spec.this_update = kNow;
  spec.next_update = kNow + absl::Hours(72);
  spec.crl_number = 7;
  ASSERT_OK_AND_ASSIGN(internal::X509CrlPtr crl, BuildCrl(spec, root.cert.get(), root.key.get()));
  ASSERT_OK_AND_ASSIGN(std::string pem, CrlToPem(crl.get()));
  ASSERT_OK_AND_ASSIGN(std::string der, CrlToDer(crl.get()));
  EXPECT_THAT(pem, HasSubstr("-----BEGIN X509 CRL-----"));
  ASSERT_OK_AND_ASSIGN(internal::X509CrlPtr parsed, ParseCrlDer(der));
  ASSERT_OK_AND_ASSIGN(CrlInfo info, DescribeCrl(parsed.get(), root.cert.get()));
  EXPECT_EQ(info.crl_number, 7u);
  EXPECT_EQ(info.this_update, kNow);
  EXPECT_EQ(info.next_update, kNow + absl::Hours(72));
  std::vector<std::string> serials;
  for (const RevokedEntry& e : info.revoked) serials.push_back(e.serial_number);
  EXPECT_THAT(serials, ::testing::UnorderedElementsAre("4f:0a:01", "01:02"));
  EXPECT_THAT(DescribeCrl(parsed.get(), other.cert.get()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CrlTest, RevokedLeafFailsVerificationWithTheCrl) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair leaf = MakeLeaf(root, random);
  Pair kept = MakeLeaf(root, random);
  CrlSpec spec;
  spec.revoked = {{FormatSerial(X509_get0_serialNumber(leaf.cert.get())), kNow}};
  spec.this_update = kNow;
  spec.next_update = kNow + absl::Hours(72);
  spec.crl_number = 1;
  ASSERT_OK_AND_ASSIGN(internal::X509CrlPtr crl, BuildCrl(spec, root.cert.get(), root.key.get()));
  VerifyOptions options;
  options.at = kNow + absl::Minutes(1);
  options.crls = {crl.get()};
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), {}, Certs({root.cert.get()}), options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("revoked")));
  EXPECT_OK(VerifyCertificate(kept.cert.get(), {}, Certs({root.cert.get()}), options));
}

TEST(VerifyTest, ChainsThroughAnIntermediate) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair mid = MakeCa("Mid", &root, random);
  Pair leaf = MakeLeaf(mid, random);
  VerifyOptions options;
  options.at = kNow;
  options.name = "www.example.com";
  EXPECT_OK(VerifyCertificate(leaf.cert.get(), Certs({mid.cert.get()}), Certs({root.cert.get()}),
                              options));
  options.name = "10.1.2.3";
  EXPECT_OK(VerifyCertificate(leaf.cert.get(), Certs({mid.cert.get()}), Certs({root.cert.get()}),
                              options));
  // Without the intermediate there is no path.
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), {}, Certs({root.cert.get()}), options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(VerifyTest, RefusesWrongNameExpiryAndForeignRoot) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair foreign = MakeCa("Foreign", nullptr, random);
  Pair leaf = MakeLeaf(root, random);
  VerifyOptions options;
  options.at = kNow;
  options.name = "evil.example.net";
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), {}, Certs({root.cert.get()}), options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mismatch")));
  options.name = "";
  options.at = kNow + absl::Hours(25);
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), {}, Certs({root.cert.get()}), options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired")));
  options.at = kNow;
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), {}, Certs({foreign.cert.get()}), options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(VerifyTest, PathLengthZeroForbidsASubCa) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random, 0);
  Pair mid = MakeCa("Mid", &root, random);
  Pair leaf = MakeLeaf(mid, random);
  VerifyOptions options;
  options.at = kNow;
  EXPECT_THAT(VerifyCertificate(leaf.cert.get(), Certs({mid.cert.get()}), Certs({root.cert.get()}),
                                options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("path length")));
}

TEST(VerifyTest, BuildChainFollowsIssuersToTheRoot) {
  FakeRandom random;
  Pair root = MakeCa("Root", nullptr, random);
  Pair mid = MakeCa("Mid", &root, random);
  Pair other = MakeCa("Other", nullptr, random);
  Pair leaf = MakeLeaf(mid, random);
  std::vector<X509Ptr> chain =
      BuildChain(leaf.cert.get(), Certs({other.cert.get(), root.cert.get(), mid.cert.get()}));
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(X509_cmp(chain[0].get(), mid.cert.get()), 0);
  EXPECT_EQ(X509_cmp(chain[1].get(), root.cert.get()), 0);
  EXPECT_TRUE(BuildChain(leaf.cert.get(), Certs({other.cert.get()})).empty());
}

TEST(IpTest, CanonicalForms) {
  EXPECT_THAT(CanonicalIp("10.0.0.1"), IsOkAndHolds("10.0.0.1"));
  EXPECT_THAT(CanonicalIp("2001:DB8:0:0::1"), IsOkAndHolds("2001:db8::1"));
  EXPECT_FALSE(IsIpAddress("10.0.0"));
  EXPECT_FALSE(IsIpAddress("example.com"));
}

}  // namespace
}  // namespace rekey::pki
