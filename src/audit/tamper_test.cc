// The tamper test on a 1,000,000-entry log: 10,000 random single-byte changes, a deleted entry,
// an inserted entry, a swapped pair and a truncated tail must all be reported; the verification
// rate is printed.
//
// A full verification per change would take hours, so each change is verified exactly as a full
// run would see it, but starting from a snapshot of the verifier taken at a line boundary before
// the change: the changed region is fed, and if the verifier has not failed and is in the same
// state as the unchanged run at a later boundary, the rest of the input is identical and would
// verify identically (that would be a miss). Otherwise the rest of the log is fed as well.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "audit/testing/test_log.h"
#include "audit/verify.h"
#include "core/testing/status_matchers.h"

namespace rekey::audit {
namespace {

using ::testing::HasSubstr;

constexpr int kEntries = 1'000'000;
constexpr int kFlips = 10'000;
constexpr size_t kSnapshotEvery = 256;  // lines

class TamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new DeviceKeys(testing::TestKeys());
    auto state = std::make_shared<testing::MemorySinkState>();
    FakeClock clock;
    auto start = std::chrono::steady_clock::now();
    {
      auto log = testing::OpenMemoryLog(state, *keys_, clock, testing::TestOptions(1000));
      ASSERT_OK(log.status());
      for (int i = 0; i < kEntries; ++i) {
        clock.Advance(absl::Microseconds(7));
        AuditEntry e = testing::RequestEntry(i);
        e.status = 200;
        ASSERT_OK((*log)->Append(e));
      }
      ASSERT_OK((*log)->Close());
    }
    log_ = new std::string(state->TakeCommitted());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("generated %d entries (%zu bytes) in %.1f s\n", kEntries, log_->size(), secs);
    offsets_ = new std::vector<size_t>{0};
    for (size_t i = 0; i < log_->size(); ++i) {
      if ((*log_)[i] == '\n') offsets_->push_back(i + 1);
    }
  }
  static void TearDownTestSuite() {
    delete log_;
    delete offsets_;
    delete keys_;
  }

  static VerifyOptions Options() {
    VerifyOptions o;
    o.public_key = *keys_->PublicKey();
    return o;
  }
  static size_t LineCount() { return offsets_->size() - 1; }
  static std::string_view Line(size_t i) {
    return std::string_view(*log_).substr((*offsets_)[i], (*offsets_)[i + 1] - (*offsets_)[i]);
  }
  // Verifies the concatenation of `pieces` as one file.
  static VerifyReport VerifyPieces(const std::vector<std::string_view>& pieces) {
    ChainVerifier v(Options());
    v.StartFile("audit.log");
    for (std::string_view p : pieces) {
      if (!v.Feed(p)) break;
    }
    v.EndFile();
    return v.Finish();
  }

  static std::string* log_;
  static std::vector<size_t>* offsets_;
  static DeviceKeys* keys_;
};

std::string* TamperTest::log_ = nullptr;
std::vector<size_t>* TamperTest::offsets_ = nullptr;
DeviceKeys* TamperTest::keys_ = nullptr;

TEST_F(TamperTest, UntouchedLogVerifiesAndRateIsPrinted) {
  auto start = std::chrono::steady_clock::now();
  VerifyReport r = VerifyBuffer("audit.log", *log_, Options());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.first_bad->reason;
  EXPECT_EQ(r.entries, LineCount());
  EXPECT_EQ(r.checkpoints, 1001u);  // one per 1000 lines, and the close
  std::printf(
      "verified %llu entries in %.2f s: %.0f entries/s (this build; see the bench for "
      "Release)\n",
      static_cast<unsigned long long>(r.entries), secs, r.entries / secs);
}

TEST_F(TamperTest, RandomSingleByteChangesAreAllDetected) {
  // Snapshots: snap[k] has verified lines [0, k * kSnapshotEvery).
  std::vector<ChainVerifier> snap;
  {
    ChainVerifier v(Options());
    v.StartFile("audit.log");
    for (size_t line = 0; line < LineCount(); line += kSnapshotEvery) {
      snap.push_back(v);
      size_t end = std::min(line + kSnapshotEvery, LineCount());
      ASSERT_TRUE(v.Feed(
          std::string_view(*log_).substr((*offsets_)[line], (*offsets_)[end] - (*offsets_)[line])));
    }
    snap.push_back(v);  // after everything
  }
  std::mt19937_64 rng(20240601);
  int detected = 0, full_runs = 0;
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kFlips; ++n) {
    size_t pos = rng() % log_->size();
    char delta = static_cast<char>(1 + rng() % 255);
    size_t line = std::upper_bound(offsets_->begin(), offsets_->end(), pos) - offsets_->begin() - 1;
    size_t k = line / kSnapshotEvery;
    size_t k_end = std::min(k + 2, snap.size() - 1);
    size_t from = (*offsets_)[k * kSnapshotEvery];
    size_t to = (*offsets_)[std::min(k_end * kSnapshotEvery, LineCount())];
    std::string region = log_->substr(from, to - from);
    region[pos - from] ^= delta;

    ChainVerifier v = snap[k];
    bool ok = v.Feed(region);
    if (ok && to < log_->size()) {
      ASSERT_FALSE(v.SameStateForTest(snap[k_end]))
          << "change at byte " << pos << " (line " << line + 1 << ") not detected";
      ++full_runs;
      ok = v.Feed(std::string_view(*log_).substr(to));
    }
    if (ok) v.EndFile();
    VerifyReport r = v.Finish();
    ASSERT_FALSE(r.ok()) << "change at byte " << pos << " (line " << line + 1 << ") not detected";
    EXPECT_TRUE(r.first_bad->line == line + 1 || r.first_bad->line == line + 2)
        << "change on line " << line + 1 << " reported on line " << r.first_bad->line << ": "
        << r.first_bad->reason;
    ++detected;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(detected, kFlips);
  std::printf("%d/%d single-byte changes detected (%d needed the rest of the log) in %.1f s\n",
              detected, kFlips, full_runs, secs);
}

TEST_F(TamperTest, DeletedEntryIsDetected) {
  for (size_t i : {size_t{1}, size_t{500'000}, size_t{777'777}, LineCount() - 2}) {
    VerifyReport r = VerifyPieces({std::string_view(*log_).substr(0, (*offsets_)[i]),
                                   std::string_view(*log_).substr((*offsets_)[i + 1])});
    ASSERT_FALSE(r.ok()) << "deleted line " << i + 1;
    EXPECT_EQ(r.first_bad->line, i + 1);
  }
}

TEST_F(TamperTest, InsertedEntryIsDetected) {
  for (auto [at, copy] :
       {std::pair<size_t, size_t>{400'000, 12}, {400'000, 399'999}, {LineCount() - 1, 5}}) {
    VerifyReport r = VerifyPieces({std::string_view(*log_).substr(0, (*offsets_)[at]), Line(copy),
                                   std::string_view(*log_).substr((*offsets_)[at])});
    ASSERT_FALSE(r.ok()) << "inserted at line " << at + 1;
    EXPECT_EQ(r.first_bad->line, at + 1);
  }
}

TEST_F(TamperTest, SwappedPairIsDetected) {
  for (size_t i : {size_t{3}, size_t{654'321}, LineCount() - 2}) {
    VerifyReport r = VerifyPieces({std::string_view(*log_).substr(0, (*offsets_)[i]), Line(i + 1),
                                   Line(i), std::string_view(*log_).substr((*offsets_)[i + 2])});
    ASSERT_FALSE(r.ok()) << "swapped lines " << i + 1 << " and " << i + 2;
    EXPECT_EQ(r.first_bad->line, i + 1);
  }
}

TEST_F(TamperTest, TruncatedTailIsDetected) {
  // Without the close checkpoint; with 1234 entries gone; cut right after a periodic checkpoint.
  size_t after_checkpoint = 0;
  for (size_t i = LineCount() - 2; i > 0; --i) {
    if (Line(i).find("\"type\":\"checkpoint\"") != std::string_view::npos) {
      after_checkpoint = i + 1;
      break;
    }
  }
  ASSERT_GT(after_checkpoint, 0u);
  for (size_t keep : {LineCount() - 1, LineCount() - 1234, after_checkpoint}) {
    VerifyReport r = VerifyPieces({std::string_view(*log_).substr(0, (*offsets_)[keep])});
    ASSERT_FALSE(r.ok()) << "kept " << keep << " lines";
    EXPECT_THAT(r.first_bad->reason,
                HasSubstr(keep == after_checkpoint ? "does not end with a close checkpoint"
                                                   : "truncated:"));
  }
  // Not strict: a warning instead, with the number of entries no checkpoint covers.
  VerifyOptions lenient = Options();
  lenient.strict = false;
  VerifyReport w = VerifyBuffer(
      "audit.log", std::string_view(*log_).substr(0, (*offsets_)[LineCount() - 1234]), lenient);
  EXPECT_TRUE(w.ok());
  ASSERT_FALSE(w.warnings.empty());
  EXPECT_THAT(w.warnings.back(),
              HasSubstr("truncated: " + std::to_string(w.unsigned_tail) + " entries"));
  EXPECT_GT(w.unsigned_tail, 0u);
}

}  // namespace
}  // namespace rekey::audit
