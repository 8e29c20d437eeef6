// Tests for FileAuditSink and StdoutAuditSink: permissions, rotation keeping the chain across
// files, restart and crash recovery, and real write failures (a file size limit, and a full
// tmpfs when the test may mount one) making Append fail until the fault is removed.
#include "audit/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "audit/audit_log.h"
#include "audit/testing/test_log.h"
#include "audit/verify.h"
#include "core/testing/status_matchers.h"
#include "storage/testing/temp_dir.h"

namespace rekey::audit {
namespace {

using ::rekey::storage::testing::ScopedTempDir;
using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FileSinkTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<AuditLog>> OpenLog(const std::string& path,
                                                    FileAuditSinkOptions sink_options = {},
                                                    uint64_t checkpoint_every = 1000) {
    ASSIGN_OR_RETURN(auto sink, FileAuditSink::Open(path, sink_options, clock_));
    return AuditLog::Open(testing::TestOptions(checkpoint_every), keys_, std::move(sink), clock_);
  }
  VerifyReport VerifyChain(const std::string& path, VerifyOptions options = {}) {
    options.public_key = *keys_.PublicKey();
    absl::StatusOr<std::vector<std::string>> files = AuditFileChain(path);
    EXPECT_OK(files.status());
    absl::StatusOr<VerifyReport> report = Verify(*files, options);
    EXPECT_OK(report.status());
    return *report;
  }

  ScopedTempDir dir_;
  FakeClock clock_;
  DeviceKeys keys_ = testing::TestKeys();
};

TEST_F(FileSinkTest, WritesAVerifiableFileWithMode0600) {
  std::string path = dir_.File("audit.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path));
    for (int i = 0; i < 20; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
    ASSERT_OK(log->Close());
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_EQ(report.entries, 22u);
}

TEST_F(FileSinkTest, TightensTheModeOfAnExistingFile) {
  std::string path = dir_.File("audit.log");
  int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  chmod(path.c_str(), 0644);
  ASSERT_OK_AND_ASSIGN(auto sink, FileAuditSink::Open(path, {}, clock_));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileSinkTest, RotationKeepsTheChainAcrossFiles) {
  std::string path = dir_.File("audit.log");
  FileAuditSinkOptions options;
  options.max_file_bytes = 4096;
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, options, /*checkpoint_every=*/25));
    for (int i = 0; i < 200; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
    ASSERT_OK(log->Close());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, AuditFileChain(path));
  ASSERT_GT(files.size(), 5u);
  EXPECT_EQ(files[0], path + ".1");
  EXPECT_EQ(files.back(), path);
  for (size_t i = 0; i < files.size(); ++i) {
    std::string text = ReadAll(files[i]);
    EXPECT_THAT(text.substr(0, text.find('\n')), HasSubstr("\"type\":\"open\"")) << files[i];
    if (i + 1 < files.size()) {
      EXPECT_THAT(text, HasSubstr("\"reason\":\"rotate\",\"signature\"")) << files[i];
    }
  }
  VerifyReport report = VerifyChain(path);
  ASSERT_TRUE(report.ok()) << report.first_bad->file << ":" << report.first_bad->line << " "
                           << report.first_bad->reason;
  EXPECT_EQ(report.files, files.size());

  // A middle file alone verifies only when a partial start is allowed, and is then not closed.
  VerifyOptions partial;
  partial.public_key = *keys_.PublicKey();
  partial.allow_partial_start = true;
  partial.strict = false;
  ASSERT_OK_AND_ASSIGN(VerifyReport middle, Verify({files[2]}, partial));
  EXPECT_TRUE(middle.ok());
  EXPECT_FALSE(middle.closed);
  partial.allow_partial_start = false;
  ASSERT_OK_AND_ASSIGN(middle, Verify({files[2]}, partial));
  EXPECT_FALSE(middle.ok());
  // A missing file in the middle, or files out of order, break the chain.
  std::vector<std::string> gap = files;
  gap.erase(gap.begin() + 2);
  ASSERT_OK_AND_ASSIGN(VerifyReport with_gap, Verify(gap, VerifyOptions{}));
  EXPECT_FALSE(with_gap.ok());
  EXPECT_EQ(with_gap.first_bad->file, files[3]);
  std::vector<std::string> swapped = files;
  std::swap(swapped[1], swapped[2]);
  ASSERT_OK_AND_ASSIGN(VerifyReport out_of_order, Verify(swapped, VerifyOptions{}));
  EXPECT_FALSE(out_of_order.ok());
}

TEST_F(FileSinkTest, RestartAppendsToTheSameFileAndChain) {
  std::string path = dir_.File("audit.log");
  for (int run = 0; run < 3; ++run) {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path));
    for (int i = 0; i < 5; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
    ASSERT_OK(log->Close());
  }
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_EQ(report.entries, 3u * 7);
}

TEST_F(FileSinkTest, RecoveryDropsAnIncompleteLastLine) {
  std::string path = dir_.File("audit.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path));
    ASSERT_OK(log->Append(testing::RequestEntry(1)));
    ASSERT_OK(log->Close());
  }
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "{\"sequence\":4,\"type\":\"req";  // a crash mid-write
  }
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path));
    ASSERT_OK(log->Append(testing::RequestEntry(2)));
    ASSERT_OK(log->Close());
  }
  std::string text = ReadAll(path);
  EXPECT_THAT(text, HasSubstr("\"truncated_bytes\":25"));
  EXPECT_THAT(text, Not(HasSubstr("\"type\":\"req\"")));
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
}

TEST_F(FileSinkTest, OpenFailsOnAFileThatDoesNotEndWithAnAuditLine) {
  std::string path = dir_.File("audit.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path));
    ASSERT_OK(log->Close());
  }
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "not an audit line\n";
  }
  EXPECT_THAT(OpenLog(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("move the file")));
}

TEST_F(FileSinkTest, RecoveryFindsTheTailInTheNewestRotatedFile) {
  std::string path = dir_.File("audit.log");
  FileAuditSinkOptions options;
  options.max_file_bytes = 1500;
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, options));
    for (int i = 0; i < 8; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
    ASSERT_OK(log->Close());
  }
  // Leave an empty current file, as after a crash between the rename and the first write.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, AuditFileChain(path));
  std::string newest = path + "." + std::to_string(files.size());
  ASSERT_EQ(rename(path.c_str(), newest.c_str()), 0);
  { std::ofstream touch(path); }
  {
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, options));
    ASSERT_OK(log->Append(testing::RequestEntry(9)));
    ASSERT_OK(log->Close());
  }
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
}

TEST_F(FileSinkTest, IntervalAndNeverPoliciesWrite) {
  for (FsyncPolicy policy : {FsyncPolicy::kInterval, FsyncPolicy::kNever}) {
    std::string path = dir_.File(policy == FsyncPolicy::kNever ? "never.log" : "interval.log");
    FileAuditSinkOptions options;
    options.fsync = policy;
    ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, options));
    for (int i = 0; i < 10; ++i) {
      clock_.Advance(absl::Milliseconds(300));
      ASSERT_OK(log->Append(testing::RequestEntry(i)));
    }
    ASSERT_OK(log->Close());
    EXPECT_TRUE(VerifyChain(path).ok());
  }
}

// Real write failures from a file size limit (RLIMIT_FSIZE: writes past it fail with EFBIG,
// possibly after a partial write), lifted afterwards.
TEST_F(FileSinkTest, WriteFailureFailsClosedAndRecoversWhenTheFaultIsRemoved) {
  std::string path = dir_.File("audit.log");
  ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, {}, /*checkpoint_every=*/7));
  for (int i = 0; i < 10; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);

  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = static_cast<rlim_t>(st.st_size) + 700;  // room for about two lines
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  int ok = 0;
  absl::Status failure;
  for (int i = 0; i < 20 && failure.ok(); ++i) {
    failure = log->Append(testing::RequestEntry(100 + i));
    if (failure.ok()) ++ok;
  }
  EXPECT_THAT(failure, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("File too large")));
  EXPECT_THAT(log->Append(testing::RequestEntry(200)), StatusIs(absl::StatusCode::kUnavailable));
  std::string text = ReadAll(path);
  EXPECT_EQ(text.back(), '\n');  // the partial write was truncated away
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);

  ASSERT_OK(log->Append(testing::RequestEntry(300)));
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
  EXPECT_EQ(report.entries, 1u + 10 + ok + 1 + (10 + ok + 2) / 7 + 1);
}

// A genuinely full filesystem: a 256 KiB tmpfs filled up, then freed. Needs CAP_SYS_ADMIN.
TEST_F(FileSinkTest, FullFilesystemFailsClosedAndRecovers) {
  std::string mnt = dir_.File("mnt");
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << strerror(errno)
                 << "); the file-size-limit test covers real write failures";
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};

  std::string path = mnt + "/audit.log";
  ASSERT_OK_AND_ASSIGN(auto log, OpenLog(path, {}, /*checkpoint_every=*/50));
  for (int i = 0; i < 10; ++i) ASSERT_OK(log->Append(testing::RequestEntry(i)));
  // Fill the filesystem.
  std::string filler = mnt + "/filler";
  {
    int fd = open(filler.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    std::string block(4096, 'x');
    while (write(fd, block.data(), block.size()) > 0) {
    }
    close(fd);
  }
  absl::Status failure;
  for (int i = 0; i < 100 && failure.ok(); ++i) failure = log->Append(testing::RequestEntry(i));
  EXPECT_THAT(failure, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("No space left")));
  EXPECT_FALSE(log->healthy());

  ASSERT_EQ(unlink(filler.c_str()), 0);  // the operator frees space
  ASSERT_OK(log->Append(testing::RequestEntry(1000)));
  EXPECT_TRUE(log->healthy());
  ASSERT_OK(log->Close());
  VerifyReport report = VerifyChain(path);
  EXPECT_TRUE(report.ok()) << report.first_bad->reason;
}

TEST(StdoutSinkTest, WritesLinesToTheDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  StdoutAuditSink sink(fds[1]);
  EXPECT_EQ(sink.Describe(), "fd " + std::to_string(fds[1]));
  ASSERT_OK(sink.Write("{\"a\":1}\n"));
  ASSERT_OK(sink.Flush());
  char buf[64];
  ssize_t n = read(fds[0], buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n), "{\"a\":1}\n");
  close(fds[0]);
  sighandler_t old = signal(SIGPIPE, SIG_IGN);
  EXPECT_THAT(sink.Write("x\n"), StatusIs(absl::StatusCode::kUnavailable));
  signal(SIGPIPE, old);
  close(fds[1]);
  EXPECT_EQ(StdoutAuditSink().Describe(), "stdout");
}

}  // namespace
}  // namespace rekey::audit
