#include "acme/jws.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "core/testing/status_matchers.h"

namespace rekey::acme {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;

json::object Obj(std::string_view text) {
  return json::parse(json::string_view(text.data(), text.size())).as_object();
}

// RFC 7515 appendix A.3: the ES256 example's key (x, y, d) and its compact JWS.
constexpr char kA3X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char kA3Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr char kA3SigningInput[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
    "fQ";
constexpr char kA3Signature[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// The A.3 private key (d = jpsQnnGQ...) as a traditional EC PEM, built from the RFC's values.
constexpr char kA3Pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEII6bEJ5xkJi/mASH3x9dd+nLKWBuvtImO19XwhPfhPSyoAoGCCqGSM49\n"
    "AwEHoUQDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEXH8UTNG72b\n"
    "focs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
    "-----END EC PRIVATE KEY-----\n";
// SHA-256 thumbprint of the A.3 public JWK, computed independently (Python hashlib).
constexpr char kA3Thumbprint[] = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

json::object A3Jwk() {
  json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = kA3X;
  jwk["y"] = kA3Y;
  return jwk;
}

TEST(Base64UrlTest, EncodesWithoutPaddingInTheUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
}

TEST(Base64UrlTest, DecodesWhatItEncodes) {
  const std::string bytes("\x00\x01\xfe\xff{}\"", 7);
  ASSERT_OK_AND_ASSIGN(std::string back, Base64UrlDecode(Base64UrlEncode(bytes)));
  EXPECT_EQ(back, bytes);
}

TEST(Base64UrlTest, RejectsPaddingAndForeignCharacters) {
  EXPECT_THAT(Base64UrlDecode("Zg=="), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("+/+/"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("Zm 9v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("Zm9vY"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(JwkThumbprintTest, MatchesTheRfc7638Example) {
  // RFC 7638 section 3.1, with its optional members (which must not count).
  const json::object jwk = Obj(R"({"kty":"RSA",
    "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
  ASSERT_OK_AND_ASSIGN(std::string thumbprint, JwkThumbprint(jwk));
  EXPECT_EQ(thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkThumbprintTest, EcUsesCrvKtyXYInOrder) {
  json::object jwk = A3Jwk();
  jwk["kid"] = "ignored";
  jwk["use"] = "sig";
  ASSERT_OK_AND_ASSIGN(std::string thumbprint, JwkThumbprint(jwk));
  EXPECT_EQ(thumbprint, kA3Thumbprint);
}

TEST(JwkThumbprintTest, RefusesUnknownKeyTypesAndMissingMembers) {
  EXPECT_THAT(JwkThumbprint(Obj(R"({"kty":"oct","k":"AAAA"})")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(JwkThumbprint(Obj(R"({"kty":"EC","crv":"P-256","x":"AAAA"})")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(JwkThumbprint(Obj(R"({"crv":"P-256"})")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AccountKeyTest, ReadsTheRfc7515A3KeyAndDerivesItsJwk) {
  ASSERT_OK_AND_ASSIGN(AccountKey key, AccountKey::FromPem(SecretBytes(kA3Pem)));
  EXPECT_EQ(key.jwk().at("kty").as_string(), "EC");
  EXPECT_EQ(key.jwk().at("crv").as_string(), "P-256");
  EXPECT_EQ(key.jwk().at("x").as_string(), kA3X);
  EXPECT_EQ(key.jwk().at("y").as_string(), kA3Y);
  EXPECT_EQ(key.jwk().size(), 4u);  // no private member
  EXPECT_EQ(key.thumbprint(), kA3Thumbprint);
}

TEST(AccountKeyTest, VerifiesTheRfc7515A3Signature) {
  ASSERT_OK_AND_ASSIGN(std::string sig, Base64UrlDecode(kA3Signature));
  EXPECT_OK(VerifyEs256(A3Jwk(), kA3SigningInput, sig));
  std::string tampered = kA3SigningInput;
  tampered.back() = 'g';
  EXPECT_THAT(VerifyEs256(A3Jwk(), tampered, sig), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(AccountKeyTest, SignsRawRAndSThatVerify) {
  ASSERT_OK_AND_ASSIGN(AccountKey key, AccountKey::Generate());
  ASSERT_OK_AND_ASSIGN(std::string sig, key.Sign("hello"));
  EXPECT_EQ(sig.size(), 64u);  // R || S, not DER
  EXPECT_OK(VerifyEs256(key.jwk(), "hello", sig));
  EXPECT_THAT(VerifyEs256(key.jwk(), "hellO", sig), StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(AccountKey other, AccountKey::Generate());
  EXPECT_THAT(VerifyEs256(other.jwk(), "hello", sig), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(AccountKeyTest, PemRoundTripKeepsTheKey) {
  ASSERT_OK_AND_ASSIGN(AccountKey key, AccountKey::Generate());
  ASSERT_OK_AND_ASSIGN(SecretBytes pem, key.ToPem());
  EXPECT_NE(pem.Reveal().find("BEGIN PRIVATE KEY"), std::string_view::npos);
  ASSERT_OK_AND_ASSIGN(AccountKey back, AccountKey::FromPem(pem));
  EXPECT_EQ(back.thumbprint(), key.thumbprint());
  ASSERT_OK_AND_ASSIGN(std::string sig, back.Sign("x"));
  EXPECT_OK(VerifyEs256(key.jwk(), "x", sig));
}

TEST(AccountKeyTest, RefusesKeysOtherThanP256AndGarbage) {
  ASSERT_OK_AND_ASSIGN(pki::EvpPkeyPtr p384, pki::GenerateKey(pki::KeyType::kEcP384));
  ASSERT_OK_AND_ASSIGN(SecretBytes pem, pki::PrivateKeyToPem(p384.get()));
  EXPECT_THAT(AccountKey::FromPem(pem), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<AccountKey> garbage = AccountKey::FromPem(SecretBytes("not-a-key-s3cr3t"));
  EXPECT_THAT(garbage, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(std::string(garbage.status().message()).find("s3cr3t"), std::string::npos);
}

TEST(VerifyEs256Test, RefusesAJwkOffTheCurve) {
  json::object jwk = A3Jwk();
  jwk["y"] = kA3X;  // (x, x) is not on P-256
  EXPECT_THAT(VerifyEs256(jwk, "x", std::string(64, '\1')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SignJwsTest, NewAccountStyleEmbedsTheJwk) {
  ASSERT_OK_AND_ASSIGN(AccountKey key, AccountKey::Generate());
  JwsHeader header{.nonce = "n0nce", .url = "https://ca.example/new-acct", .kid = ""};
  ASSERT_OK_AND_ASSIGN(std::string text, SignJws(key, header, R"({"termsOfServiceAgreed":true})"));
  const json::object jws = Obj(text);
  ASSERT_EQ(jws.size(), 3u);
  const std::string protected64(jws.at("protected").as_string());
  const std::string payload64(jws.at("payload").as_string());
  ASSERT_OK_AND_ASSIGN(std::string protected_json, Base64UrlDecode(protected64));
  const json::object h = Obj(protected_json);
  EXPECT_EQ(h.at("alg").as_string(), "ES256");
  EXPECT_EQ(h.at("nonce").as_string(), "n0nce");
  EXPECT_EQ(h.at("url").as_string(), "https://ca.example/new-acct");
  EXPECT_EQ(h.at("jwk").as_object(), key.jwk());
  EXPECT_FALSE(h.contains("kid"));
  ASSERT_OK_AND_ASSIGN(std::string payload, Base64UrlDecode(payload64));
  EXPECT_EQ(payload, R"({"termsOfServiceAgreed":true})");
  ASSERT_OK_AND_ASSIGN(std::string sig,
                       Base64UrlDecode(std::string(jws.at("signature").as_string())));
  EXPECT_OK(VerifyEs256(key.jwk(), protected64 + "." + payload64, sig));
}

TEST(SignJwsTest, AccountRequestsCarryTheKidAndPostAsGetAnEmptyPayload) {
  ASSERT_OK_AND_ASSIGN(AccountKey key, AccountKey::Generate());
  JwsHeader header{
      .nonce = "n", .url = "https://ca.example/order/1", .kid = "https://ca.example/acct/7"};
  ASSERT_OK_AND_ASSIGN(std::string text, SignJws(key, header, ""));
  const json::object jws = Obj(text);
  EXPECT_EQ(jws.at("payload").as_string(), "");
  ASSERT_OK_AND_ASSIGN(std::string protected_json,
                       Base64UrlDecode(std::string(jws.at("protected").as_string())));
  const json::object h = Obj(protected_json);
  EXPECT_EQ(h.at("kid").as_string(), "https://ca.example/acct/7");
  EXPECT_FALSE(h.contains("jwk"));
}

TEST(ChallengeValuesTest, KeyAuthorizationAndDns01Value) {
  const std::string ka =
      KeyAuthorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", kA3Thumbprint);
  EXPECT_EQ(
      ka,
      "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  // base64url(SHA-256(ka)), computed independently (Python hashlib).
  EXPECT_EQ(Dns01TxtValue(ka), "ZaJgFtIV4WA0t2MzN7kbSk0sfRd2GZjaxRqaSTAK6lI");
}

}  // namespace
}  // namespace rekey::acme
