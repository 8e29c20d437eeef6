// JWS unit tests: the public-key examples of RFC 7515 appendix A.2 (RS256) and A.3 (ES256) and
// RFC 8037 appendix A.4 (EdDSA), then round trips and malformed input for each algorithm.
#include "jwt/jws.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "transit/base64.h"

namespace rekey::jwt {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

// The payload of RFC 7515's examples: {"iss":"joe",\r\n "exp":1300819380,\r\n
// "http://example.com/is_root":true}.
constexpr char kRfcPayload[] =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";

// RFC 7515 A.2: the RSA key's n and e, the protected header {"alg":"RS256"} and the signature.
constexpr char kA2N[] =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4Q"
    "lL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
    "bSf63kpaSHSXndS5z5rexMdbBY"
    "UsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
    "DWNm"
    "oudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
constexpr char kA2Header[] = "eyJhbGciOiJSUzI1NiJ9";
constexpr char kA2Signature[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6"
    "LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
// The A.2 private key (n, e, d, p, q of the RFC's JWK) as PKCS#8 DER, base64. The test below checks
// that the n and e read back from it are the RFC's.
constexpr char kA2Pkcs8[] =
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXOjS1lYmM2K5J9vinh8CR3/BYl"
    "zJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxLaYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8T"
    "A5a8bpvfbr3SvaNnjuygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5ROjtZMEQ"
    "xrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkftoaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY"
    "2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHgVFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZ"
    "D50LpXyWPEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/GO+pWJ1O0BkTGoVEn"
    "2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZH"
    "HzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB"
    "4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0KpLttoLhyt3SmqdEf/kgHePDd"
    "tzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDn"
    "Ed3BbVWG8qf6deqElMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6kqa0finG"
    "G0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAPrq3rbAOal78eUH5OcED6eNuCV8ixEu1e"
    "WcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNwkgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7"
    "/Ls5bkUp5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds29+DAncu3KXU4f2Fa"
    "+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2"
    "LF2mjMJDpTg7FmuyPcVw6EcGyoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj"
    "OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd+DlcxyVu"
    "uM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9Sb"
    "sxYawBgfp/gh6A5603k2+ZQwVK0JKSHuLFkuQ3U=";

// RFC 7515 A.3: the P-256 key's x and y, the header {"alg":"ES256"} and the signature.
constexpr char kA3X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char kA3Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr char kA3Header[] = "eyJhbGciOiJFUzI1NiJ9";
constexpr char kA3Signature[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// The A.3 private key (d of the RFC's JWK) as PKCS#8 DER, base64.
constexpr char kA3Pkcs8[] =
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIffH1136cspYG6+0iY7X1fCE9+E"
    "9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpG"
    "IyiFiOWt";

// RFC 8037 A.1/A.4: the Ed25519 seed d and public x, the signing input and the signature.
constexpr char kEdSeed[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr char kEdX[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr char kEdInput[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr char kEdSignature[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

SigningKey KeyFromStored(Algorithm alg, std::string_view base64_stored) {
  std::optional<SecretBytes> stored = transit::Base64DecodeSecret(base64_stored);
  EXPECT_TRUE(stored.has_value());
  absl::StatusOr<SigningKey> key = SigningKey::FromStoredForm(alg, stored.value_or(SecretBytes()));
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

std::string Decode(std::string_view b64url) { return Base64UrlDecode(b64url).value_or("?"); }

std::string Member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(json::string_view(name.data(), name.size()));
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<none>");
}

// Flips one bit of the byte at `at` of `s`.
std::string Flip(std::string s, size_t at) {
  s[at] = static_cast<char>(s[at] ^ 0x01);
  return s;
}

TEST(AlgorithmTest, NamesRoundTripAndAreCaseSensitive) {
  for (Algorithm alg : {Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEdDsa}) {
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(alg)), alg);
  }
  EXPECT_EQ(ParseAlgorithm("rs256"), std::nullopt);
  EXPECT_EQ(ParseAlgorithm("none"), std::nullopt);
  EXPECT_EQ(ParseAlgorithm("HS256"), std::nullopt);
}

TEST(Rfc7515Test, A2Rs256KeyHasTheRfcJwk) {
  SigningKey key = KeyFromStored(Algorithm::kRs256, kA2Pkcs8);
  EXPECT_EQ(Member(key.public_jwk(), "kty"), "RSA");
  EXPECT_EQ(Member(key.public_jwk(), "n"), kA2N);
  EXPECT_EQ(Member(key.public_jwk(), "e"), "AQAB");
}

TEST(Rfc7515Test, A2Rs256SignatureIsTheRfcsAndVerifies) {
  SigningKey key = KeyFromStored(Algorithm::kRs256, kA2Pkcs8);
  const std::string input = StrCat(kA2Header, ".", kRfcPayload);
  ASSERT_OK_AND_ASSIGN(std::string signature, key.Sign(input));
  EXPECT_EQ(Base64UrlEncode(signature), kA2Signature);  // PKCS#1 v1.5 is deterministic
  EXPECT_TRUE(key.Verify(input, Decode(kA2Signature)));
  EXPECT_FALSE(key.Verify(input, Flip(Decode(kA2Signature), 10)));
  EXPECT_FALSE(key.Verify(Flip(input, 30), Decode(kA2Signature)));
  EXPECT_FALSE(key.Verify(input, Decode(kA2Signature).substr(1)));
}

TEST(Rfc7515Test, A2CompactTokenParses) {
  ASSERT_OK_AND_ASSIGN(ParsedJws jws,
                       ParseCompact(StrCat(kA2Header, ".", kRfcPayload, ".", kA2Signature)));
  EXPECT_EQ(jws.alg, "RS256");
  EXPECT_EQ(jws.kid, "");
  EXPECT_EQ(jws.signing_input, StrCat(kA2Header, ".", kRfcPayload));
  EXPECT_EQ(jws.payload,
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  EXPECT_EQ(jws.signature, Decode(kA2Signature));
}

TEST(Rfc7515Test, A3Es256KeyHasTheRfcJwk) {
  SigningKey key = KeyFromStored(Algorithm::kEs256, kA3Pkcs8);
  EXPECT_EQ(Member(key.public_jwk(), "kty"), "EC");
  EXPECT_EQ(Member(key.public_jwk(), "crv"), "P-256");
  EXPECT_EQ(Member(key.public_jwk(), "x"), kA3X);
  EXPECT_EQ(Member(key.public_jwk(), "y"), kA3Y);
}

TEST(Rfc7515Test, A3Es256RfcSignatureVerifies) {
  SigningKey key = KeyFromStored(Algorithm::kEs256, kA3Pkcs8);
  const std::string input = StrCat(kA3Header, ".", kRfcPayload);
  EXPECT_TRUE(key.Verify(input, Decode(kA3Signature)));
  EXPECT_FALSE(key.Verify(input, Flip(Decode(kA3Signature), 40)));
  EXPECT_FALSE(key.Verify(Flip(input, 3), Decode(kA3Signature)));
  // R ‖ S only: DER, or a truncated value, is refused.
  EXPECT_FALSE(key.Verify(input, Decode(kA3Signature).substr(0, 63)));
  // ECDSA is randomized: a fresh signature differs from the RFC's and verifies too.
  ASSERT_OK_AND_ASSIGN(std::string mine, key.Sign(input));
  EXPECT_EQ(mine.size(), 64u);
  EXPECT_NE(mine, Decode(kA3Signature));
  EXPECT_TRUE(key.Verify(input, mine));
}

TEST(Rfc8037Test, A4EdDsaSignatureIsTheRfcsAndVerifies) {
  SigningKey key = KeyFromStored(Algorithm::kEdDsa, transit::Base64Encode(Decode(kEdSeed)));
  EXPECT_EQ(Member(key.public_jwk(), "kty"), "OKP");
  EXPECT_EQ(Member(key.public_jwk(), "crv"), "Ed25519");
  EXPECT_EQ(Member(key.public_jwk(), "x"), kEdX);
  ASSERT_OK_AND_ASSIGN(std::string signature, key.Sign(kEdInput));
  EXPECT_EQ(Base64UrlEncode(signature), kEdSignature);
  EXPECT_TRUE(key.Verify(kEdInput, Decode(kEdSignature)));
  EXPECT_FALSE(key.Verify(kEdInput, Flip(Decode(kEdSignature), 0)));
  EXPECT_FALSE(key.Verify(Flip(kEdInput, 5), Decode(kEdSignature)));
}

class EachAlgorithmTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(EachAlgorithmTest, SignCompactRoundTrips) {
  ASSERT_OK_AND_ASSIGN(SigningKey key, SigningKey::Generate(GetParam()));
  EXPECT_EQ(key.alg(), GetParam());
  ASSERT_OK_AND_ASSIGN(std::string token, SignCompact(key, "kid-1", R"({"sub":"alice"})"));
  ASSERT_OK_AND_ASSIGN(ParsedJws jws, ParseCompact(token));
  EXPECT_EQ(jws.alg, AlgorithmName(GetParam()));
  EXPECT_EQ(jws.kid, "kid-1");
  EXPECT_EQ(Member(jws.header, "typ"), "JWT");
  EXPECT_EQ(jws.payload, R"({"sub":"alice"})");
  EXPECT_TRUE(key.Verify(jws.signing_input, jws.signature));
  EXPECT_FALSE(key.Verify(StrCat(jws.signing_input, "x"), jws.signature));
}

TEST_P(EachAlgorithmTest, StoredFormRoundTripsToTheSameKey) {
  ASSERT_OK_AND_ASSIGN(SigningKey key, SigningKey::Generate(GetParam()));
  ASSERT_OK_AND_ASSIGN(SecretBytes stored, key.StoredForm());
  ASSERT_OK_AND_ASSIGN(SigningKey back, SigningKey::FromStoredForm(GetParam(), stored));
  EXPECT_EQ(json::serialize(back.public_jwk()), json::serialize(key.public_jwk()));
  ASSERT_OK_AND_ASSIGN(std::string sig, back.Sign("input"));
  EXPECT_TRUE(key.Verify("input", sig));
}

TEST_P(EachAlgorithmTest, AnotherKeysSignatureDoesNotVerify) {
  ASSERT_OK_AND_ASSIGN(SigningKey a, SigningKey::Generate(GetParam()));
  ASSERT_OK_AND_ASSIGN(SigningKey b, SigningKey::Generate(GetParam()));
  ASSERT_OK_AND_ASSIGN(std::string sig, a.Sign("input"));
  EXPECT_FALSE(b.Verify("input", sig));
  EXPECT_FALSE(a.Verify("input", ""));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, EachAlgorithmTest,
                         ::testing::Values(Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEdDsa),
                         [](const ::testing::TestParamInfo<Algorithm>& info) {
                           return std::string(AlgorithmName(info.param));
                         });

TEST(StoredFormTest, AKeyOfAnotherAlgorithmIsRefused) {
  ASSERT_OK_AND_ASSIGN(SigningKey ec, SigningKey::Generate(Algorithm::kEs256));
  ASSERT_OK_AND_ASSIGN(SecretBytes stored, ec.StoredForm());
  EXPECT_FALSE(SigningKey::FromStoredForm(Algorithm::kRs256, stored).ok());
  EXPECT_FALSE(SigningKey::FromStoredForm(Algorithm::kEdDsa, stored).ok());
}

TEST(ParseCompactTest, RejectsMalformedTokens) {
  const std::string h = Base64UrlEncode(R"({"alg":"ES256","kid":"k"})");
  const std::string p = Base64UrlEncode("{}");
  const std::string s = Base64UrlEncode("sig");
  struct Case {
    std::string token;
    std::string message;
  } cases[] = {
      {"", "three parts"},
      {StrCat(h, ".", p), "three parts"},
      {StrCat(h, ".", p, ".", s, ".", s), "three parts"},
      {StrCat(h, "=.", p, ".", s), "header is not BASE64URL"},
      {StrCat(h, ".", p, "+.", s), "payload is not BASE64URL"},
      {StrCat(h, ".", p, ".", s, "/"), "signature is not BASE64URL"},
      {StrCat(Base64UrlEncode("[1]"), ".", p, ".", s), "not a JSON object"},
      {StrCat(Base64UrlEncode("{\"alg\""), ".", p, ".", s), "not a JSON object"},
      {StrCat(Base64UrlEncode(R"({"kid":"k"})"), ".", p, ".", s), "no \"alg\""},
      {StrCat(Base64UrlEncode(R"({"alg":7})"), ".", p, ".", s), "no \"alg\""},
      {StrCat(Base64UrlEncode(R"({"alg":"ES256","kid":1})"), ".", p, ".", s), "\"kid\" is not"},
      {StrCat(Base64UrlEncode(R"({"alg":"ES256","crit":["exp"],"exp":1})"), ".", p, ".", s),
       "crit"},
      {std::string(kMaxTokenSize + 1, 'a'), "longer than"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseCompact(c.token),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.token.substr(0, 80);
  }
}

TEST(ParseCompactTest, ErrorsNeverQuoteTheToken) {
  const std::string token = StrCat(Base64UrlEncode(R"({"alg":"ES256","kid":"secret-looking-kid"})"),
                                   ".", Base64UrlEncode("{}"), ".!!");
  absl::StatusOr<ParsedJws> parsed = ParseCompact(token);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), ::testing::Not(HasSubstr("secret")));
}

}  // namespace
}  // namespace rekey::jwt
