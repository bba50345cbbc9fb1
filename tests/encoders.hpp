#pragma once
// Encoders for formats the library reads but does not write (EVT 3.0, MAT v5) and for files
// written to break the readers (NumPy headers, zip members, PNG chunks), shared by the tests
// and the fuzzers' seed generator (which keeps the hostile ones in the corpora).
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "diffevent/events/event_stream.hpp"

namespace diffevent::test {

template <typename T>
void put_le(std::string& out, T v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((b >> (8 * i)) & 0xFF));
}

/// CRC-32 (zip's and PNG's polynomial) of a byte string.
inline uint32_t crc32(const std::string& data) {
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : data) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/// An .npy file (version 1.0) with this header dict and these data bytes.
inline std::string npy_file(const std::string& dict, const std::string& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

/// A zip of stored (uncompressed) members, as numpy.savez writes them.
inline std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  auto le = [](uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  std::string body, cd;
  for (const auto& [name, data] : members) {
    const std::string common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc32(data), 4) +
                               le(data.size(), 4) + le(data.size(), 4) + le(name.size(), 2) +
                               le(0, 2);
    cd += le(0x02014b50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) +
          le(body.size(), 4) + name;
    body += le(0x04034b50, 4) + common + name + data;
  }
  return body + cd + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(members.size(), 2) +
         le(members.size(), 2) + le(cd.size(), 4) + le(body.size(), 4) + le(0, 2);
}

inline std::string be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

/// A PNG chunk: length, type, data, CRC-32 of type + data.
inline std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

/// A 69-byte PNG whose IHDR declares w x h grey 8-bit pixels (IDAT: 12 bytes of a zlib stream).
inline std::string lying_png(uint32_t w, uint32_t h) {
  const std::string ihdr = be32(w) + be32(h) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
         png_chunk("IDAT", std::string("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01\x00\x00", 12)) +
         png_chunk("IEND", "");
}

/// A PNG whose second chunk, after a valid 4 x 4 IHDR, declares `length` bytes of zTXt data and
/// holds 3 (libpng allocated a chunk's buffer from its header before reading it).
inline std::string png_with_lying_chunk(uint32_t length) {
  const std::string ihdr = be32(4) + be32(4) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + be32(length) + "zTXtabc";
}

/// EVT 3.0: every TIME_HIGH step between events (as a sensor emits them), TIME_LOW when it
/// changes, ADDR_Y when y changes, then ADDR_X for odd indices and VECT_BASE_X + VECT_12 for
/// even ones (both decoder paths).
inline std::string encode_evt3(const EventStream& ev, const std::string& header) {
  std::string out = header;
  auto put = [&](uint16_t w) { put_le<uint16_t>(out, w); };
  int64_t low = -1, y = -1;
  for (size_t i = 0; i < ev.size(); ++i) {
    const int64_t t = ev.t_us()[i] & 0xFFFFFF;
    const int64_t step = ev.t_us()[i] >> 12;
    for (int64_t s = (i == 0 ? step : (ev.t_us()[i - 1] >> 12) + 1); s <= step; ++s)
      put(static_cast<uint16_t>(0x8000 | (s & 0xFFF)));
    if ((t & 0xFFF) != low) {
      low = t & 0xFFF;
      put(static_cast<uint16_t>(0x6000 | low));
    }
    if (ev.y()[i] != y) {
      y = ev.y()[i];
      put(static_cast<uint16_t>(y));
    }
    if (i % 2 == 0) {
      put(static_cast<uint16_t>(0x3000 | ((ev.p()[i] > 0) << 11) | ev.x()[i]));
      put(static_cast<uint16_t>(0x4000 | 1));
    } else {
      put(static_cast<uint16_t>(0x2000 | ((ev.p()[i] > 0) << 11) | ev.x()[i]));
    }
  }
  return out;
}

/// The 128-byte MAT v5 header (little-endian).
inline std::string mat_header() {
  std::string h(116, ' ');
  h.replace(0, 26, "MATLAB 5.0 MAT-file, tests");
  h.append(8, '\0');
  put_le<uint16_t>(h, 0x0100);
  h += "IM";
  return h;
}

/// One miMATRIX element: the double matrix `events`, N x 4 column-major (t us, x, y, p 0/1),
/// as ni-joint stores it. rows_claimed != N states other dimensions than the data holds.
inline std::string mat_events_element(const EventStream& ev, int64_t rows_claimed = -1) {
  const size_t n = ev.size();
  std::string m;
  put_le<uint32_t>(m, 6), put_le<uint32_t>(m, 8), put_le<uint32_t>(m, 6),
      put_le<uint32_t>(m, 0);  // flags: mxDOUBLE
  put_le<uint32_t>(m, 5), put_le<uint32_t>(m, 8);
  put_le<int32_t>(m,
                  static_cast<int32_t>(rows_claimed < 0 ? static_cast<int64_t>(n) : rows_claimed));
  put_le<int32_t>(m, 4);
  put_le<uint32_t>(m, 1), put_le<uint32_t>(m, 6);
  m += "events";
  m.append(2, '\0');
  put_le<uint32_t>(m, 9), put_le<uint32_t>(m, static_cast<uint32_t>(n * 4 * 8));
  for (size_t i = 0; i < n; ++i) put_le<double>(m, static_cast<double>(ev.t_us()[i]));
  for (size_t i = 0; i < n; ++i) put_le<double>(m, ev.x()[i]);
  for (size_t i = 0; i < n; ++i) put_le<double>(m, ev.y()[i]);
  for (size_t i = 0; i < n; ++i) put_le<double>(m, ev.p()[i] > 0 ? 1.0 : 0.0);
  std::string element;
  put_le<uint32_t>(element, 14);
  put_le<uint32_t>(element, static_cast<uint32_t>(m.size()));
  return element + m;
}

}  // namespace diffevent::test
