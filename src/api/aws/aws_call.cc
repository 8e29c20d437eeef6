#include "api/aws/aws_call.h"

#include <algorithm>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <span>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "crypto/generators.h"
#include "crypto/hash.h"
#include "secrets/model.h"

namespace rekey::api::aws {

std::string AwsCall::NameOf(std::string_view id, std::optional<std::string>& suffix) {
  if (!id.starts_with(kArnPrefix)) return std::string(id);
  size_t at = id.find(":secret:");
  if (at == std::string_view::npos) return std::string(id);
  std::string_view rest = id.substr(at + 8);
  // A full ARN ends in -XXXXXX; the caller checks the suffix against the secret, and falls back
  // to the whole text (a partial ARN whose name contains a dash).
  if (rest.size() > 7 && rest[rest.size() - 7] == '-') {
    suffix = std::string(rest.substr(rest.size() - 6));
    return std::string(rest.substr(0, rest.size() - 7));
  }
  return std::string(rest);
}

std::string AwsCall::Suffix(std::string_view name, absl::Time created) const {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string digest = crypto::Sha256(StrCat(name, "\n", absl::ToUnixNanos(created)));
  std::string out;
  for (int i = 0; i < 6; ++i) out += kChars[static_cast<uint8_t>(digest[i]) % 62];
  return out;
}

absl::StatusOr<AwsCall::Resolved> AwsCall::Resolve(std::string_view id, const std::string& name,
                                                   const std::optional<std::string>& suffix) {
  absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(name);
  std::string resolved = name;
  if (suffix.has_value() && meta.ok() && Suffix(name, meta->created) != *suffix) {
    meta = absl::NotFoundError("suffix mismatch");
  }
  if (!meta.ok() && suffix.has_value()) {
    // A partial ARN whose name ends in -XXXXXX.
    std::optional<std::string> none;
    resolved = NameOf(id, none);
    if (id.starts_with(kArnPrefix)) resolved = std::string(id.substr(id.find(":secret:") + 8));
    meta = kv_.GetMetadata(resolved);
  }
  if (!meta.ok()) {
    if (meta.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::NotFoundError("no such secret");
    }
    return meta.status();
  }
  Resolved r{resolved, *std::move(meta), std::nullopt};
  if (auto it = r.meta.custom_metadata.find(std::string(kDeletionKey));
      it != r.meta.custom_metadata.end()) {
    int64_t secs = 0;
    if (absl::SimpleAtoi(it->second, &secs)) {
      r.deletion = absl::FromUnixSeconds(secs);
      if (*r.deletion <= clock_.Now()) {
        RETURN_IF_ERROR(kv_.DeleteAll(r.name));
        return absl::NotFoundError("deleted");
      }
    }
  }
  return r;
}

std::string AwsCall::VersionIdOf(const secrets::SecretMetadata& meta, uint64_t n) const {
  for (const auto& [k, v] : meta.custom_metadata) {
    if (k.starts_with(kTokenPrefix) && v == StrCat(n)) return k.substr(kTokenPrefix.size());
  }
  auto it = meta.versions.find(n);
  return it == meta.versions.end() ? "" : it->second.id;
}

std::optional<uint64_t> AwsCall::VersionNumberOf(const secrets::SecretMetadata& meta,
                                                 std::string_view id) const {
  if (auto it = meta.custom_metadata.find(StrCat(kTokenPrefix, id));
      it != meta.custom_metadata.end()) {
    uint64_t n = 0;
    if (absl::SimpleAtoi(it->second, &n) && meta.versions.contains(n)) return n;
  }
  for (const auto& [n, v] : meta.versions) {
    if (v.id == id) return n;
  }
  return std::nullopt;
}

std::map<std::string, std::string> AwsCall::TagsOf(const secrets::SecretMetadata& meta) {
  std::map<std::string, std::string> tags;
  for (const auto& [k, v] : meta.custom_metadata) {
    if (!k.starts_with(kMetaPrefix)) tags[k] = v;
  }
  return tags;
}

json::array AwsCall::TagsJson(const secrets::SecretMetadata& meta) {
  json::array out;
  for (const auto& [k, v] : TagsOf(meta))
    out.push_back(json::object{{"Key", JV(k)}, {"Value", JV(v)}});
  return out;
}

bool AwsCall::Encode(const Body& b, std::optional<SecretBytes>& stored, Reply& reply) {
  std::optional<std::string> str, bin;
  if (!b.String("SecretString", str, 1, 65536) || !b.String("SecretBinary", bin, 1, 87384)) {
    return false;
  }
  if (str.has_value() && bin.has_value()) {
    reply = Err("InvalidParameterException",
                "You can't specify both a binary secret value and a string secret value in the "
                "same secret.");
    return false;
  }
  if (str.has_value()) {
    boost::system::error_code ec;
    json::value v = json::parse(*str, ec);
    if (!ec && v.is_object()) {
      stored = SecretBytes(*str);
    } else {
      std::string text = json::serialize(json::object{{JV(kStringField), JV(*str)}});
      stored = SecretBytes(text);
      SecureWipe(text);
    }
    SecureWipe(*str);
  } else if (bin.has_value()) {
    std::string raw;
    if (!absl::Base64Unescape(ToAbsl(*bin), &raw)) {
      reply = Err("InvalidParameterException", "SecretBinary must be base64");
      return false;
    }
    SecureWipe(raw);
    std::string text = json::serialize(json::object{{JV(kBinaryField), JV(*bin)}});
    stored = SecretBytes(text);
    SecureWipe(text);
    SecureWipe(*bin);
  }
  return true;
}

void AwsCall::Decode(std::string_view stored, json::object& out) {
  boost::system::error_code ec;
  json::value v = json::parse(stored, ec);
  if (!ec && v.is_object() && v.as_object().size() == 1) {
    const json::object& o = v.as_object();
    if (const json::value* s = o.if_contains(JV(kStringField)); s && s->is_string()) {
      out["SecretString"] = s->as_string();
      return;
    }
    if (const json::value* s = o.if_contains(JV(kBinaryField)); s && s->is_string()) {
      out["SecretBinary"] = s->as_string();
      return;
    }
  }
  out["SecretString"] = JV(stored);
}

absl::StatusOr<std::pair<uint64_t, bool>> AwsCall::WriteValue(
    const std::string& name, const SecretBytes& value, const std::optional<std::string>& token,
    const std::vector<std::string>& labels, Reply& reply) {
  absl::StatusOr<secrets::SecretMetadata> before = kv_.GetMetadata(name);
  if (token.has_value() && before.ok()) {
    if (std::optional<uint64_t> n = VersionNumberOf(*before, *token); n.has_value()) {
      absl::StatusOr<secrets::ReadResult> existing = kv_.Read(name, *n);
      if (existing.ok() && existing->value.has_value() && *existing->value == value) {
        return std::make_pair(*n, false);  // the same request again: a no-op
      }
      reply = Err("ResourceExistsException",
                  "You can't modify an existing version, you can only create a new version.");
      return absl::AlreadyExistsError("token reused");
    }
  }
  std::vector<std::string> rekey_labels;
  for (const std::string& l : labels) rekey_labels.push_back(FromAwsLabel(l));
  const bool to_current =
      rekey_labels.empty() || std::find(rekey_labels.begin(), rekey_labels.end(),
                                        secrets::kLabelCurrent) != rekey_labels.end();
  secrets::WriteOptions options;
  options.actor = "aws";
  if (!to_current) {
    if (rekey_labels.front() == secrets::kLabelPrevious) {
      reply = Err("InvalidParameterException",
                  "AWSPREVIOUS cannot be the only label of a new "
                  "version; move it with UpdateSecretVersionStage");
      return absl::InvalidArgumentError("label");
    }
    options.stage_label = rekey_labels.front();
  }
  ASSIGN_OR_RETURN(secrets::WriteResult written, kv_.Put(name, value, options));
  const uint64_t n = written.version.number;
  for (const std::string& l : rekey_labels) {
    if (l == secrets::kLabelCurrent || (options.stage_label && l == *options.stage_label)) continue;
    RETURN_IF_ERROR(kv_.MoveLabel(name, l, n, std::nullopt));
  }
  if (token.has_value()) {
    // Remember the token as this version's id; keep only the newest few.
    ASSIGN_OR_RETURN(secrets::SecretMetadata meta, kv_.GetMetadata(name));
    std::map<std::string, std::string> custom = meta.custom_metadata;
    std::vector<std::pair<uint64_t, std::string>> tokens;
    for (auto it = custom.begin(); it != custom.end();) {
      if (it->first.starts_with(kTokenPrefix)) {
        uint64_t v = 0;
        if (absl::SimpleAtoi(it->second, &v) && meta.versions.contains(v)) {
          tokens.emplace_back(v, it->first);
        }
        it = custom.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(tokens.rbegin(), tokens.rend());
    if (tokens.size() >= kMaxTokensKept) tokens.resize(kMaxTokensKept - 1);
    for (const auto& [v, k] : tokens) custom[k] = StrCat(v);
    custom[StrCat(kTokenPrefix, *token)] = StrCat(n);
    secrets::MetadataUpdate update;
    update.custom_metadata = std::move(custom);
    RETURN_IF_ERROR(kv_.UpdateMetadata(name, update));
  }
  return std::make_pair(n, true);
}

json::object AwsCall::DescribeJson(const Resolved& r, bool for_list) const {
  const secrets::SecretMetadata& m = r.meta;
  json::object out;
  out["ARN"] = Arn(r.name, m.created);
  out["Name"] = JV(r.name);
  if (!m.description.empty()) out["Description"] = JV(m.description);
  out["LastChangedDate"] = Epoch(m.updated);
  if (r.deletion.has_value()) out["DeletedDate"] = Epoch(*r.deletion);
  json::array tags = TagsJson(m);
  if (!tags.empty()) out["Tags"] = std::move(tags);
  json::object stages;
  for (const auto& [n, v] : m.versions) {
    std::vector<std::string> labels = m.LabelsOf(n);
    if (labels.empty()) continue;
    json::array a;
    for (const std::string& l : labels) a.emplace_back(JV(ToAwsLabel(l)));
    stages[JV(VersionIdOf(m, n))] = std::move(a);
  }
  if (!stages.empty()) out[for_list ? "SecretVersionsToStages" : "VersionIdsToStages"] = stages;
  out["CreatedDate"] = Epoch(m.created);
  return out;
}

absl::StatusOr<std::vector<std::string>> AwsCall::AllNames() {
  std::vector<std::string> out;
  std::vector<std::string> folders = {""};
  while (!folders.empty()) {
    std::string folder = folders.back();
    folders.pop_back();
    ASSIGN_OR_RETURN(std::vector<std::string> names, kv_.List(folder));
    for (const std::string& n : names) {
      if (n.ends_with('/')) {
        folders.push_back(folder + n);
      } else {
        out.push_back(folder + n);
      }
    }
  }
  return out;
}

bool ValidToken(const std::optional<std::string>& token, Reply& reply) {
  if (token.has_value() && (token->size() < 32 || token->size() > 64)) {
    reply =
        Err("InvalidParameterException", "ClientRequestToken must be 32 to 64 characters long.");
    return false;
  }
  return true;
}

Reply AwsCall::CreateSecret(const json::object& o) {
  Reply reply;
  Body b{o, reply};
  std::optional<std::string> name, token, description;
  std::optional<SecretBytes> value;
  if (!b.String("Name", name, 1, 512) || !b.String("ClientRequestToken", token, 32, 64) ||
      !b.String("Description", description, 0, 2048) || !Encode(b, value, reply)) {
    return reply;
  }
  if (!name.has_value()) return Err("InvalidParameterException", "Name is required.");
  if (!Allowed(DataPath(*name), Capability::kCreate)) return AccessDenied();
  std::map<std::string, std::string> tags;
  if (const json::value* t = o.if_contains("Tags"); t != nullptr && t->is_array()) {
    for (const json::value& e : t->as_array()) {
      if (!e.is_object() || !e.as_object().contains("Key")) {
        return Err("InvalidParameterException", "Each tag needs a Key.");
      }
      const json::value* v = e.as_object().if_contains("Value");
      tags[std::string(e.as_object().at("Key").as_string().c_str())] =
          v && v->is_string() ? std::string(v->as_string().c_str()) : "";
    }
  }
  absl::StatusOr<secrets::SecretMetadata> existing = kv_.GetMetadata(*name);
  if (existing.status().code() == absl::StatusCode::kInvalidArgument) {
    return Err("InvalidParameterException", std::string(ToStd(existing.status().message())));
  }
  if (existing.ok()) {
    std::optional<std::string> none;
    absl::StatusOr<Resolved> r = Resolve(*name, *name, none);
    if (r.ok()) {
      if (r->deletion.has_value()) {
        return Err("InvalidRequestException",
                   "You can't create this secret because a secret with this name is already "
                   "scheduled for deletion.");
      }
      // A retry of the same create (same token, same value) succeeds without change.
      std::optional<uint64_t> n = token ? VersionNumberOf(r->meta, *token) : std::nullopt;
      if (n.has_value() && value.has_value()) {
        absl::StatusOr<secrets::ReadResult> read = kv_.Read(*name, *n);
        if (read.ok() && read->value.has_value() && *read->value == *value) {
          json::object out{
              {"ARN", Arn(*name, r->meta.created)}, {"Name", JV(*name)}, {"VersionId", JV(*token)}};
          return Reply{std::nullopt, std::move(out)};
        }
      }
      return Err("ResourceExistsException",
                 StrCat("The operation failed because the secret ", *name, " already exists."));
    }
  }
  secrets::MetadataUpdate update;
  if (description.has_value()) update.description = *description;
  std::optional<std::string> version_id;
  if (value.has_value()) {
    absl::StatusOr<std::pair<uint64_t, bool>> written = WriteValue(*name, *value, token, {}, reply);
    if (!written.ok()) return reply.error ? reply : FromStatus(written.status());
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(*name);
    if (!meta.ok()) return FromStatus(meta.status());
    version_id = VersionIdOf(*meta, written->first);
  }
  if (description.has_value() || !tags.empty() || !value.has_value()) {
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(*name);
    std::map<std::string, std::string> custom =
        meta.ok() ? meta->custom_metadata : std::map<std::string, std::string>{};
    for (auto& [k, v] : tags) custom[k] = v;
    update.custom_metadata = std::move(custom);
    if (absl::Status s = kv_.UpdateMetadata(*name, update); !s.ok()) return FromStatus(s);
  }
  absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(*name);
  if (!meta.ok()) return FromStatus(meta.status());
  json::object out{{"ARN", Arn(*name, meta->created)}, {"Name", JV(*name)}};
  if (version_id) out["VersionId"] = JV(*version_id);
  return Reply{std::nullopt, std::move(out)};
}

// Resolves SecretId after checking `cap` on the path `path_of(name)`; fills `reply` on failure.
Reply AwsCall::GetSecretValue(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, DataPath, Capability::kRead);
  Body b{o, reply};
  std::optional<std::string> version_id, stage;
  if (!b.String("VersionId", version_id, 32, 64) || !b.String("VersionStage", stage, 1, 256)) {
    return reply;
  }
  if (r->deletion.has_value()) {
    return Err("InvalidRequestException",
               "You can't perform this operation on the secret because it was marked for "
               "deletion.");
  }
  uint64_t n = 0;
  if (version_id.has_value()) {
    std::optional<uint64_t> found = VersionNumberOf(r->meta, *version_id);
    if (!found) {
      return Err(
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value for VersionId: " + *version_id);
    }
    n = *found;
  }
  if (stage.has_value()) {
    auto it = r->meta.labels.find(FromAwsLabel(*stage));
    if (it == r->meta.labels.end() || (n != 0 && it->second != n)) {
      return Err(
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value for staging label: " + *stage);
    }
    n = it->second;
  }
  if (n == 0) {
    n = r->meta.CurrentVersion();
    if (n == 0) {
      return Err("ResourceNotFoundException",
                 "Secrets Manager can't find the specified secret value for staging label: "
                 "AWSCURRENT");
    }
  }
  absl::StatusOr<secrets::ReadResult> read = kv_.Read(r->name, n);
  if (!read.ok()) return FromStatus(read.status());
  if (!read->value.has_value()) {
    return Err("ResourceNotFoundException",
               "Secrets Manager can't find the specified secret value (deleted or destroyed).");
  }
  json::object out{{"ARN", Arn(r->name, r->meta.created)},
                   {"Name", JV(r->name)},
                   {"VersionId", JV(VersionIdOf(r->meta, n))}};
  Decode(read->value->Reveal(), out);
  json::array labels;
  for (const std::string& l : r->meta.LabelsOf(n)) labels.emplace_back(JV(ToAwsLabel(l)));
  if (!labels.empty()) out["VersionStages"] = std::move(labels);  // the model's minimum is 1
  out["CreatedDate"] = Epoch(read->version.created);
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::PutSecretValue(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, DataPath, Capability::kUpdate);
  Body b{o, reply};
  std::optional<std::string> token;
  std::optional<std::vector<std::string>> stages;
  std::optional<SecretBytes> value;
  if (!b.String("ClientRequestToken", token, 32, 64) || !b.Strings("VersionStages", stages) ||
      !Encode(b, value, reply)) {
    return reply;
  }
  if (r->deletion.has_value()) {
    return Err("InvalidRequestException",
               "You can't perform this operation on the secret because it was marked for "
               "deletion.");
  }
  if (!value.has_value()) {
    return Err("InvalidRequestException", "You must provide either SecretString or SecretBinary.");
  }
  if (stages && (stages->empty() || stages->size() > 20)) {
    return Err("InvalidParameterException", "VersionStages must hold 1 to 20 labels.");
  }
  absl::StatusOr<std::pair<uint64_t, bool>> written =
      WriteValue(r->name, *value, token, stages.value_or(std::vector<std::string>{}), reply);
  if (!written.ok()) return reply.error ? reply : FromStatus(written.status());
  absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(r->name);
  if (!meta.ok()) return FromStatus(meta.status());
  json::array labels;
  for (const std::string& l : meta->LabelsOf(written->first))
    labels.emplace_back(JV(ToAwsLabel(l)));
  json::object out{{"ARN", Arn(r->name, meta->created)},
                   {"Name", JV(r->name)},
                   {"VersionId", JV(VersionIdOf(*meta, written->first))},
                   {"VersionStages", std::move(labels)}};
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::UpdateSecret(const json::object& o) {
  Reply reply;
  const bool has_value = o.contains("SecretString") || o.contains("SecretBinary");
  REKEY_AWS_RESOLVE(r, o, has_value ? DataPath : MetaPath, Capability::kUpdate);
  Body b{o, reply};
  std::optional<std::string> token, description;
  std::optional<SecretBytes> value;
  if (!b.String("ClientRequestToken", token, 32, 64) ||
      !b.String("Description", description, 0, 2048) || !Encode(b, value, reply)) {
    return reply;
  }
  if (r->deletion.has_value()) {
    return Err("InvalidRequestException",
               "You can't perform this operation on the secret because it was marked for "
               "deletion.");
  }
  std::optional<std::string> version_id;
  if (value.has_value()) {
    absl::StatusOr<std::pair<uint64_t, bool>> written =
        WriteValue(r->name, *value, token, {}, reply);
    if (!written.ok()) return reply.error ? reply : FromStatus(written.status());
    absl::StatusOr<secrets::SecretMetadata> meta = kv_.GetMetadata(r->name);
    if (!meta.ok()) return FromStatus(meta.status());
    version_id = VersionIdOf(*meta, written->first);
  }
  if (description.has_value()) {
    secrets::MetadataUpdate update;
    update.description = *description;
    if (absl::Status s = kv_.UpdateMetadata(r->name, update); !s.ok()) return FromStatus(s);
  }
  json::object out{{"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}};
  if (version_id) out["VersionId"] = JV(*version_id);
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::DescribeSecret(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, MetaPath, Capability::kRead);
  json::object out = DescribeJson(*r, false);
  AddRotationJson(r->name, out);
  return Reply{std::nullopt, std::move(out)};
}

namespace {

bool PrefixMatch(std::string_view text, std::string_view prefix, bool fold) {
  if (!fold) return text.starts_with(prefix);
  return absl::StartsWithIgnoreCase(ToAbsl(text), ToAbsl(prefix));
}

}  // namespace

Reply AwsCall::ListSecrets(const json::object& o) {
  Reply reply;
  Body b{o, reply};
  std::optional<int64_t> max;
  std::optional<std::string> next, order;
  std::optional<bool> planned;
  if (!b.Int("MaxResults", max, 1, 100) || !b.String("NextToken", next, 1, 4096) ||
      !b.String("SortOrder", order) || !b.Bool("IncludePlannedDeletion", planned)) {
    return reply;
  }
  if (order && *order != "asc" && *order != "desc") {
    return Err("InvalidParameterException", "SortOrder must be asc or desc.");
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> filters;
  if (const json::value* f = o.if_contains("Filters"); f != nullptr && f->is_array()) {
    for (const json::value& e : f->as_array()) {
      if (!e.is_object()) return Err("InvalidParameterException", "Invalid filter.");
      const json::object& fo = e.as_object();
      std::string key = fo.contains("Key") && fo.at("Key").is_string()
                            ? std::string(fo.at("Key").as_string().c_str())
                            : "";
      static const std::vector<std::string> kKeys = {
          "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"};
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        return Err("InvalidParameterException", StrCat("Invalid filter key: ", key));
      }
      std::vector<std::string> values;
      if (const json::value* vs = fo.if_contains("Values"); vs && vs->is_array()) {
        for (const json::value& v : vs->as_array()) {
          if (v.is_string()) values.emplace_back(v.as_string().c_str());
        }
      }
      filters.emplace_back(key, values);
    }
  }
  size_t offset = 0;
  if (next.has_value() && !absl::SimpleAtoi(*next, &offset)) {
    return Err("InvalidNextTokenException", "The NextToken value is invalid.");
  }
  absl::StatusOr<std::vector<std::string>> names = AllNames();
  if (!names.ok()) return FromStatus(names.status());
  std::vector<Resolved> found;
  for (const std::string& name : *names) {
    if (!Allowed(MetaPath(name), Capability::kRead)) continue;
    std::optional<std::string> none;
    absl::StatusOr<Resolved> r = Resolve(name, name, none);
    if (!r.ok()) continue;
    if (r->deletion.has_value() && !planned.value_or(false)) continue;
    const std::map<std::string, std::string> tags = TagsOf(r->meta);
    bool keep = true;
    for (const auto& [key, values] : filters) {
      bool any = false;
      for (std::string value : values) {
        const bool negate = value.starts_with('!');
        if (negate) value.erase(0, 1);
        bool hit = false;
        if (key == "name" || key == "all") hit |= PrefixMatch(r->name, value, key == "all");
        if (key == "description" || key == "all")
          hit |= PrefixMatch(r->meta.description, value, true);
        for (const auto& [tk, tv] : tags) {
          if (key == "tag-key" || key == "all") hit |= PrefixMatch(tk, value, key == "all");
          if (key == "tag-value" || key == "all") hit |= PrefixMatch(tv, value, key == "all");
        }
        if (key == "primary-region") hit = false;
        any |= negate ? !hit : hit;
      }
      keep &= any;
    }
    if (keep) found.push_back(*std::move(r));
  }
  std::stable_sort(found.begin(), found.end(), [&](const Resolved& a, const Resolved& b) {
    return order.value_or("asc") == "desc" ? a.meta.created > b.meta.created
                                           : a.meta.created < b.meta.created;
  });
  const size_t limit = static_cast<size_t>(max.value_or(100));
  json::array list;
  for (size_t i = offset; i < found.size() && i < offset + limit; ++i) {
    json::object entry = DescribeJson(found[i], true);
    AddRotationJson(found[i].name, entry);
    list.push_back(std::move(entry));
  }
  json::object out{{"SecretList", std::move(list)}};
  if (offset + limit < found.size()) out["NextToken"] = StrCat(offset + limit);
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::ListSecretVersionIds(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, MetaPath, Capability::kRead);
  Body b{o, reply};
  std::optional<int64_t> max;
  std::optional<std::string> next;
  std::optional<bool> deprecated;
  if (!b.Int("MaxResults", max, 1, 100) || !b.String("NextToken", next, 1, 4096) ||
      !b.Bool("IncludeDeprecated", deprecated)) {
    return reply;
  }
  size_t offset = 0;
  if (next.has_value() && !absl::SimpleAtoi(*next, &offset)) {
    return Err("InvalidNextTokenException", "The NextToken value is invalid.");
  }
  std::vector<json::object> versions;
  for (auto it = r->meta.versions.rbegin(); it != r->meta.versions.rend(); ++it) {
    std::vector<std::string> labels = r->meta.LabelsOf(it->first);
    if (labels.empty() && !deprecated.value_or(false)) continue;
    json::object v{{"VersionId", JV(VersionIdOf(r->meta, it->first))}};
    json::array a;
    for (const std::string& l : labels) a.emplace_back(JV(ToAwsLabel(l)));
    if (!a.empty()) v["VersionStages"] = std::move(a);
    v["CreatedDate"] = Epoch(it->second.created);
    versions.push_back(std::move(v));
  }
  const size_t limit = static_cast<size_t>(max.value_or(100));
  json::array list;
  for (size_t i = offset; i < versions.size() && i < offset + limit; ++i)
    list.push_back(versions[i]);
  json::object out{
      {"Versions", std::move(list)}, {"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}};
  if (offset + limit < versions.size()) out["NextToken"] = StrCat(offset + limit);
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::UpdateSecretVersionStage(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, DataPath, Capability::kUpdate);
  Body b{o, reply};
  std::optional<std::string> stage, move_to, remove_from;
  if (!b.String("VersionStage", stage, 1, 256) || !b.String("MoveToVersionId", move_to, 32, 64) ||
      !b.String("RemoveFromVersionId", remove_from, 32, 64)) {
    return reply;
  }
  if (!stage) return Err("InvalidParameterException", "VersionStage is required.");
  const std::string label = FromAwsLabel(*stage);
  std::optional<uint64_t> to, from;
  if (move_to) {
    to = VersionNumberOf(r->meta, *move_to);
    if (!to)
      return Err("ResourceNotFoundException", "The version to move the label to is unknown.");
  }
  if (remove_from) {
    from = VersionNumberOf(r->meta, *remove_from);
    if (!from) return Err("InvalidParameterException", "RemoveFromVersionId is not a version.");
  }
  auto holder = r->meta.labels.find(label);
  const uint64_t held = holder == r->meta.labels.end() ? 0 : holder->second;
  if (held != 0 && held != to.value_or(0) && from.value_or(0) != held) {
    return Err("InvalidParameterException",
               StrCat("The parameter RemoveFromVersionId can't be empty. Staging label ", *stage,
                      " is currently attached to version ", VersionIdOf(r->meta, held),
                      ", so you must explicitly reference that version in RemoveFromVersionId."));
  }
  if (from && *from != held) {
    return Err("InvalidParameterException",
               StrCat("Staging label ", *stage, " is not attached to version ", *remove_from, "."));
  }
  if (!to && !from) {
    return Err("InvalidParameterException",
               "You must specify MoveToVersionId, RemoveFromVersionId or both.");
  }
  if (absl::Status s = kv_.MoveLabel(r->name, label, to, held); !s.ok()) return FromStatus(s);
  return Reply{std::nullopt, {{"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}}};
}

Reply AwsCall::DeleteSecret(const json::object& o) {
  Reply reply;
  Body b{o, reply};
  std::optional<int64_t> window;
  std::optional<bool> force;
  if (!b.Int("RecoveryWindowInDays", window, 7, 30) ||
      !b.Bool("ForceDeleteWithoutRecovery", force)) {
    return reply;
  }
  if (window.has_value() && force.value_or(false)) {
    return Err("InvalidParameterException",
               "You can't use ForceDeleteWithoutRecovery in conjunction with "
               "RecoveryWindowInDays.");
  }
  std::optional<std::string> secret_id;
  if (!b.String("SecretId", secret_id, 1, 2048)) return reply;
  if (!secret_id) return Err("InvalidParameterException", "SecretId is required.");
  std::optional<std::string> suffix;
  const std::string name = NameOf(*secret_id, suffix);
  if (!Allowed(MetaPath(name), Capability::kDelete)) return AccessDenied();
  const absl::Time now = clock_.Now();
  absl::StatusOr<Resolved> r = Resolve(*secret_id, name, suffix);
  if (r.ok() && r->name != name && !Allowed(MetaPath(r->name), Capability::kDelete)) {
    return AccessDenied();
  }
  if (!r.ok()) {
    // AWS: forcing the deletion of a secret that is already gone succeeds, so retries do.
    if (r.status().code() == absl::StatusCode::kNotFound && force.value_or(false)) {
      return Reply{
          std::nullopt,
          json::object{{"ARN", Arn(name, now)}, {"Name", JV(name)}, {"DeletionDate", Epoch(now)}}};
    }
    return FromStatus(r.status());
  }
  json::object out{{"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}};
  if (force.value_or(false)) {
    if (absl::Status s = kv_.DeleteAll(r->name); !s.ok()) return FromStatus(s);
    out["DeletionDate"] = Epoch(now);
    return Reply{std::nullopt, std::move(out)};
  }
  if (r->deletion.has_value()) {
    return Err("InvalidRequestException",
               "You can't perform this operation on the secret because it was already scheduled "
               "for deletion.");
  }
  const absl::Time when = now + absl::Hours(24) * window.value_or(30);
  std::map<std::string, std::string> custom = r->meta.custom_metadata;
  custom[std::string(kDeletionKey)] = StrCat(absl::ToUnixSeconds(when));
  secrets::MetadataUpdate update;
  update.custom_metadata = std::move(custom);
  if (absl::Status s = kv_.UpdateMetadata(r->name, update); !s.ok()) return FromStatus(s);
  out["DeletionDate"] = Epoch(absl::FromUnixSeconds(absl::ToUnixSeconds(when)));
  return Reply{std::nullopt, std::move(out)};
}

Reply AwsCall::RestoreSecret(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, MetaPath, Capability::kDelete);
  if (r->deletion.has_value()) {
    std::map<std::string, std::string> custom = r->meta.custom_metadata;
    custom.erase(std::string(kDeletionKey));
    secrets::MetadataUpdate update;
    update.custom_metadata = std::move(custom);
    if (absl::Status s = kv_.UpdateMetadata(r->name, update); !s.ok()) return FromStatus(s);
  }
  return Reply{std::nullopt, {{"ARN", Arn(r->name, r->meta.created)}, {"Name", JV(r->name)}}};
}

Reply AwsCall::TagResource(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, MetaPath, Capability::kUpdate);
  const json::value* t = o.if_contains("Tags");
  if (t == nullptr || !t->is_array()) return Err("InvalidParameterException", "Tags is required.");
  std::map<std::string, std::string> custom = r->meta.custom_metadata;
  for (const json::value& e : t->as_array()) {
    if (!e.is_object() || !e.as_object().contains("Key") || !e.as_object().at("Key").is_string()) {
      return Err("InvalidParameterException", "Each tag needs a Key.");
    }
    std::string key(e.as_object().at("Key").as_string().c_str());
    if (key.starts_with(kMetaPrefix)) {
      return Err("InvalidParameterException", "Tag keys may not begin with aws:.");
    }
    const json::value* v = e.as_object().if_contains("Value");
    custom[key] = v && v->is_string() ? std::string(v->as_string().c_str()) : "";
  }
  secrets::MetadataUpdate update;
  update.custom_metadata = std::move(custom);
  if (absl::Status s = kv_.UpdateMetadata(r->name, update); !s.ok()) return FromStatus(s);
  return Reply{};
}

Reply AwsCall::UntagResource(const json::object& o) {
  Reply reply;
  REKEY_AWS_RESOLVE(r, o, MetaPath, Capability::kUpdate);
  Body b{o, reply};
  std::optional<std::vector<std::string>> keys;
  if (!b.Strings("TagKeys", keys)) return reply;
  if (!keys) return Err("InvalidParameterException", "TagKeys is required.");
  std::map<std::string, std::string> custom = r->meta.custom_metadata;
  for (const std::string& k : *keys) {
    if (!k.starts_with(kMetaPrefix)) custom.erase(k);
  }
  secrets::MetadataUpdate update;
  update.custom_metadata = std::move(custom);
  if (absl::Status s = kv_.UpdateMetadata(r->name, update); !s.ok()) return FromStatus(s);
  return Reply{};
}

Reply AwsCall::GetRandomPassword(const json::object& o) {
  Reply reply;
  if (!Allowed("sys/tools/random", Capability::kUpdate)) return AccessDenied();
  Body b{o, reply};
  std::optional<int64_t> length;
  std::optional<std::string> exclude;
  std::optional<bool> numbers, punctuation, upper, lower, space, each;
  if (!b.Int("PasswordLength", length, 1, 4096) ||
      !b.String("ExcludeCharacters", exclude, 0, 4096) || !b.Bool("ExcludeNumbers", numbers) ||
      !b.Bool("ExcludePunctuation", punctuation) || !b.Bool("ExcludeUppercase", upper) ||
      !b.Bool("ExcludeLowercase", lower) || !b.Bool("IncludeSpace", space) ||
      !b.Bool("RequireEachIncludedType", each)) {
    return reply;
  }
  crypto::PasswordPolicy policy;
  policy.length = static_cast<int>(length.value_or(32));
  policy.exclude_characters = exclude.value_or("");
  policy.exclude_numbers = numbers.value_or(false);
  policy.exclude_punctuation = punctuation.value_or(false);
  policy.exclude_uppercase = upper.value_or(false);
  policy.exclude_lowercase = lower.value_or(false);
  policy.include_space = space.value_or(false);
  policy.require_each_included_type = each.value_or(true);
  absl::StatusOr<SecretBytes> password = crypto::GeneratePassword(policy, random_);
  if (!password.ok())
    return Err("InvalidParameterException", std::string(ToStd(password.status().message())));
  return Reply{std::nullopt, {{"RandomPassword", JV(password->Reveal())}}};
}

Reply AwsCall::BatchGetSecretValue(const json::object& o) {
  Reply reply;
  Body b{o, reply};
  std::optional<std::vector<std::string>> ids;
  std::optional<int64_t> max;
  if (!b.Strings("SecretIdList", ids) || !b.Int("MaxResults", max, 1, 20)) return reply;
  const bool has_filters = o.contains("Filters");
  if (ids.has_value() == has_filters) {
    return Err("InvalidParameterException", "Specify either SecretIdList or Filters, not both.");
  }
  if (ids && (ids->empty() || ids->size() > 20)) {
    return Err("InvalidParameterException", "SecretIdList must hold 1 to 20 ids.");
  }
  if (ids && max) {
    return Err("InvalidParameterException", "MaxResults can only be used with Filters.");
  }
  json::object out;
  json::array values, errors;
  std::vector<std::string> targets;
  if (ids) {
    targets = *ids;
  } else {
    json::object list_req{{"Filters", o.at("Filters")}, {"MaxResults", max.value_or(20)}};
    if (const json::value* n = o.if_contains("NextToken")) list_req["NextToken"] = *n;
    Reply listed = ListSecrets(list_req);
    if (listed.error) return listed;
    for (const json::value& s : listed.body["SecretList"].as_array()) {
      targets.emplace_back(s.as_object().at("Name").as_string().c_str());
    }
    if (listed.body.contains("NextToken")) out["NextToken"] = listed.body["NextToken"];
  }
  for (const std::string& id : targets) {
    Reply one = GetSecretValue(json::object{{"SecretId", JV(id)}});
    if (one.error) {
      errors.push_back(json::object{{"SecretId", JV(id)},
                                    {"ErrorCode", JV(one.error->type)},
                                    {"Message", JV(one.error->message)}});
    } else {
      values.push_back(std::move(one.body));
    }
  }
  out["SecretValues"] = std::move(values);
  out["Errors"] = std::move(errors);
  return Reply{std::nullopt, std::move(out)};
}

struct OperationEntry {
  AwsOperationRule rule;
  Reply (AwsCall::*handler)(const json::object&);
};

namespace {

constexpr Capability kRead = Capability::kRead;
constexpr Capability kCreate = Capability::kCreate;
constexpr Capability kUpdate = Capability::kUpdate;
constexpr Capability kDelete = Capability::kDelete;
constexpr Capability kRotate = Capability::kRotate;
constexpr AwsResource kData = AwsResource::kSecretData;
constexpr AwsResource kMeta = AwsResource::kSecretMetadata;

}  // namespace

// The operations table (aws_operations.h). Its order is the documentation's.
const std::vector<OperationEntry>& AwsCall::Operations() {
  static const auto* const kOperations = new std::vector<OperationEntry>{
      {{"CreateSecret", kCreate, kData, false, R"({"Name":"{name}-new","SecretString":"v"})",
        "the name is the new secret's"},
       &AwsCall::CreateSecret},
      {{"GetSecretValue", kRead, kData, false, R"({"SecretId":"{name}"})"},
       &AwsCall::GetSecretValue},
      {{"BatchGetSecretValue", kRead, kData, true, R"({"SecretIdList":["{name}"]})",
        "each secret: without read, an AccessDeniedException entry in Errors"},
       &AwsCall::BatchGetSecretValue},
      {{"PutSecretValue", kUpdate, kData, false, R"({"SecretId":"{name}","SecretString":"v2"})"},
       &AwsCall::PutSecretValue},
      {{"UpdateSecretVersionStage", kUpdate, kData, false,
        R"({"SecretId":"{name}","VersionStage":"custom","MoveToVersionId":"{version}"})"},
       &AwsCall::UpdateSecretVersionStage},
      {{"UpdateSecret", kUpdate, kMeta, false, R"({"SecretId":"{name}","Description":"d"})",
        "with SecretString or SecretBinary: update on `secret/data/<name>` instead"},
       &AwsCall::UpdateSecret},
      {{"DescribeSecret", kRead, kMeta, false, R"({"SecretId":"{name}"})"},
       &AwsCall::DescribeSecret},
      {{"ListSecretVersionIds", kRead, kMeta, false, R"({"SecretId":"{name}"})"},
       &AwsCall::ListSecretVersionIds},
      {{"ListSecrets", kRead, kMeta, true, "{}",
        "lists only the secrets the caller may read the metadata of"},
       &AwsCall::ListSecrets},
      {{"TagResource", kUpdate, kMeta, false,
        R"({"SecretId":"{name}","Tags":[{"Key":"k","Value":"v"}]})"},
       &AwsCall::TagResource},
      {{"UntagResource", kUpdate, kMeta, false, R"({"SecretId":"{name}","TagKeys":["k"]})"},
       &AwsCall::UntagResource},
      {{"DeleteSecret", kDelete, kMeta, false, R"({"SecretId":"{name}"})"}, &AwsCall::DeleteSecret},
      {{"RestoreSecret", kDelete, kMeta, false, R"({"SecretId":"{name}"})"},
       &AwsCall::RestoreSecret},
      {{"RotateSecret", kRotate, AwsResource::kRotate, false, R"({"SecretId":"{name}"})",
        "also update on `rotation/config/<name>` when it sets RotationRules or "
        "RotationLambdaARN, or the secret has no rotation config yet"},
       &AwsCall::RotateSecret},
      {{"CancelRotateSecret", kUpdate, AwsResource::kRotationConfig, false,
        R"({"SecretId":"{name}"})"},
       &AwsCall::CancelRotateSecret},
      {{"GetRandomPassword", kUpdate, AwsResource::kRandom, false, R"({"PasswordLength":20})"},
       &AwsCall::GetRandomPassword},
  };
  return *kOperations;
}

std::span<const AwsOperationRule> AwsOperationRules() {
  static const auto* const kRules = [] {
    auto* rules = new std::vector<AwsOperationRule>;
    for (const auto& entry : AwsCall::Operations()) rules->push_back(entry.rule);
    return rules;
  }();
  return *kRules;
}

const AwsOperationRule* FindAwsOperation(std::string_view name) {
  for (const AwsOperationRule& rule : AwsOperationRules()) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

std::string AwsPolicyPath(AwsResource resource, std::string_view name) {
  switch (resource) {
    case AwsResource::kSecretData:
      return StrCat("secret/data/", name);
    case AwsResource::kSecretMetadata:
      return StrCat("secret/metadata/", name);
    case AwsResource::kRotate:
      return StrCat("rotation/rotate/", name);
    case AwsResource::kRotationConfig:
      return StrCat("rotation/config/", name);
    case AwsResource::kRandom:
      return "sys/tools/random";
  }
  return "";
}

std::string AwsOperationsMarkdown() {
  std::string out = "| Operation | Needs | On |\n|---|---|---|\n";
  for (const AwsOperationRule& rule : AwsOperationRules()) {
    std::string on = AwsPolicyPath(rule.resource, "<name>");
    out += StrCat("| ", rule.name, " | ", auth::CapabilityName(rule.capability), " | `", on, "`",
                  rule.note.empty() ? "" : StrCat("; ", rule.note), " |\n");
  }
  return out;
}

Reply AwsCall::Dispatch(std::string_view op, const json::object& o) {
  for (const OperationEntry& entry : Operations()) {
    if (entry.rule.name == op) return (this->*entry.handler)(o);
  }
  return Err("InvalidAction", StrCat("The action ", op, " is not valid for this endpoint."));
}
}  // namespace rekey::api::aws
