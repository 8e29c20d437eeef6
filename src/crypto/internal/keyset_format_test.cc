// Tests for the serialized keyset format and its validation.
#include "crypto/internal/keyset_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/testing/status_matchers.h"

namespace rekey::crypto::internal {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

KeyRecord Record(uint32_t id, KeyStatus status, bool primary) {
  KeyRecord r;
  r.info = {.id = id,
            .status = status,
            .primary = primary,
            .created = absl::FromUnixNanos(1700000000123456789),
            .encryptions = 7};
  if (status != KeyStatus::kDestroyed)
    r.material = SecretBytes(std::string(32, char('A' + id % 26)));
  return r;
}

std::vector<KeyRecord> ValidRecords() {
  std::vector<KeyRecord> records;
  records.push_back(Record(0x01020304, KeyStatus::kEnabled, true));
  records.push_back(Record(0xfffffffe, KeyStatus::kDisabled, false));
  records.push_back(Record(99, KeyStatus::kDestroyed, false));
  return records;
}

absl::Status DecodeStatus(const std::vector<KeyRecord>& records) {
  return DecodeKeyset(EncodeKeyset(records).Reveal()).status();
}

TEST(KeysetFormatTest, RoundTripsEveryField) {
  const std::vector<KeyRecord> in = ValidRecords();
  ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> out, DecodeKeyset(EncodeKeyset(in).Reveal()));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].info.id, in[i].info.id);
    EXPECT_EQ(out[i].info.status, in[i].info.status);
    EXPECT_EQ(out[i].info.primary, in[i].info.primary);
    EXPECT_EQ(out[i].info.created, in[i].info.created);
    EXPECT_EQ(out[i].info.encryptions, in[i].info.encryptions);
    EXPECT_TRUE(out[i].material == in[i].material);
  }
}

TEST(KeysetFormatTest, RejectsEmptyInput) {
  EXPECT_THAT(DecodeKeyset(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeysetFormatTest, RejectsEveryTruncation) {
  const SecretBytes encoded = EncodeKeyset(ValidRecords());
  for (size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_THAT(DecodeKeyset(encoded.Reveal().substr(0, n)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "prefix of " << n << " bytes";
  }
}

TEST(KeysetFormatTest, RejectsTrailingBytes) {
  std::string encoded(EncodeKeyset(ValidRecords()).Reveal());
  encoded.push_back('\0');
  EXPECT_THAT(DecodeKeyset(encoded),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailing")));
}

TEST(KeysetFormatTest, RejectsBadMagic) {
  std::string encoded(EncodeKeyset(ValidRecords()).Reveal());
  encoded[0] = 'X';
  EXPECT_THAT(DecodeKeyset(encoded),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("magic")));
}

TEST(KeysetFormatTest, RejectsUnknownFormatVersion) {
  std::string encoded(EncodeKeyset(ValidRecords()).Reveal());
  encoded[4] = 2;
  EXPECT_THAT(DecodeKeyset(encoded),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("format version 2")));
}

TEST(KeysetFormatTest, RejectsUnknownStatus) {
  std::string encoded(EncodeKeyset(ValidRecords()).Reveal());
  encoded[9 + 4] = 9;  // Status byte of the first key, after the 9-byte header and its id.
  EXPECT_THAT(DecodeKeyset(encoded),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown status 9")));
}

TEST(KeysetFormatTest, RejectsNoKeys) {
  EXPECT_THAT(DecodeStatus({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count")));
}

TEST(KeysetFormatTest, RejectsTwoPrimaries) {
  std::vector<KeyRecord> records = ValidRecords();
  records[1].info.status = KeyStatus::kEnabled;
  records[1].info.primary = true;
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 primary keys")));
}

TEST(KeysetFormatTest, RejectsNoPrimary) {
  std::vector<KeyRecord> records = ValidRecords();
  records[0].info.primary = false;
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 primary keys")));
}

TEST(KeysetFormatTest, RejectsDisabledPrimary) {
  std::vector<KeyRecord> records = ValidRecords();
  records[0].info.primary = false;
  records[1].info.primary = true;
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not enabled")));
}

TEST(KeysetFormatTest, RejectsDuplicateIds) {
  std::vector<KeyRecord> records = ValidRecords();
  records[1].info.id = records[0].info.id;
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate key id")));
}

TEST(KeysetFormatTest, RejectsZeroId) {
  std::vector<KeyRecord> records = ValidRecords();
  records[1].info.id = 0;
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id 0")));
}

TEST(KeysetFormatTest, RejectsShortKeyMaterial) {
  std::vector<KeyRecord> records = ValidRecords();
  records[1].material = SecretBytes(std::string(16, 'k'));
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("16 bytes of material")));
}

TEST(KeysetFormatTest, RejectsMaterialOnDestroyedKey) {
  std::vector<KeyRecord> records = ValidRecords();
  records[2].material = SecretBytes(std::string(32, 'k'));
  EXPECT_THAT(DecodeStatus(records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 0")));
}

TEST(KeysetFormatTest, ErrorsNeverContainKeyMaterial) {
  std::vector<KeyRecord> records = ValidRecords();
  records[1].material = SecretBytes("SECRETMATERIAL");
  absl::Status status = DecodeStatus(records);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("SECRETMATERIAL")));
}

}  // namespace
}  // namespace rekey::crypto::internal
