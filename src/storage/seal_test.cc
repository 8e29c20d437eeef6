#include "storage/seal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"
#include "storage/testing/temp_dir.h"

namespace rekey::storage {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;

class SealTest : public ::testing::Test {
 protected:
  MemoryStore raw_;
  FakeClock clock_;
  FakeRandom random_;
};

TEST_F(SealTest, UnsealWithTheSameRootKeyGivesTheSameKeyring) {
  SecretBytes root = GenerateRootKey(random_);
  ASSERT_OK_AND_ASSIGN(auto keyring, InitializeKeyring(raw_, root, random_, clock_));
  ASSERT_OK_AND_ASSIGN(std::string ct, keyring->Encrypt("hello", "aad"));
  ASSERT_OK_AND_ASSIGN(auto again, UnsealKeyring(raw_, root, random_, clock_));
  ASSERT_OK_AND_ASSIGN(SecretBytes pt, again->Decrypt(ct, "aad"));
  EXPECT_EQ(pt.Reveal(), "hello");
}

TEST_F(SealTest, WrongRootKeyIsPermissionDenied) {
  ASSERT_OK(InitializeKeyring(raw_, GenerateRootKey(random_), random_, clock_).status());
  EXPECT_THAT(UnsealKeyring(raw_, GenerateRootKey(random_), random_, clock_),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(SealTest, UninitialisedStoreIsFailedPrecondition) {
  EXPECT_THAT(UnsealKeyring(raw_, GenerateRootKey(random_), random_, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SealTest, InitialiseTwiceIsAlreadyExists) {
  SecretBytes root = GenerateRootKey(random_);
  ASSERT_OK(InitializeKeyring(raw_, root, random_, clock_).status());
  EXPECT_THAT(InitializeKeyring(raw_, root, random_, clock_),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(SealTest, KeyringIsNotStoredInClear) {
  SecretBytes root = GenerateRootKey(random_);
  ASSERT_OK_AND_ASSIGN(auto keyring, InitializeKeyring(raw_, root, random_, clock_));
  ASSERT_OK_AND_ASSIGN(auto record, raw_.Get(kKeyringKey));
  SecretBytes serialized = keyring->Serialize();
  EXPECT_EQ(record->value.Reveal().find(serialized.Reveal()), std::string_view::npos);
}

TEST(RootKeyFileTest, RoundTripsWithMode0600AndNeverOverwrites) {
  testing::ScopedTempDir dir;
  FakeRandom random;
  std::string path = dir.File("root.key");
  SecretBytes key = GenerateRootKey(random);
  ASSERT_OK(WriteRootKeyFile(path, key));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(SecretBytes back, ReadRootKeyFile(path));
  EXPECT_TRUE(back == key);
  EXPECT_THAT(WriteRootKeyFile(path, key), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(RootKeyFileTest, MissingAndMalformedFilesAreClearErrors) {
  testing::ScopedTempDir dir;
  EXPECT_THAT(ReadRootKeyFile(dir.File("none")), StatusIs(absl::StatusCode::kNotFound));
  std::string path = dir.File("bad.key");
  std::ofstream(path) << "not a key";
  EXPECT_THAT(ReadRootKeyFile(path), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rekey::storage
