// The transit operations on a key snapshot: ciphertext format, tampering, version rules, derived
// and convergent keys, HMACs, and signatures for every signing type.
#include "transit/key_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "transit/internal/codec.h"

namespace rekey::transit {
namespace {

// A StatusOr that is OK and whose value matches `m`.
MATCHER_P(IsOkAndHolds, m, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class KeyOpsTest : public ::testing::Test {
 protected:
  KeyPolicy Make(KeyType type, bool derived = false, bool convergent = false) {
    KeyCreateOptions o;
    o.type = type;
    o.derived = derived;
    o.convergent = convergent;
    absl::StatusOr<KeyPolicy> p = KeyPolicy::Create("k", o, random_, clock_);
    EXPECT_OK(p.status());
    return p.ok() ? *std::move(p) : KeyPolicy{};
  }
  std::string Enc(const KeyPolicy& p, std::string_view plaintext, std::string_view context = "",
                  uint32_t version = 0) {
    absl::StatusOr<uint32_t> v = ResolveEncryptionVersion(p, version);
    EXPECT_OK(v.status());
    EncryptParams params;
    params.context = context;
    absl::StatusOr<Ciphertext> c = Encrypt(p, *v, plaintext, params, random_);
    EXPECT_OK(c.status());
    return c.ok() ? c->text : "";
  }
  absl::StatusOr<SecretBytes> Dec(const KeyPolicy& p, std::string_view ciphertext,
                                  std::string_view context = "") {
    DecryptParams params;
    params.context = context;
    return Decrypt(p, ciphertext, params);
  }
  FakeRandom random_;
  FakeClock clock_;
};

TEST_F(KeyOpsTest, EveryEncryptingTypeRoundTrips) {
  for (KeyType t : {KeyType::kAes128Gcm96, KeyType::kAes256Gcm96, KeyType::kChaCha20Poly1305,
                    KeyType::kRsa2048}) {
    SCOPED_TRACE(KeyTypeName(t));
    KeyPolicy p = Make(t);
    for (std::string_view plain : {std::string_view(""), std::string_view("hello transit")}) {
      std::string c = Enc(p, plain);
      EXPECT_THAT(c, StartsWith("vault:v1:"));
      ASSERT_OK_AND_ASSIGN(SecretBytes back, Dec(p, c));
      EXPECT_EQ(back.Reveal(), plain);
    }
  }
}

TEST_F(KeyOpsTest, CiphertextIsNonceCiphertextTagInBase64) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  const std::string c = Enc(p, "0123456789");
  std::optional<std::string> raw = internal::Base64Decode(c.substr(std::strlen("vault:v1:")));
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 12u + 10u + 16u);
  // Decrypting by hand with the version key: nonce first, tag last, no associated data.
  ASSERT_OK_AND_ASSIGN(SecretBytes plain,
                       internal::AeadOpen(KeyType::kAes256Gcm96, p.Find(1)->key.Reveal(),
                                          raw->substr(0, 12), raw->substr(12), ""));
  EXPECT_EQ(plain.Reveal(), "0123456789");
  // Random nonces: the same plaintext never gives the same ciphertext.
  EXPECT_NE(Enc(p, "0123456789"), c);
}

TEST_F(KeyOpsTest, EveryTamperingAndTruncationGivesTheOneGenericError) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  ASSERT_OK(p.Rotate(random_, clock_));
  const std::string c = Enc(p, "attack at dawn", "", 1);
  const std::string body = c.substr(std::strlen("vault:v1:"));
  std::string raw = *internal::Base64Decode(body);
  auto expect_generic = [&](const std::string& bad) {
    EXPECT_THAT(Dec(p, bad),
                StatusIs(absl::StatusCode::kInvalidArgument, std::string(kInvalidCiphertext)))
        << bad;
  };
  for (size_t i = 0; i < raw.size(); ++i) {  // every byte, one bit each
    std::string t = raw;
    t[i] ^= 0x01;
    expect_generic("vault:v1:" + internal::Base64Encode(t));
  }
  for (size_t n = 0; n < raw.size(); ++n) {  // every truncation
    expect_generic("vault:v1:" + internal::Base64Encode(raw.substr(0, n)));
  }
  for (size_t n = 0; n < c.size(); ++n) expect_generic(c.substr(0, n));  // truncated text
  expect_generic("vault:v2:" + body);                                    // other version
  expect_generic("vault:v3:" + body);                                    // version never made
  expect_generic("vault:vx:" + body);
  expect_generic("vault:v1:" + body + "!");  // not base64
  expect_generic("other:v1:" + body);
  expect_generic(body);
}

TEST_F(KeyOpsTest, MinDecryptionVersionRefusesOlderCiphertextsWithVaultsError) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  const std::string old = Enc(p, "old");
  ASSERT_OK(p.Rotate(random_, clock_));
  const std::string fresh = Enc(p, "new");
  EXPECT_THAT(fresh, StartsWith("vault:v2:"));
  p.min_decryption_version = 2;
  EXPECT_THAT(Dec(p, old), StatusIs(absl::StatusCode::kInvalidArgument,
                                    "ciphertext or signature version is disallowed by policy "
                                    "(too old)"));
  EXPECT_OK(Dec(p, fresh));
}

TEST_F(KeyOpsTest, EncryptionVersionRules) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  ASSERT_OK(p.Rotate(random_, clock_));
  ASSERT_OK(p.Rotate(random_, clock_));
  EXPECT_THAT(ResolveEncryptionVersion(p, 0), IsOkAndHolds(3u));
  EXPECT_THAT(ResolveEncryptionVersion(p, 1), IsOkAndHolds(1u));
  EXPECT_THAT(ResolveEncryptionVersion(p, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "requested version for encryption is higher than the latest key version"));
  p.min_encryption_version = 2;
  EXPECT_THAT(ResolveEncryptionVersion(p, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("minimum encryption")));
  EXPECT_THAT(Enc(p, "x", "", 2), StartsWith("vault:v2:"));
}

TEST_F(KeyOpsTest, NoncesAreRefused) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  EncryptParams params;
  params.nonce = "123456789012";
  EXPECT_THAT(
      Encrypt(p, 1, "x", params, random_),
      StatusIs(absl::StatusCode::kInvalidArgument, "provided nonce not allowed for this key"));
}

TEST_F(KeyOpsTest, AssociatedDataIsAuthenticated) {
  KeyPolicy p = Make(KeyType::kChaCha20Poly1305);
  EncryptParams params;
  params.associated_data = "row-17";
  ASSERT_OK_AND_ASSIGN(Ciphertext c, Encrypt(p, 1, "v", params, random_));
  DecryptParams d;
  d.associated_data = "row-17";
  EXPECT_OK(Decrypt(p, c.text, d));
  d.associated_data = "row-18";
  EXPECT_THAT(Decrypt(p, c.text, d), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeyOpsTest, DerivedKeysNeedAContextAndUseHkdfLikeVault) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96, /*derived=*/true);
  EncryptParams none;
  EXPECT_THAT(Encrypt(p, 1, "x", none, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kMissingContext)));
  const std::string c = Enc(p, "per-tenant", "tenant-a");
  ASSERT_OK_AND_ASSIGN(SecretBytes back, Dec(p, c, "tenant-a"));
  EXPECT_EQ(back.Reveal(), "per-tenant");
  EXPECT_THAT(Dec(p, c, "tenant-b"),
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kInvalidCiphertext)));
  EXPECT_THAT(Dec(p, c, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kMissingContext)));
  // The key is HKDF-SHA256(version key, no salt, info = context), as Vault's hkdf_sha256 KDF.
  ASSERT_OK_AND_ASSIGN(SecretBytes derived, crypto::HkdfSha256(p.Find(1)->key, "", "tenant-a", 32));
  std::string raw = *internal::Base64Decode(c.substr(std::strlen("vault:v1:")));
  ASSERT_OK_AND_ASSIGN(SecretBytes plain,
                       internal::AeadOpen(KeyType::kAes256Gcm96, derived.Reveal(),
                                          raw.substr(0, 12), raw.substr(12), ""));
  EXPECT_EQ(plain.Reveal(), "per-tenant");
}

TEST_F(KeyOpsTest, ConvergentEncryptionIsDeterministicPerContext) {
  KeyPolicy p = Make(KeyType::kAes128Gcm96, true, true);
  const std::string a = Enc(p, "same", "ctx");
  EXPECT_EQ(Enc(p, "same", "ctx"), a);
  EXPECT_NE(Enc(p, "same", "other"), a);
  EXPECT_NE(Enc(p, "different", "ctx"), a);
  ASSERT_OK_AND_ASSIGN(SecretBytes back, Dec(p, a, "ctx"));
  EXPECT_EQ(back.Reveal(), "same");
  // Version 3 nonce: HMAC-SHA256(derived[16:48], plaintext)[:12].
  ASSERT_OK_AND_ASSIGN(SecretBytes material, crypto::HkdfSha256(p.Find(1)->key, "", "ctx", 48));
  ASSERT_OK_AND_ASSIGN(std::string mac, crypto::HmacSha256(material.Reveal().substr(16), "same"));
  std::string raw = *internal::Base64Decode(a.substr(std::strlen("vault:v1:")));
  EXPECT_EQ(raw.substr(0, 12), mac.substr(0, 12));
}

TEST_F(KeyOpsTest, SigningTypesCannotEncrypt) {
  KeyPolicy p = Make(KeyType::kEd25519);
  EXPECT_THAT(Encrypt(p, 1, "x", {}, random_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not supported")));
  EXPECT_THAT(Dec(p, "vault:v1:AAAA"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not supported")));
}

TEST_F(KeyOpsTest, HmacMatchesAnIndependentHmacAndVerifies) {
  KeyPolicy p = Make(KeyType::kAes256Gcm96);
  ASSERT_OK_AND_ASSIGN(std::string h, ComputeHmac(p, 0, HashAlgorithm::kSha2_256, "data"));
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       crypto::HmacSha256(p.Find(1)->hmac_key.Reveal(), "data"));
  EXPECT_EQ(h, "vault:v1:" + internal::Base64Encode(expected));
  EXPECT_THAT(VerifyHmac(p, HashAlgorithm::kSha2_256, "data", h), IsOkAndHolds(true));
  EXPECT_THAT(VerifyHmac(p, HashAlgorithm::kSha2_256, "datb", h), IsOkAndHolds(false));
  EXPECT_THAT(VerifyHmac(p, HashAlgorithm::kSha2_512, "data", h), IsOkAndHolds(false));
  EXPECT_THAT(VerifyHmac(p, HashAlgorithm::kSha2_256, "data", "nope"),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid HMAC to verify: no prefix"));
  ASSERT_OK_AND_ASSIGN(std::string h512, ComputeHmac(p, 1, HashAlgorithm::kSha3_512, "data"));
  EXPECT_EQ(internal::Base64Decode(h512.substr(9))->size(), 64u);
  ASSERT_OK(p.Rotate(random_, clock_));
  p.min_decryption_version = 2;
  EXPECT_THAT(VerifyHmac(p, HashAlgorithm::kSha2_256, "data", h),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too old")));
  p.min_encryption_version = 2;
  EXPECT_THAT(ComputeHmac(p, 1, HashAlgorithm::kSha2_256, "data"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too old")));
}

struct SignCase {
  KeyType type;
  Marshaling marshaling;
  RsaPadding padding;
  HashAlgorithm hash;
};

class SignVerifyTest : public KeyOpsTest, public ::testing::WithParamInterface<SignCase> {};

TEST_P(SignVerifyTest, SignsVerifiesAndRejectsTampering) {
  const SignCase& c = GetParam();
  KeyPolicy p = Make(c.type);
  SignParams params;
  params.marshaling = c.marshaling;
  params.rsa_padding = c.padding;
  params.hash = c.hash;
  ASSERT_OK_AND_ASSIGN(Signature sig, Sign(p, "message", params));
  EXPECT_THAT(sig.text, StartsWith("vault:v1:"));
  EXPECT_EQ(sig.version, 1u);
  EXPECT_THAT(Verify(p, "message", sig.text, params), IsOkAndHolds(true));
  EXPECT_THAT(Verify(p, "messagf", sig.text, params), IsOkAndHolds(false));
  // A flipped signature byte never verifies.
  const bool jws = c.marshaling == Marshaling::kJws;
  std::string body = sig.text.substr(9);
  std::string raw = jws ? *internal::Base64UrlDecode(body) : *internal::Base64Decode(body);
  raw[raw.size() / 2] ^= 0x10;
  const std::string tampered =
      "vault:v1:" + (jws ? internal::Base64UrlEncode(raw) : internal::Base64Encode(raw));
  EXPECT_THAT(Verify(p, "message", tampered, params), IsOkAndHolds(false));
  if (IsEcdsa(c.type) && jws) {
    EXPECT_EQ(raw.size(), 2u * (c.type == KeyType::kEcdsaP256 ? 32 : 48));
  }
  // Prehashed input signs the same digest.
  if (c.type != KeyType::kEd25519) {
    SignParams pre = params;
    pre.prehashed = true;
    ASSERT_OK_AND_ASSIGN(std::string digest, internal::Digest(c.hash, "message"));
    EXPECT_THAT(Verify(p, digest, sig.text, pre), IsOkAndHolds(true));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EverySigningType, SignVerifyTest,
    ::testing::Values(
        SignCase{KeyType::kEd25519, Marshaling::kAsn1, RsaPadding::kPss, HashAlgorithm::kSha2_256},
        SignCase{KeyType::kEcdsaP256, Marshaling::kAsn1, RsaPadding::kPss,
                 HashAlgorithm::kSha2_256},
        SignCase{KeyType::kEcdsaP256, Marshaling::kJws, RsaPadding::kPss, HashAlgorithm::kSha2_256},
        SignCase{KeyType::kEcdsaP384, Marshaling::kJws, RsaPadding::kPss, HashAlgorithm::kSha2_384},
        SignCase{KeyType::kRsa2048, Marshaling::kAsn1, RsaPadding::kPss, HashAlgorithm::kSha2_256},
        SignCase{KeyType::kRsa2048, Marshaling::kAsn1, RsaPadding::kPkcs1v15,
                 HashAlgorithm::kSha2_512},
        SignCase{KeyType::kRsa3072, Marshaling::kJws, RsaPadding::kPss, HashAlgorithm::kSha3_256},
        SignCase{KeyType::kRsa4096, Marshaling::kAsn1, RsaPadding::kPss, HashAlgorithm::kSha1}));

TEST_F(KeyOpsTest, SignatureVersionRules) {
  KeyPolicy p = Make(KeyType::kEd25519);
  ASSERT_OK_AND_ASSIGN(Signature v1, Sign(p, "m", {}));
  ASSERT_OK(p.Rotate(random_, clock_));
  ASSERT_OK_AND_ASSIGN(Signature v2, Sign(p, "m", {}));
  EXPECT_THAT(v2.text, StartsWith("vault:v2:"));
  EXPECT_THAT(Verify(p, "m", v1.text, {}), IsOkAndHolds(true));
  // A v1 signature checked against v2's key does not verify.
  std::string moved = "vault:v2:" + v1.text.substr(9);
  EXPECT_THAT(Verify(p, "m", moved, {}), IsOkAndHolds(false));
  p.min_decryption_version = 2;
  EXPECT_THAT(Verify(p, "m", v1.text, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kTooOld)));
  EXPECT_THAT(
      Verify(p, "m", "vault:v9:AAAA", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, "invalid signature: version is too new"));
  SignParams old;
  old.key_version = 1;
  p.min_encryption_version = 2;
  EXPECT_THAT(Sign(p, "m", old), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("less than the minimum encryption")));
  KeyPolicy aes = Make(KeyType::kAes256Gcm96);
  EXPECT_THAT(Sign(aes, "m", {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeyOpsTest, DerivedEd25519KeysSignPerContext) {
  KeyPolicy p = Make(KeyType::kEd25519, /*derived=*/true);
  SignParams a;
  a.context = "alice";
  SignParams b;
  b.context = "bob";
  ASSERT_OK_AND_ASSIGN(Signature sig, Sign(p, "m", a));
  EXPECT_FALSE(sig.public_key.empty());
  EXPECT_THAT(Verify(p, "m", sig.text, a), IsOkAndHolds(true));
  EXPECT_THAT(Verify(p, "m", sig.text, b), IsOkAndHolds(false));
  EXPECT_THAT(Sign(p, "m", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kMissingContext)));
  ASSERT_OK_AND_ASSIGN(std::string pub_a, DerivedEd25519PublicKey(p, 1, "alice"));
  ASSERT_OK_AND_ASSIGN(std::string pub_b, DerivedEd25519PublicKey(p, 1, "bob"));
  EXPECT_EQ(pub_a, sig.public_key);
  EXPECT_NE(pub_a, pub_b);
  EXPECT_NE(pub_a, p.Find(1)->public_key);
}

TEST_F(KeyOpsTest, MalformedSignaturesGiveVaultsErrors) {
  KeyPolicy p = Make(KeyType::kEcdsaP256);
  EXPECT_THAT(Verify(p, "m", "sig", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid signature: no prefix"));
  EXPECT_THAT(Verify(p, "m", "vault:v1", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("wrong number of fields")));
  EXPECT_THAT(Verify(p, "m", "vault:v1:@@@", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid base64 signature value"));
  EXPECT_THAT(Verify(p, "m", "vault:v1:AAAA", {}), IsOkAndHolds(false));
}

TEST_F(KeyOpsTest, PrefixVersion) {
  EXPECT_EQ(PrefixVersion("vault:v12:abc"), 12u);
  EXPECT_EQ(PrefixVersion("vault:v0:abc"), 1u);
  EXPECT_EQ(PrefixVersion("vault:vx:abc"), std::nullopt);
  EXPECT_EQ(PrefixVersion("abc"), std::nullopt);
}

}  // namespace
}  // namespace rekey::transit
