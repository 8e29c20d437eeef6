#include "api/vault/data_response.h"

#include <boost/json/array.hpp>
#include <boost/json/serializer.hpp>
#include <utility>

#include "api/vault/zeroing_json.h"
#include "core/secret_bytes.h"

namespace rekey::api {

namespace json = boost::json;

json::object NewSecretObject() { return json::object(ZeroingStorage()); }

std::string SerializeWiped(const json::value& v) {
  json::serializer sr;
  sr.reset(&v);
  std::string out(4096, '\0');
  size_t at = 0;
  while (!sr.done()) {
    if (at == out.size()) {
      std::string bigger(out.size() * 2, '\0');
      bigger.replace(0, at, out, 0, at);
      SecureWipe(out);
      out.swap(bigger);
    }
    at += sr.read(out.data() + at, out.size() - at).size();
  }
  out.resize(at);  // shrinking keeps the buffer: nothing is copied
  return out;
}

http::Response DataResponse(const http::Request& req, json::object data,
                            const std::vector<std::string>& warnings, int status) {
  json::object top = NewSecretObject();
  top["request_id"] = json::string_view(req.request_id.data(), req.request_id.size());
  top["lease_id"] = "";
  top["renewable"] = false;
  top["lease_duration"] = 0;
  top["data"] = std::move(data);
  top["wrap_info"] = nullptr;
  if (warnings.empty()) {
    top["warnings"] = nullptr;
  } else {
    json::array w(ZeroingStorage());
    for (const std::string& s : warnings) w.emplace_back(json::string_view(s.data(), s.size()));
    top["warnings"] = std::move(w);
  }
  top["auth"] = nullptr;
  http::Response res;
  res.status = status;
  res.body = SerializeWiped(top);
  return res;
}

}  // namespace rekey::api
