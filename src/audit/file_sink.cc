#include "audit/file_sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::audit {
namespace {

constexpr uint64_t kMaxLineBytes = 16 << 20;

absl::Status ErrnoError(int err, std::string_view what, std::string_view path) {
  std::string msg = StrCat(what, " ", path, ": ", strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// fsyncs the directory holding `path`, so a rename or a creation in it survives a crash.
absl::Status SyncDir(const std::string& path) {
  std::string dir = DirName(path);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open directory", dir);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, "fsync directory", dir);
  return absl::OkStatus();
}

// The rotation numbers n of the existing "<base>.<n>" files next to `path`, sorted.
absl::StatusOr<std::vector<uint64_t>> RotatedIndexes(const std::string& path) {
  std::string dir = DirName(path);
  std::string prefix = BaseName(path) + ".";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoError(errno, "open directory", dir);
  std::vector<uint64_t> out;
  while (struct dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    std::string_view digits = name.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    uint64_t n;
    if (absl::SimpleAtoi(ToAbsl(digits), &n) && n > 0) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status PreadFully(int fd, char* buf, size_t len, uint64_t offset, const std::string& path) {
  while (len > 0) {
    ssize_t n = pread(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", path);
    }
    if (n == 0) return absl::DataLossError(StrCat("read ", path, ": file shrank while reading"));
    buf += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// The first line and the last complete line of the first `size` bytes of `fd`, which end in
// "\n". Lines are returned without "\n".
absl::Status ReadEnds(int fd, uint64_t size, const std::string& path, SinkTail* tail) {
  if (size == 0) return absl::OkStatus();
  // Last line: read backwards in growing windows until a "\n" before the final one shows up.
  uint64_t window = std::min<uint64_t>(size, 64 << 10);
  while (true) {
    std::string buf(window, '\0');
    RETURN_IF_ERROR(PreadFully(fd, buf.data(), buf.size(), size - window, path));
    size_t nl = buf.size() >= 2 ? buf.rfind('\n', buf.size() - 2) : std::string::npos;
    if (nl != std::string::npos || window == size) {
      size_t start = nl == std::string::npos ? 0 : nl + 1;
      tail->last_line = buf.substr(start, buf.size() - 1 - start);
      break;
    }
    if (window >= kMaxLineBytes) return absl::DataLossError(StrCat(path, ": last line too long"));
    window = std::min<uint64_t>(size, window * 4);
  }
  // First line.
  uint64_t read = 0;
  std::string first;
  while (true) {
    uint64_t chunk = std::min<uint64_t>(size - read, 64 << 10);
    std::string buf(chunk, '\0');
    RETURN_IF_ERROR(PreadFully(fd, buf.data(), buf.size(), read, path));
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) {
      first.append(buf, 0, nl);
      break;
    }
    first += buf;
    read += chunk;
    if (first.size() > kMaxLineBytes) return absl::DataLossError(StrCat(path, ": line too long"));
  }
  tail->first_line = std::move(first);
  return absl::OkStatus();
}

}  // namespace

// Runs fdatasync on its own thread when asked, so that the interval policy's periodic sync never
// blocks the thread writing a group (an I/O thread under a request). At most one sync runs; asks
// during it are merged into one more. A failure is kept for the sink to report.
class FileAuditSink::BackgroundSyncer {
 public:
  BackgroundSyncer() : thread_([this] { Loop(); }) {}
  ~BackgroundSyncer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Request(int fd, std::string path) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd_ = fd;
      path_ = std::move(path);
      requested_ = true;
    }
    cv_.notify_all();
  }

  // Waits for a sync in progress, then forgets the descriptor (the caller closes it).
  void Detach() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !running_; });
    fd_ = -1;
    requested_ = false;
  }

  // The failure of a background sync since the last call, if any.
  absl::Status TakeError() {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status error = std::move(error_);
    error_ = absl::OkStatus();
    return error;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || requested_; });
      if (stop_) return;
      requested_ = false;
      const int fd = fd_;
      if (fd < 0) continue;
      running_ = true;
      lock.unlock();
      const int rc = fdatasync(fd);
      const int err = errno;
      lock.lock();
      running_ = false;
      if (rc != 0) error_ = ErrnoError(err, "fdatasync", path_);
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;             // guarded by mu_
  std::string path_;        // guarded by mu_
  bool requested_ = false;  // guarded by mu_
  bool running_ = false;    // guarded by mu_
  bool stop_ = false;       // guarded by mu_
  absl::Status error_;      // guarded by mu_
  std::thread thread_;      // last: started once the fields above exist
};

FileAuditSink::FileAuditSink(std::string path, FileAuditSinkOptions options, const Clock& clock,
                             int fd, uint64_t size, uint64_t next_index)
    : path_(std::move(path)),
      options_(options),
      clock_(clock),
      fd_(fd),
      committed_size_(size),
      written_size_(size),
      next_index_(next_index),
      last_sync_(clock.Now()) {}

FileAuditSink::~FileAuditSink() {
  DetachSyncer();
  if (fd_ >= 0) close(fd_);
}

void FileAuditSink::DetachSyncer() {
  if (syncer_ != nullptr) syncer_->Detach();
}

absl::StatusOr<std::unique_ptr<FileAuditSink>> FileAuditSink::Open(std::string path,
                                                                   FileAuditSinkOptions options,
                                                                   const Clock& clock) {
  if (path.empty()) return absl::InvalidArgumentError("audit file path is empty");
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(StrCat("audit file ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "chmod", path);
  }
  absl::StatusOr<std::vector<uint64_t>> indexes = RotatedIndexes(path);
  if (!indexes.ok()) {
    close(fd);
    return indexes.status();
  }
  uint64_t next_index = indexes->empty() ? 1 : indexes->back() + 1;
  return std::unique_ptr<FileAuditSink>(new FileAuditSink(
      std::move(path), options, clock, fd, static_cast<uint64_t>(st.st_size), next_index));
}

absl::Status FileAuditSink::EnsureOpen() {
  if (fd_ >= 0) return absl::OkStatus();
  int fd = open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "open", path_);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "stat", path_);
  }
  fd_ = fd;
  committed_size_ = written_size_ = static_cast<uint64_t>(st.st_size);
  dirty_ = false;
  return SyncDir(path_);
}

absl::Status FileAuditSink::Rollback(int saved_errno, std::string_view what) {
  absl::Status status = ErrnoError(saved_errno, what, path_);
  dirty_ = true;
  if (ftruncate(fd_, static_cast<off_t>(committed_size_)) == 0) {
    dirty_ = false;
    written_size_ = committed_size_;
  }
  return absl::UnavailableError(status.message());
}

absl::Status FileAuditSink::Write(std::string_view lines) {
  RETURN_IF_ERROR(EnsureOpen());
  if (dirty_) {
    if (ftruncate(fd_, static_cast<off_t>(committed_size_)) != 0) {
      return absl::UnavailableError(ErrnoError(errno, "truncate", path_).message());
    }
    dirty_ = false;
    written_size_ = committed_size_;
  }
  const char* p = lines.data();
  size_t left = lines.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Rollback(errno, "write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  written_size_ += lines.size();
  return absl::OkStatus();
}

absl::Status FileAuditSink::DoSync() {
  if (fdatasync(fd_) != 0) return Rollback(errno, "fdatasync");
  last_sync_ = clock_.Now();
  return absl::OkStatus();
}

absl::Status FileAuditSink::Flush() {
  if (fd_ < 0) return absl::OkStatus();
  if (options_.fsync == FsyncPolicy::kEveryBatch) {
    RETURN_IF_ERROR(DoSync());
  } else if (options_.fsync == FsyncPolicy::kInterval) {
    if (syncer_ == nullptr) syncer_ = std::make_unique<BackgroundSyncer>();
    // Fail-closed: a background sync that failed fails this batch (its entries are truncated
    // away by the caller's rollback), and the next sync is asked for at once.
    if (absl::Status failed = syncer_->TakeError(); !failed.ok()) {
      last_sync_ = absl::InfinitePast();
      return Rollback(EIO, "fdatasync (background)");
    }
    const absl::Time now = clock_.Now();
    if (now - last_sync_ >= options_.fsync_interval) {
      syncer_->Request(fd_, path_);
      last_sync_ = now;
    }
  }
  committed_size_ = written_size_;
  return absl::OkStatus();
}

absl::Status FileAuditSink::Sync() {
  if (fd_ < 0) return absl::OkStatus();
  RETURN_IF_ERROR(DoSync());
  committed_size_ = written_size_;
  return absl::OkStatus();
}

absl::StatusOr<SinkTail> FileAuditSink::Recover() {
  SinkTail tail;
  RETURN_IF_ERROR(EnsureOpen());
  uint64_t size = committed_size_;
  if (size > 0) {
    // Drop an incomplete last line (a crash mid-write): it was never acknowledged.
    char last;
    RETURN_IF_ERROR(PreadFully(fd_, &last, 1, size - 1, path_));
    if (last != '\n') {
      uint64_t keep = 0;
      uint64_t pos = size;
      std::string buf;
      while (pos > 0 && keep == 0) {
        uint64_t chunk = std::min<uint64_t>(pos, 64 << 10);
        buf.assign(chunk, '\0');
        RETURN_IF_ERROR(PreadFully(fd_, buf.data(), chunk, pos - chunk, path_));
        size_t nl = buf.rfind('\n');
        if (nl != std::string::npos) keep = pos - chunk + nl + 1;
        pos -= chunk;
      }
      if (ftruncate(fd_, static_cast<off_t>(keep)) != 0) {
        return ErrnoError(errno, "truncate", path_);
      }
      tail.discarded_bytes = size - keep;
      size = committed_size_ = written_size_ = keep;
    }
  }
  if (size > 0) {
    RETURN_IF_ERROR(ReadEnds(fd_, size, path_, &tail));
    return tail;
  }
  if (next_index_ > 1) {
    // The current file is empty: the chain's tail is in the newest rotated file.
    std::string prev = StrCat(path_, ".", next_index_ - 1);
    int fd = open(prev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open", prev);
    struct stat st;
    absl::Status status;
    if (fstat(fd, &st) != 0) {
      status = ErrnoError(errno, "stat", prev);
    } else {
      status = ReadEnds(fd, static_cast<uint64_t>(st.st_size), prev, &tail);
    }
    close(fd);
    RETURN_IF_ERROR(status);
  }
  return tail;
}

bool FileAuditSink::WantsRotation() const {
  return options_.max_file_bytes > 0 && fd_ >= 0 && committed_size_ >= options_.max_file_bytes;
}

absl::Status FileAuditSink::Rotate() {
  if (fd_ < 0) return absl::OkStatus();
  std::string target;
  for (int attempt = 0;; ++attempt) {
    target = StrCat(path_, ".", next_index_);
    if (renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) break;
    if (errno != EEXIST || attempt >= 100) return ErrnoError(errno, "rename", path_);
    ++next_index_;
  }
  ++next_index_;
  DetachSyncer();
  close(fd_);
  fd_ = -1;
  committed_size_ = written_size_ = 0;
  dirty_ = false;
  // The new file is created now if possible, otherwise by the next Write.
  return EnsureOpen();
}

std::string FileAuditSink::Describe() const { return StrCat("file ", path_); }

absl::StatusOr<std::vector<std::string>> AuditFileChain(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> indexes, RotatedIndexes(path));
  std::vector<std::string> out;
  for (uint64_t n : indexes) out.push_back(StrCat(path, ".", n));
  struct stat st;
  if (stat(path.c_str(), &st) == 0) out.push_back(path);
  if (out.empty()) return absl::NotFoundError(StrCat("no audit file ", path));
  return out;
}

absl::Status StdoutAuditSink::Write(std::string_view lines) {
  std::string buf;
  if (broken_line_) {
    buf = StrCat("\n", lines);
    lines = buf;
  }
  const char* p = lines.data();
  size_t left = lines.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (left != lines.size()) broken_line_ = true;
      return absl::UnavailableError(StrCat("write ", Describe(), ": ", strerror(err)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  broken_line_ = false;
  return absl::OkStatus();
}

std::string StdoutAuditSink::Describe() const {
  return fd_ == 1 ? std::string("stdout") : StrCat("fd ", fd_);
}

}  // namespace rekey::audit
