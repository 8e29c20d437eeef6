// Tests for the verifier: a good log passes; every single-byte change of a small log, deleted,
// inserted and swapped entries, truncation, a forged key and bad feeding are all reported.
#include "audit/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "audit/internal/ed25519.h"
#include "audit/internal/line_format.h"
#include "audit/internal/records.h"
#include "audit/testing/test_log.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace rekey::audit {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line + "\n");
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

class VerifyTest : public ::testing::Test {
 protected:
  // A closed log of `n` request entries with a checkpoint every `every` lines.
  std::string MakeLog(int n, uint64_t every, const DeviceKeys& keys) {
    auto state = std::make_shared<testing::MemorySinkState>();
    auto log = testing::OpenMemoryLog(state, keys, clock_, testing::TestOptions(every));
    EXPECT_OK(log.status());
    for (int i = 0; i < n; ++i) {
      clock_.Advance(absl::Microseconds(1));
      EXPECT_OK((*log)->Append(testing::RequestEntry(i)));
    }
    EXPECT_OK((*log)->Close());
    return state->Committed();
  }
  VerifyOptions Strict() {
    VerifyOptions o;
    o.public_key = *keys_.PublicKey();
    return o;
  }
  VerifyReport Check(const std::string& data, VerifyOptions options) {
    return VerifyBuffer("log", data, options);
  }

  FakeClock clock_;
  DeviceKeys keys_ = testing::TestKeys();
};

TEST_F(VerifyTest, GoodLogPasses) {
  std::string log = MakeLog(100, 10, keys_);
  VerifyReport r = Check(log, Strict());
  ASSERT_TRUE(r.ok()) << r.first_bad->reason;
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.unsigned_tail, 0u);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.entries, SplitLines(log).size());
  // Without an expected key the log verifies with its own, with a warning saying so.
  VerifyReport self = Check(log, VerifyOptions{});
  EXPECT_TRUE(self.ok());
  EXPECT_THAT(self.warnings, ::testing::Contains(HasSubstr("no expected public key")));
}

// Every byte of a small log (including its final close checkpoint), changed in three ways.
TEST_F(VerifyTest, EverySingleByteChangeIsDetected) {
  std::string log = MakeLog(12, 5, keys_);
  int checked = 0;
  for (size_t pos = 0; pos < log.size(); ++pos) {
    for (unsigned char x : {0x01, 0x20, 0x80}) {
      std::string bad = log;
      bad[pos] = static_cast<char>(bad[pos] ^ x);
      VerifyReport r = Check(bad, Strict());
      ASSERT_FALSE(r.ok()) << "undetected change at byte " << pos << " xor " << int(x);
      ++checked;
    }
    std::string bad = log;
    bad[pos] = '\n';
    if (bad != log) {
      ASSERT_FALSE(Check(bad, Strict()).ok()) << "newline at " << pos;
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST_F(VerifyTest, DeletedEntryIsDetected) {
  std::vector<std::string> lines = SplitLines(MakeLog(30, 10, keys_));
  for (size_t i : {size_t{1}, size_t{5}, size_t{11}, lines.size() - 2}) {
    std::vector<std::string> bad = lines;
    bad.erase(bad.begin() + i);
    VerifyReport r = Check(Join(bad), Strict());
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.first_bad->line, i + 1);
    EXPECT_THAT(r.first_bad->reason, HasSubstr("sequence"));
  }
  std::vector<std::string> first_gone(lines.begin() + 1, lines.end());
  EXPECT_FALSE(Check(Join(first_gone), Strict()).ok());
}

TEST_F(VerifyTest, InsertedEntryIsDetected) {
  std::vector<std::string> lines = SplitLines(MakeLog(30, 10, keys_));
  // A copy of an existing line, and a line with the right sequence and prev but new content.
  std::vector<std::string> dup = lines;
  dup.insert(dup.begin() + 7, lines[3]);
  VerifyReport r = Check(Join(dup), Strict());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.first_bad->line, 8u);

  std::vector<std::string> forged = lines;
  std::string fake = lines[7];
  fake.replace(fake.find("\"req-"), 6, "\"FAKE");
  forged.insert(forged.begin() + 7, fake);
  r = Check(Join(forged), Strict());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.first_bad->line, 9u);  // the line after the forged one does not chain to it
}

TEST_F(VerifyTest, SwappedPairIsDetected) {
  std::vector<std::string> lines = SplitLines(MakeLog(30, 10, keys_));
  for (size_t i : {size_t{1}, size_t{9}, lines.size() - 3, lines.size() - 2}) {
    std::vector<std::string> bad = lines;
    std::swap(bad[i], bad[i + 1]);
    VerifyReport r = Check(Join(bad), Strict());
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.first_bad->line, i + 1);
  }
}

TEST_F(VerifyTest, TruncatedTailIsDetected) {
  std::vector<std::string> lines = SplitLines(MakeLog(30, 10, keys_));
  // Lines: open, req x9, cp(10 lines), ... the close checkpoint is last.
  for (size_t keep : {lines.size() - 1, lines.size() - 5, size_t{11}, size_t{2}}) {
    std::vector<std::string> cut(lines.begin(), lines.begin() + keep);
    VerifyReport strict = Check(Join(cut), Strict());
    ASSERT_FALSE(strict.ok()) << keep;
    VerifyOptions lenient = Strict();
    lenient.strict = false;
    VerifyReport warn = Check(Join(cut), lenient);
    EXPECT_TRUE(warn.ok());
    EXPECT_FALSE(warn.closed);
    ASSERT_FALSE(warn.warnings.empty());
    if (warn.unsigned_tail > 0) {
      EXPECT_THAT(strict.first_bad->reason,
                  HasSubstr("truncated: " + std::to_string(warn.unsigned_tail) +
                            " entries after the last checkpoint"));
      EXPECT_EQ(warn.warnings.back(), strict.first_bad->reason);
    } else {
      EXPECT_THAT(strict.first_bad->reason, HasSubstr("does not end with a close checkpoint"));
    }
  }
  // Truncating at a line boundary inside the last line is an incomplete line.
  std::string log = Join(lines);
  VerifyReport partial = Check(log.substr(0, log.size() - 10), Strict());
  ASSERT_FALSE(partial.ok());
  EXPECT_THAT(partial.first_bad->reason, HasSubstr("incomplete"));
}

TEST_F(VerifyTest, ExpectedEndDetectsTruncationOfALiveLog) {
  auto state = std::make_shared<testing::MemorySinkState>();
  ASSERT_OK_AND_ASSIGN(auto log,
                       testing::OpenMemoryLog(state, keys_, clock_, testing::TestOptions(5)));
  for (int i = 0; i < 12; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  ChainHead head = log->Head();
  std::vector<std::string> lines = SplitLines(state->Committed());
  VerifyOptions options = Strict();
  options.strict = false;
  options.expected_last_sequence = head.sequence;
  options.expected_last_hash = head.hash;
  EXPECT_TRUE(Check(Join(lines), options).ok());
  lines.pop_back();
  VerifyReport r = Check(Join(lines), options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.first_bad->reason, HasSubstr("where " + std::to_string(head.sequence)));
  options.expected_last_sequence.reset();
  EXPECT_FALSE(Check(Join(lines), options).ok());  // the hash alone also catches it
}

TEST_F(VerifyTest, ForgedLogWithAnotherKeyIsDetectedOnlyWithTheExpectedKey) {
  DeviceKeys forger = testing::TestKeys(1234);
  forger.device_id = keys_.device_id;  // even claiming the same device id
  std::string forged = MakeLog(20, 5, forger);
  EXPECT_TRUE(Check(forged, VerifyOptions{}).ok());
  VerifyReport r = Check(forged, Strict());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.first_bad->reason, HasSubstr("not the expected one"));
  EXPECT_EQ(r.first_bad->line, 1u);
}

// A forger who knows the format but not the signing key re-chains an edited log: the hashes
// all match, but checkpoint signatures do not.
TEST_F(VerifyTest, RechainedLogFailsAtTheFirstCheckpoint) {
  std::vector<std::string> lines = SplitLines(MakeLog(20, 5, keys_));
  lines[2].replace(lines[2].find("\"req-"), 6, "\"EDIT");
  std::string prev;
  std::vector<std::string> rechained;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line = lines[i].substr(0, lines[i].size() - 1);
    if (i > 0) {
      size_t at = line.rfind("sha256:") + 7;
      line.replace(at, 64, internal::Hex(crypto::Sha256(prev)));
      if (line.find("\"type\":\"checkpoint\"") != std::string::npos) {
        size_t lh = line.find("\"last_hash\":\"sha256:") + 20;
        line.replace(lh, 64, internal::Hex(crypto::Sha256(prev)));
      }
    }
    prev = line;
    rechained.push_back(line + "\n");
  }
  VerifyReport r = Check(Join(rechained), Strict());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.first_bad->reason, HasSubstr("signature does not verify"));
  EXPECT_EQ(r.first_bad->line, 6u);  // the first checkpoint, after the open entry + 4
}

TEST_F(VerifyTest, FeedingInPiecesGivesTheSameReport) {
  std::string log = MakeLog(50, 10, keys_);
  VerifyReport whole = Check(log, Strict());
  std::mt19937 rng(3);
  for (int round = 0; round < 20; ++round) {
    ChainVerifier v(Strict());
    v.StartFile("log");
    size_t pos = 0;
    while (pos < log.size()) {
      size_t n = std::min<size_t>(log.size() - pos, 1 + rng() % 700);
      v.Feed(std::string_view(log).substr(pos, n));
      pos += n;
    }
    v.EndFile();
    EXPECT_EQ(v.Finish(), whole);
  }
}

TEST_F(VerifyTest, EmptyAndGarbageInputsAreBad) {
  EXPECT_FALSE(Check("", Strict()).ok());
  EXPECT_FALSE(Check("\n", Strict()).ok());
  EXPECT_FALSE(Check("hello\n", Strict()).ok());
  EXPECT_FALSE(Check("{\"sequence\":1}\n", Strict()).ok());
}

TEST_F(VerifyTest, MissingFileIsNotFound) {
  EXPECT_THAT(Verify({"/nonexistent/audit.log"}, Strict()),
              ::rekey::testing::StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace rekey::audit
