#include "transit/base64.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace rekey::transit {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The alphabets as lookup tables: for every 12-bit group, its two characters (encode), and for
// every character its 6-bit value pre-shifted into each of the four positions of a 24-bit group,
// or kBad (decode).
constexpr uint32_t kBad = 1u << 24;
static_assert(std::endian::native == std::endian::little, "EncodeInto stores groups little-endian");

struct Tables {
  std::array<uint16_t, 4096> pairs{};  // pairs[v] = alphabet[v >> 6] | alphabet[v & 63] << 8
  std::array<std::array<uint32_t, 256>, 4> shifted{};

  constexpr explicit Tables(const char* alphabet) {
    for (uint32_t v = 0; v < 4096; ++v) {
      pairs[v] = static_cast<uint16_t>(static_cast<unsigned char>(alphabet[v >> 6]) |
                                       static_cast<unsigned char>(alphabet[v & 63]) << 8);
    }
    for (auto& t : shifted) t.fill(kBad);
    for (uint32_t i = 0; i < 64; ++i) {
      const auto c = static_cast<unsigned char>(alphabet[i]);
      for (int pos = 0; pos < 4; ++pos) shifted[pos][c] = i << (18 - 6 * pos);
    }
  }
};

constexpr Tables kStdTables(kStd);
constexpr Tables kUrlTables(kUrl);

const Tables& TablesFor(const char* alphabet) { return alphabet == kStd ? kStdTables : kUrlTables; }

// Writes the encoding of `in` to `out` (room for EncodedLen bytes).
void EncodeInto(std::string_view in, const char* alphabet, bool pad, char* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::array<uint16_t, 4096>& pairs = TablesFor(alphabet).pairs;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    // Two table pairs make the group's four characters, stored at once (pairs hold their first
    // character in the low byte, so this is their memory order on a little-endian machine).
    const uint32_t group = pairs[v >> 12] | (uint32_t{pairs[v & 4095]} << 16);
    std::memcpy(out, &group, 4);
    out += 4;
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

// Decodes `text` into `out` (room for text.size() * 3 / 4 + 3 bytes) one character at a time;
// returns the decoded length, or nullopt for invalid input. The reference for DecodeInto.
std::optional<size_t> DecodeSlow(std::string_view text, const char* alphabet, bool padded,
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

// The exact decoded length of `text` if it is all full 4-character groups (the last one possibly
// padded, when `padded`), else nullopt (newlines, odd lengths: DecodeSlow decides).
std::optional<size_t> FastDecodedLen(std::string_view text, bool padded) {
  if (!padded) {
    if (text.size() % 4 == 1) return std::nullopt;
    return text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  }
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pads = 0;
  if (!text.empty() && text.back() == '=') ++pads;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pads;
  return text.size() / 4 * 3 - pads;
}

// How many bytes DecodeInto may write for `text`.
size_t Room(std::string_view text, bool padded) {
  return FastDecodedLen(text, padded).value_or(text.size() * 3 / 4 + 3);
}

// DecodeSlow through a scratch buffer, for an `out` with only Room() bytes.
std::optional<size_t> DecodeSlowVia(std::string_view text, const char* alphabet, bool padded,
                                    unsigned char* out, size_t room) {
  SecretBytes scratch = SecretBytes::Zeroed(text.size() * 3 / 4 + 3);
  const std::optional<size_t> n = DecodeSlow(text, alphabet, padded, scratch.MutableData());
  if (!n.has_value() || *n > room) return std::nullopt;
  std::memcpy(out, scratch.data(), *n);
  return n;
}

// DecodeSlow's result, four characters at a time (`out` has Room() bytes): every full group
// before the last one goes through the pre-shifted tables; anything unusual in them (a newline,
// padding, a bad character) sends the whole text to DecodeSlow, and the last group always goes
// through it, so both accept exactly the same inputs.
std::optional<size_t> DecodeInto(std::string_view text, const char* alphabet, bool padded,
                                 unsigned char* out) {
  const std::optional<size_t> expected = FastDecodedLen(text, padded);
  if (!expected.has_value()) return DecodeSlow(text, alphabet, padded, out);
  const auto& t = TablesFor(alphabet).shifted;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t bulk = text.size() < 4 ? 0 : (text.size() - 1) / 4 * 4;
  uint32_t bad = 0;
  unsigned char* o = out;
  for (size_t i = 0; i < bulk; i += 4) {
    const uint32_t v = t[0][p[i]] | t[1][p[i + 1]] | t[2][p[i + 2]] | t[3][p[i + 3]];
    bad |= v;
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
    o += 3;
  }
  if ((bad & kBad) != 0) return DecodeSlowVia(text, alphabet, padded, out, *expected);
  unsigned char last[8];
  const std::optional<size_t> tail = DecodeSlow(text.substr(bulk), alphabet, padded, last);
  if (!tail.has_value()) return std::nullopt;
  if (bulk / 4 * 3 + *tail != *expected) {
    return DecodeSlowVia(text, alphabet, padded, out, *expected);
  }
  std::memcpy(o, last, *tail);
  return *expected;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out(EncodedLen(data.size(), true), '\0');
  EncodeInto(data, kStd, true, out.data());
  return out;
}

void Base64EncodeAppend(std::string_view data, std::string* out) {
  const size_t start = out->size();
  out->resize(start + EncodedLen(data.size(), true));
  EncodeInto(data, kStd, true, out->data() + start);
}

SecretBytes Base64EncodeSecret(std::string_view data) {
  SecretBytes out = SecretBytes::Zeroed(EncodedLen(data.size(), true));
  EncodeInto(data, kStd, true, reinterpret_cast<char*>(out.MutableData()));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out(Room(text, true), '\0');
  std::optional<size_t> n =
      DecodeInto(text, kStd, true, reinterpret_cast<unsigned char*>(out.data()));
  if (!n.has_value()) return std::nullopt;
  out.resize(*n);
  return out;
}

std::optional<SecretBytes> Base64DecodeSecret(std::string_view text) {
  // Exact-sized when the fast path applies, so the common case makes no second copy.
  SecretBytes buf = SecretBytes::Zeroed(Room(text, true));
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
  std::string out(Room(text, false), '\0');
  std::optional<size_t> n =
      DecodeInto(text, kUrl, false, reinterpret_cast<unsigned char*>(out.data()));
  if (!n.has_value()) return std::nullopt;
  out.resize(*n);
  return out;
}

namespace internal {

std::optional<std::string> Base64DecodeOneByOne(std::string_view text, bool url) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::optional<size_t> n =
      DecodeSlow(text, url ? kUrl : kStd, !url, reinterpret_cast<unsigned char*>(out.data()));
  if (!n.has_value()) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace internal
}  // namespace rekey::transit
