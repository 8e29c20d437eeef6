// Tests for the rewrap job of `rekey transit rewrap`: line parsing, progress text, and the job
// against fake senders (ordering, failures, retries, stops). No server, no sleeps.
#include "cli/rewrap_job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"

namespace rekey::cli::internal {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = InputLine::Kind;

TEST(ParseLineTest, BlankAndComment) {
  EXPECT_EQ(ParseLine("").kind, Kind::kBlank);
  EXPECT_EQ(ParseLine(" \t \r").kind, Kind::kBlank);
  EXPECT_EQ(ParseLine("# vault:v1:abc").kind, Kind::kComment);
  EXPECT_EQ(ParseLine("   #x").kind, Kind::kComment);
}

TEST(ParseLineTest, Ciphertext) {
  InputLine in = ParseLine("  vault:v12:QUJD\r");
  ASSERT_EQ(in.kind, Kind::kCiphertext);
  EXPECT_EQ(in.ciphertext, "vault:v12:QUJD");
  EXPECT_EQ(in.version, 12u);
  EXPECT_EQ(in.context, "");
  EXPECT_EQ(in.suffix, "");
}

TEST(ParseLineTest, CiphertextWithContext) {
  InputLine in = ParseLine("vault:v1:QUJD\tY3R4 ");
  ASSERT_EQ(in.kind, Kind::kCiphertext);
  EXPECT_EQ(in.ciphertext, "vault:v1:QUJD");
  EXPECT_EQ(in.context, "Y3R4");
  EXPECT_EQ(in.suffix, "\tY3R4");
}

TEST(ParseLineTest, RejectsWhatIsNoCiphertext) {
  for (const char* line :
       {"hello", "vault:v:abc", "vault:v0:abc", "vault:v1:", "vault:v1", "vault:vx:abc",
        "vault:v99999999999:abc", "vault:v1:ab cd", "VAULT:v1:abc", "vault:v1:\xc3\xa9"}) {
    InputLine in = ParseLine(line);
    EXPECT_EQ(in.kind, Kind::kInvalid) << line;
    EXPECT_THAT(in.error, HasSubstr("not a transit ciphertext")) << line;
  }
}

TEST(ParseLineTest, RejectsBadContext) {
  EXPECT_THAT(ParseLine("vault:v1:abc\tnot base64!").error, HasSubstr("expected CIPHERTEXT"));
  EXPECT_THAT(ParseLine("vault:v1:abc\tY3R").error, HasSubstr("context is not base64"));
}

TEST(ParseLineTest, RejectsLongLines) {
  const std::string line = "vault:v1:" + std::string(kMaxLineBytes, 'A');
  InputLine in = ParseLine(line);
  EXPECT_EQ(in.kind, Kind::kInvalid);
  EXPECT_THAT(in.error, HasSubstr("longer than"));
  EXPECT_EQ(in.error.find("AAAA"), std::string::npos);
}

TEST(IsBase64Test, Padding) {
  EXPECT_TRUE(IsBase64("QUJD"));
  EXPECT_TRUE(IsBase64("QUI="));
  EXPECT_TRUE(IsBase64("QQ=="));
  EXPECT_TRUE(IsBase64("a+/9"));
  EXPECT_FALSE(IsBase64(""));
  EXPECT_FALSE(IsBase64("QUJ"));
  EXPECT_FALSE(IsBase64("Q==="));
  EXPECT_FALSE(IsBase64("QU-_"));
}

TEST(FormatTest, Clock) {
  EXPECT_EQ(FormatClock(absl::Seconds(7)), "0:07");
  EXPECT_EQ(FormatClock(absl::Seconds(754)), "12:34");
  EXPECT_EQ(FormatClock(absl::Seconds(3723)), "1:02:03");
}

TEST(FormatTest, ProgressWithTotal) {
  ProgressView p;
  p.done = 50;
  p.total = 100;
  p.elapsed = absl::Seconds(5);
  const std::string s = FormatProgress(p, 80);
  EXPECT_THAT(s, HasSubstr("50/100  50%  10/s  ETA 0:05"));
  EXPECT_EQ(s.front(), '[');
  EXPECT_LE(s.size(), 79u);
  EXPECT_THAT(s, HasSubstr("####...."));
  p.failed = 2;
  EXPECT_THAT(FormatProgress(p, 80), HasSubstr("2 failed"));
  // Narrow terminals drop the bar, and the line never wraps.
  EXPECT_EQ(FormatProgress(p, 30).front(), '5');
  EXPECT_LE(FormatProgress(p, 30).size(), 29u);
}

TEST(FormatTest, ProgressWithoutTotal) {
  ProgressView p;
  p.done = 12000;
  p.elapsed = absl::Seconds(4);
  EXPECT_EQ(FormatProgress(p, 80), "12000 ciphertexts  3.0k/s  0:04");
}

TEST(FormatTest, Summary) {
  JobResult r;
  r.ciphertexts = 2500;
  r.rewrapped = 2499;
  r.already_latest = 624;
  r.failed = 1;
  r.skipped = 2;
  r.new_versions[4] = 2499;
  EXPECT_EQ(FormatSummary(r, absl::Seconds(2)),
            "2500 ciphertexts: 2499 rewrapped to version 4 (624 were at it already), 1 failed "
            "(left unchanged); 2 blank or comment lines; 2.0s, 1.2k/s");
  EXPECT_EQ(FormatSummary(JobResult(), absl::ZeroDuration()), "0 ciphertexts; 0.0s");
}

// --- the job -----------------------------------------------------------------------------

class VectorSource final : public LineSource {
 public:
  explicit VectorSource(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  bool Next(std::string& line, bool& overlong) override {
    overlong = false;
    if (next_ == lines_.size()) return false;
    line = lines_[next_++];
    return true;
  }

 private:
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

// A fake server: ciphertexts containing "bad" fail, others come back as vault:v9:<payload>.
// Records every request body. Thread-safe.
class FakeServer {
 public:
  SendFn Sender() {
    return [this](const std::string& body) -> absl::StatusOr<net::ClientResponse> {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(body);
      if (!script_.empty()) {
        absl::StatusOr<net::ClientResponse> scripted = script_.front();
        script_.erase(script_.begin());
        return scripted;
      }
      return Answer(body);
    };
  }

  // The next responses, in order, before normal service.
  void Script(std::vector<absl::StatusOr<net::ClientResponse>> script) { script_ = script; }

  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

  static net::ClientResponse Answer(const std::string& body) {
    json::value v = json::parse(body);
    json::array results;
    bool bad = false;
    for (const json::value& item : v.at("batch_input").as_array()) {
      const std::string ct(item.at("ciphertext").as_string());
      json::object out;
      out["reference"] = item.at("reference");
      if (ct.find("bad") != std::string::npos) {
        out["error"] = "cipher: message authentication failed";
        bad = true;
      } else {
        std::string tag;
        if (const json::value* c = item.as_object().if_contains("context")) {
          tag = "." + std::string(c->as_string());
        }
        out["ciphertext"] = "vault:v9:" + ct.substr(ct.rfind(':') + 1) + tag;
        out["key_version"] = 9;
      }
      results.push_back(std::move(out));
    }
    json::object data;
    data["batch_results"] = std::move(results);
    json::object envelope;
    envelope["data"] = std::move(data);
    return net::ClientResponse{bad ? 400 : 200, json::serialize(envelope), {}};
  }

 private:
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<absl::StatusOr<net::ClientResponse>> script_;
};

struct JobRun {
  JobResult result;
  std::string output;
  std::vector<std::string> errors;
  std::vector<absl::Duration> sleeps;
};

JobRun RunJob(std::vector<std::string> lines, FakeServer& server, JobOptions options = {}) {
  JobRun run;
  options.sleep = [&run](absl::Duration d) { run.sleeps.push_back(d); };
  VectorSource source(std::move(lines));
  JobCallbacks callbacks;
  callbacks.write = [&run](std::string_view text) {
    run.output += text;
    return true;
  };
  callbacks.line_error = [&run](uint64_t line, std::string_view error) {
    run.errors.push_back(std::to_string(line) + ": " + std::string(error));
  };
  run.result = RunRewrapJob(
      options, source, [&server] { return server.Sender(); }, callbacks);
  return run;
}

TEST(RewrapJobTest, KeepsOrderAndPassesThroughBlanksCommentsAndFailures) {
  std::vector<std::string> lines;
  std::string expected;
  for (int i = 1; i <= 500; ++i) {
    std::string line;
    std::string out;
    if (i % 50 == 0) {
      line = "";
      out = "";
    } else if (i % 77 == 0) {
      line = "# note " + std::to_string(i);
      out = line;
    } else if (i == 123) {
      line = "vault:v1:bad123";
      out = line;
    } else if (i == 321) {
      line = "garbage";
      out = line;
    } else {
      line = "vault:v" + std::to_string(1 + i % 3) + ":P" + std::to_string(i);
      out = "vault:v9:P" + std::to_string(i);
    }
    lines.push_back(line);
    expected += out + "\n";
  }
  FakeServer server;
  JobOptions options;
  options.batch_size = 7;
  options.parallel = 4;
  JobRun run = RunJob(lines, server, options);
  EXPECT_OK(run.result.status);
  EXPECT_EQ(run.output, expected);
  EXPECT_THAT(run.errors, ElementsAre("123: cipher: message authentication failed",
                                      "321: not a transit ciphertext (expected vault:v<N>:...)"));
  EXPECT_EQ(run.result.lines, 500u);
  EXPECT_EQ(run.result.lines_written, 500u);
  EXPECT_EQ(run.result.skipped, 10u + 6u);
  EXPECT_EQ(run.result.ciphertexts, 484u);
  EXPECT_EQ(run.result.failed, 2u);
  EXPECT_EQ(run.result.rewrapped, 482u);
  EXPECT_EQ(run.result.new_versions.at(9), 482u);
  for (const std::string& body : server.bodies()) {
    EXPECT_LE(json::parse(body).at("batch_input").as_array().size(), 7u);
    EXPECT_EQ(body.find("garbage"), std::string::npos);
  }
}

TEST(RewrapJobTest, EmptyInputSendsNothing) {
  FakeServer server;
  JobRun run = RunJob({}, server);
  EXPECT_OK(run.result.status);
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(run.result.ciphertexts, 0u);
  EXPECT_TRUE(server.bodies().empty());
}

TEST(RewrapJobTest, OnlyBlankLinesSendNothing) {
  FakeServer server;
  JobRun run = RunJob({"", "# x", " "}, server);
  EXPECT_OK(run.result.status);
  EXPECT_EQ(run.output, "\n# x\n\n");
  EXPECT_TRUE(server.bodies().empty());
}

TEST(RewrapJobTest, ContextsAndKeyVersionGoOnEveryItem) {
  FakeServer server;
  JobOptions options;
  options.context = "Z2xvYmFs";
  options.key_version = 3;
  JobRun run = RunJob({"vault:v1:A", "vault:v1:B\tb3du"}, server, options);
  EXPECT_OK(run.result.status);
  EXPECT_EQ(run.output, "vault:v9:A.Z2xvYmFs\nvault:v9:B.b3du\tb3du\n");
  ASSERT_EQ(server.bodies().size(), 1u);
  json::value body = json::parse(server.bodies()[0]);
  for (const json::value& item : body.at("batch_input").as_array()) {
    EXPECT_EQ(item.at("key_version").as_int64(), 3);
  }
}

TEST(RewrapJobTest, CountsLinesAlreadyAtTheNewVersion) {
  FakeServer server;
  JobRun run = RunJob({"vault:v9:A", "vault:v1:B"}, server);
  EXPECT_EQ(run.result.already_latest, 1u);
  EXPECT_EQ(run.result.rewrapped, 2u);
}

TEST(RewrapJobTest, RetriesTransportErrorsAndServerErrorsWithBackoff) {
  FakeServer server;
  server.Script({absl::UnavailableError("connection refused"),
                 net::ClientResponse{503, R"({"errors":["sealed"]})", {}},
                 net::ClientResponse{429, "", {}}});
  JobOptions options;
  options.parallel = 1;
  JobRun run = RunJob({"vault:v1:A"}, server, options);
  EXPECT_OK(run.result.status);
  EXPECT_EQ(run.output, "vault:v9:A\n");
  EXPECT_THAT(run.sleeps, ElementsAre(absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2)));
  EXPECT_EQ(server.bodies().size(), 4u);
}

TEST(RewrapJobTest, GivesUpAfterMaxAttempts) {
  FakeServer server;
  std::vector<absl::StatusOr<net::ClientResponse>> script(
      10, net::ClientResponse{500, R"({"errors":["internal error"]})", {}});
  server.Script(script);
  JobOptions options;
  options.parallel = 1;
  options.max_attempts = 3;
  JobRun run = RunJob({"vault:v1:A", "vault:v1:B"}, server, options);
  EXPECT_THAT(run.result.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(run.result.status.message(),
              HasSubstr("lines 1-2: giving up after 3 attempts: internal error (HTTP 500)"));
  EXPECT_EQ(server.bodies().size(), 3u);
  EXPECT_EQ(run.output, "");
}

TEST(RewrapJobTest, StopsOnPermissionDenied) {
  FakeServer server;
  std::vector<absl::StatusOr<net::ClientResponse>> script(
      100, net::ClientResponse{403, R"({"errors":["permission denied"]})", {}});
  server.Script(script);
  std::vector<std::string> lines(1000, "vault:v1:A");
  JobOptions options;
  options.batch_size = 10;
  JobRun run = RunJob(lines, server, options);
  EXPECT_THAT(run.result.status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(run.result.status.message(), HasSubstr("permission denied (HTTP 403)"));
  EXPECT_TRUE(run.sleeps.empty());
  // The job stops: not every batch is sent.
  EXPECT_LT(server.bodies().size(), 100u);
  EXPECT_LT(run.result.lines_written, 1000u);
}

TEST(RewrapJobTest, StopsOnAWholeRequestError) {
  FakeServer server;
  server.Script({net::ClientResponse{400, R"({"errors":["encryption key not found"]})", {}}});
  JobOptions options;
  options.parallel = 1;
  JobRun run = RunJob({"vault:v1:A"}, server, options);
  EXPECT_THAT(run.result.status.message(),
              HasSubstr("line 1: encryption key not found (HTTP 400)"));
}

TEST(RewrapJobTest, StopsOnAMismatchedAnswer) {
  FakeServer server;
  server.Script({net::ClientResponse{200, R"({"data":{"batch_results":[]}})", {}}});
  JobOptions options;
  options.parallel = 1;
  JobRun run = RunJob({"vault:v1:A"}, server, options);
  EXPECT_THAT(run.result.status.message(), HasSubstr("answered 0 results for 1"));
}

TEST(RewrapJobTest, StopsWhenTheOutputCannotBeWritten) {
  FakeServer server;
  VectorSource source(std::vector<std::string>(50, "vault:v1:A"));
  JobOptions options;
  options.batch_size = 5;
  JobCallbacks callbacks;
  int writes = 0;
  callbacks.write = [&writes](std::string_view) { return ++writes < 3; };
  JobResult r = RunRewrapJob(
      options, source, [&server] { return server.Sender(); }, callbacks);
  EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(writes, 3);
  EXPECT_EQ(r.lines_written, 10u);
}

TEST(RewrapJobTest, ReportsProgressAtTheEnd) {
  FakeServer server;
  VectorSource source({"vault:v1:A", "vault:v1:bad"});
  JobOptions options;
  options.total = 2;
  std::vector<ProgressView> seen;
  JobCallbacks callbacks;
  callbacks.write = [](std::string_view) { return true; };
  callbacks.progress = [&seen](const ProgressView& p) { seen.push_back(p); };
  JobResult r = RunRewrapJob(
      options, source, [&server] { return server.Sender(); }, callbacks);
  EXPECT_OK(r.status);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, 2u);
  EXPECT_EQ(seen.back().failed, 1u);
  EXPECT_EQ(seen.back().total, 2u);
}

// --- FdLineSource ------------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = ::testing::TempDir() + "/rewrap-src-XXXXXX";
    fd_ = ::mkstemp(path_.data());
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::write(fd_, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::lseek(fd_, 0, SEEK_SET);
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

std::vector<std::string> ReadAll(LineSource& source, bool* any_overlong = nullptr) {
  std::vector<std::string> out;
  std::string line;
  bool overlong = false;
  while (source.Next(line, overlong)) {
    if (any_overlong != nullptr && overlong) *any_overlong = true;
    out.push_back(line);
  }
  return out;
}

TEST(FdLineSourceTest, SplitsLines) {
  TempFile file("a\r\nb\n\nc");
  FdLineSource source(file.fd());
  EXPECT_THAT(ReadAll(source), ElementsAre("a\r", "b", "", "c"));
  EXPECT_OK(source.status());
}

TEST(FdLineSourceTest, CutsOverlongLines) {
  TempFile file(std::string(kMaxReadLineBytes + 10, 'x') + "\nok\n");
  FdLineSource source(file.fd());
  bool overlong = false;
  std::vector<std::string> lines = ReadAll(source, &overlong);
  EXPECT_TRUE(overlong);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), kMaxReadLineBytes);
  EXPECT_EQ(lines[1], "ok");
}

TEST(RewrapJobTest, StopsOnAnOverlongLine) {
  TempFile file("vault:v1:A\n" + std::string(kMaxReadLineBytes + 1, 'x') + "\n");
  FdLineSource source(file.fd());
  FakeServer server;
  JobCallbacks callbacks;
  callbacks.write = [](std::string_view) { return true; };
  JobResult r = RunRewrapJob(
      JobOptions(), source, [&server] { return server.Sender(); }, callbacks);
  EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status.message(), HasSubstr("line 2 is longer than"));
}

}  // namespace
}  // namespace rekey::cli::internal
