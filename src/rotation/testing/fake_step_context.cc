#include "rotation/testing/fake_step_context.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>

#include "core/strings.h"

namespace rekey::rotation::testing {

void RecordingStepLog::Info(std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back({false, std::string(message)});
}

void RecordingStepLog::Warn(std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back({true, std::string(message)});
}

std::vector<RecordingStepLog::Line> RecordingStepLog::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::string RecordingStepLog::Joined() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Line& line : lines_) {
    out += line.warning ? "WARN: " : "INFO: ";
    out += line.text;
    out += '\n';
  }
  return out;
}

bool RecordingStepLog::Contains(std::string_view needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Line& line : lines_) {
    if (line.text.find(needle) != std::string::npos) return true;
  }
  return false;
}

void RecordingStepLog::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.clear();
}

void FakeHttpTransport::set_handler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void FakeHttpTransport::ReplyWith(int status, std::string body) {
  set_handler([status, body = std::move(body)](const HttpCall&) -> absl::StatusOr<HttpReply> {
    HttpReply reply;
    reply.status = status;
    reply.body = body;
    return reply;
  });
}

void FakeHttpTransport::ReplySequence(std::vector<absl::StatusOr<HttpReply>> replies) {
  auto shared = std::make_shared<std::vector<absl::StatusOr<HttpReply>>>(std::move(replies));
  auto next = std::make_shared<size_t>(0);
  set_handler([shared, next](const HttpCall&) -> absl::StatusOr<HttpReply> {
    if (shared->empty()) return absl::InternalError("FakeHttpTransport: empty reply sequence");
    const size_t i = std::min(*next, shared->size() - 1);
    ++*next;
    return (*shared)[i];
  });
}

absl::StatusOr<HttpReply> FakeHttpTransport::Send(const HttpCall& call) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(call);
    handler = handler_;
  }
  if (!handler) {
    HttpReply reply;
    reply.status = 200;
    reply.body = "{}";
    return reply;
  }
  return handler(call);
}

std::vector<HttpCall> FakeHttpTransport::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

size_t FakeHttpTransport::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

FakeStepContext::FakeStepContext(uint64_t seed)
    : random_(seed), deadline_(clock_.Now() + absl::Minutes(1)) {}

VersionView FakeStepContext::MakeVersion(uint64_t number, std::string id,
                                         std::optional<std::string_view> value_json) {
  VersionView v;
  v.number = number;
  v.id = std::move(id);
  if (value_json.has_value()) v.value = SecretBytes(*value_json);
  return v;
}

absl::StatusOr<SecretBytes> FakeStepContext::Generate() {
  ++generate_calls_;
  if (!generate_error_.ok()) return generate_error_;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(random_.Uint64()));
  std::string value = rekey::StrCat("gen-", generate_calls_, "-", hex);
  generated_.push_back(value);
  return SecretBytes(value);
}

absl::StatusOr<SecretBytes> FakeStepContext::ReadSecret(std::string_view path) {
  read_paths_.emplace_back(path);
  auto it = secrets_.find(std::string(path));
  if (it == secrets_.end()) {
    return absl::NotFoundError(rekey::StrCat("secret ", path, " not found"));
  }
  return it->second;
}

void FakeStepContext::SetSecret(std::string path, std::string_view value) {
  secrets_.insert_or_assign(std::move(path), SecretBytes(value));
}

void FakeStepContext::SetSecretError(std::string path, absl::Status status) {
  secrets_.insert_or_assign(std::move(path), std::move(status));
}

}  // namespace rekey::rotation::testing
