#include "transit/base64.h"

#include <array>
#include <cstdint>

namespace rekey::transit {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Writes the encoding of `in` to `out` (room for EncodedLen bytes).
void EncodeInto(std::string_view in, const char* alphabet, bool pad, char* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *out++ = alphabet[(v >> 18) & 63];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = alphabet[(v >> 6) & 63];
    *out++ = alphabet[v & 63];
  }
  const size_t rest = in.size() - i;
  if (rest == 0) return;
  uint32_t v = uint32_t{p[i]} << 16;
  if (rest == 2) v |= uint32_t{p[i + 1]} << 8;
  *out++ = alphabet[(v >> 18) & 63];
  *out++ = alphabet[(v >> 12) & 63];
  if (rest == 2) {
    *out++ = alphabet[(v >> 6) & 63];
  } else if (pad) {
    *out++ = '=';
  }
  if (pad) *out++ = '=';
}

size_t EncodedLen(size_t n, bool pad) {
  if (pad) return (n + 2) / 3 * 4;
  return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

// Decodes `text` into `out` (room for text.size() * 3 / 4 bytes); returns the decoded length, or
// nullopt for invalid input.
std::optional<size_t> DecodeInto(std::string_view text, const char* alphabet, bool padded,
                                 unsigned char* out) {
  std::array<int8_t, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(alphabet[i])] = i;
  uint32_t acc = 0;
  int bits = 0;
  size_t len = 0;
  size_t symbols = 0;  // non-padding, non-newline characters
  size_t pads = 0;
  for (char c : text) {
    if (padded && (c == '\r' || c == '\n')) continue;
    if (c == '=') {
      if (!padded) return std::nullopt;
      ++pads;
      continue;
    }
    if (pads > 0) return std::nullopt;  // data after padding
    const int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    ++symbols;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[len++] = static_cast<unsigned char>((acc >> bits) & 0xff);
    }
  }
  const size_t rem = symbols % 4;
  if (rem == 1) return std::nullopt;
  if (padded) {
    if ((symbols + pads) % 4 != 0) return std::nullopt;
    if (pads != (rem == 0 ? 0 : 4 - rem)) return std::nullopt;
  } else if (pads != 0) {
    return std::nullopt;
  }
  return len;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out(EncodedLen(data.size(), true), '\0');
  EncodeInto(data, kStd, true, out.data());
  return out;
}

SecretBytes Base64EncodeSecret(std::string_view data) {
  SecretBytes out = SecretBytes::Zeroed(EncodedLen(data.size(), true));
  EncodeInto(data, kStd, true, reinterpret_cast<char*>(out.MutableData()));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::optional<size_t> n =
      DecodeInto(text, kStd, true, reinterpret_cast<unsigned char*>(out.data()));
  if (!n.has_value()) return std::nullopt;
  out.resize(*n);
  return out;
}

std::optional<SecretBytes> Base64DecodeSecret(std::string_view text) {
  SecretBytes buf = SecretBytes::Zeroed(text.size() * 3 / 4 + 3);
  std::optional<size_t> n = DecodeInto(text, kStd, true, buf.MutableData());
  if (!n.has_value()) return std::nullopt;
  if (*n == buf.size()) return buf;
  return SecretBytes(buf.Reveal().substr(0, *n));
}

std::string Base64UrlEncode(std::string_view data) {
  std::string out(EncodedLen(data.size(), false), '\0');
  EncodeInto(data, kUrl, false, out.data());
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::optional<size_t> n =
      DecodeInto(text, kUrl, false, reinterpret_cast<unsigned char*>(out.data()));
  if (!n.has_value()) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace rekey::transit
