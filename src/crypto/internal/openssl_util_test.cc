// Tests for the OpenSSL error-queue conversion.
#include "crypto/internal/openssl_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/testing/status_matchers.h"

namespace rekey::crypto::internal {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(OpenSslErrorTest, TurnsQueuedErrorIntoInternalStatusNamingTheOperation) {
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "NO-SUCH-CIPHER", nullptr));
  ASSERT_EQ(cipher, nullptr);
  ASSERT_NE(ERR_peek_error(), 0u);

  EXPECT_THAT(OpenSslError("EVP_CIPHER_fetch"),
              StatusIs(absl::StatusCode::kInternal, StartsWith("EVP_CIPHER_fetch failed: ")));
}

TEST(OpenSslErrorTest, ClearsTheErrorQueue) {
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "NO-SUCH-CIPHER", nullptr));
  ASSERT_NE(ERR_peek_error(), 0u);

  (void)OpenSslError("fetch");

  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OpenSslErrorTest, EmptyQueueStillGivesInternalError) {
  ClearOpenSslErrors();
  EXPECT_THAT(OpenSslError("op"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("no OpenSSL error reported")));
}

TEST(OpenSslPtrTest, OwnsAndFreesContext) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ASSERT_NE(ctx, nullptr);
  ctx.reset();  // Freed through EVP_CIPHER_CTX_free; ASan reports a leak otherwise.
  EXPECT_EQ(ctx, nullptr);
}

}  // namespace
}  // namespace rekey::crypto::internal
