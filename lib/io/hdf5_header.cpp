#include "io/hdf5_header.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

constexpr uint16_t kMsgLayout = 0x0008;
constexpr uint16_t kMsgContinuation = 0x0010;
constexpr uint16_t kMsgAttribute = 0x000C;
constexpr uint16_t kMsgDatatype = 0x0003;
constexpr uint16_t kMsgSymbolTable = 0x0011;
constexpr unsigned kMaxLayoutDims = 33;  // H5O_LAYOUT_NDIMS: rank (at most 32) + element size
constexpr uint64_t kMaxBlockBytes = 1u << 20;
constexpr int kMaxBlocks = 64;

// Little-endian unsigned integer of `n` (1..8) bytes.
uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

class HeaderReader {
 public:
  HeaderReader(std::FILE* f, const Hdf5HeaderLayout& l) : f_(f), l_(l) {
    if (std::fseek(f_, 0, SEEK_END) == 0) {
      const long end = std::ftell(f_);
      size_ = end < 0 ? 0 : static_cast<uint64_t>(end);
    }
  }

  // Bytes [address, address + n) of the file (address relative to the base), or nullopt.
  std::optional<std::vector<uint8_t>> read(uint64_t address, uint64_t n) const {
    const uint64_t off = l_.base + address;
    if (off < address || n > kMaxBlockBytes || off > size_ || n > size_ - off) return std::nullopt;
    std::vector<uint8_t> buf(static_cast<size_t>(n));
    if (std::fseek(f_, static_cast<long>(off), SEEK_SET) != 0) return std::nullopt;
    if (n > 0 && std::fread(buf.data(), 1, buf.size(), f_) != buf.size()) return std::nullopt;
    return buf;
  }

  std::optional<std::string> run(uint64_t address) {
    auto sig = read(address, 4);
    if (!sig) return fmt::format("object header at address {} lies outside the file", address);
    std::optional<std::string> problem;
    if (std::memcmp(sig->data(), "OHDR", 4) == 0) {
      problem = run_v2(address);
    } else if ((*sig)[0] == 1) {
      problem = run_v1(address);
    } else {
      return fmt::format("object header at address {} has unknown version {}", address, (*sig)[0]);
    }
    if (!problem && has_symbol_table_) problem = symbol_table();
    // libhdf5 1.10.8 sizes chunk buffers from the layout but copies elements of the datatype's
    // size into them: the two must agree.
    if (!problem && layout_element_size_ && datatype_size_ &&
        layout_element_size_ != datatype_size_)
      return fmt::format("chunked layout stores {}-byte elements but the datatype has {} bytes",
                         layout_element_size_, datatype_size_);
    return problem;
  }

 private:
  struct Block {
    uint64_t address, length;
  };

  std::optional<std::string> run_v1(uint64_t address) {
    auto prefix = read(address, 16);
    if (!prefix) return fmt::format("object header at address {} is truncated", address);
    std::vector<Block> blocks{{address + 16, le(prefix->data() + 8, 4)}};
    for (size_t b = 0; b < blocks.size(); ++b) {
      if (b >= kMaxBlocks) return std::string("object header has too many continuation blocks");
      auto buf = read(blocks[b].address, blocks[b].length);
      if (!buf)
        return fmt::format(
            "object header block at address {} ({} bytes) runs past the end of the file",
            blocks[b].address, blocks[b].length);
      size_t pos = 0;
      while (pos + 8 <= buf->size()) {
        const uint8_t* m = buf->data() + pos;
        const uint16_t type = static_cast<uint16_t>(le(m, 2));
        const size_t size = static_cast<size_t>(le(m + 2, 2));
        const uint8_t flags = m[4];
        if (size > buf->size() - pos - 8)
          return fmt::format("object header message of type {} runs past its block", type);
        if (auto p = message(type, flags, m + 8, size, blocks)) return p;
        pos += 8 + size;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> run_v2(uint64_t address) {
    auto head = read(address, 6 + 16 + 4 + 8);
    if (!head) head = read(address, 7);  // a tiny header near the end of the file
    if (!head) return fmt::format("object header at address {} is truncated", address);
    const uint8_t flags = (*head)[5];
    size_t pos = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const unsigned width = 1u << (flags & 0x03);
    if (pos + width > head->size())
      return fmt::format("object header at address {} is truncated", address);
    // Chunk #0 holds messages and a gap; its 4-byte checksum follows. A continuation block is
    // "OCHK", messages and gap, checksum; its length counts all of them.
    std::vector<Block> blocks{{address + pos + width, le(head->data() + pos, width)}};
    const unsigned header_bytes = (flags & 0x04) ? 6 : 4;  // creation order tracked
    for (size_t b = 0; b < blocks.size(); ++b) {
      if (b >= kMaxBlocks) return std::string("object header has too many continuation blocks");
      auto buf = read(blocks[b].address, blocks[b].length);
      if (!buf)
        return fmt::format(
            "object header block at address {} ({} bytes) runs past the end of the file",
            blocks[b].address, blocks[b].length);
      size_t pos_b = 0, end = buf->size();
      if (b > 0) {
        if (end < 8 || std::memcmp(buf->data(), "OCHK", 4) != 0)
          return fmt::format("continuation block at address {} has no OCHK signature",
                             blocks[b].address);
        pos_b = 4;
        end -= 4;
      }
      while (pos_b + header_bytes <= end) {
        const uint8_t* m = buf->data() + pos_b;
        const uint16_t type = m[0];
        const size_t size = static_cast<size_t>(le(m + 1, 2));
        const uint8_t mflags = m[3];
        if (size > end - pos_b - header_bytes)
          return fmt::format("object header message of type {} runs past its block", type);
        if (auto p = message(type, mflags, m + header_bytes, size, blocks)) return p;
        pos_b += header_bytes + size;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> message(uint16_t type, uint8_t flags, const uint8_t* d, size_t n,
                                     std::vector<Block>& blocks) const {
    if (type == kMsgAttribute) return (flags & 0x02) ? std::nullopt : attribute(d, n);
    if (type == kMsgSymbolTable) {
      if (n < 2u * l_.sizeof_addr) return fmt::format("symbol table message has {} bytes", n);
      btree_ = le(d, l_.sizeof_addr);
      heap_ = le(d + l_.sizeof_addr, l_.sizeof_addr);
      has_symbol_table_ = true;
      return std::nullopt;
    }
    if (type == kMsgDatatype) {
      // Class and version, 3 bytes of class bits, then the element size (u32).
      if (!(flags & 0x02) && n >= 8) datatype_size_ = le(d + 4, 4);
      return std::nullopt;
    }
    if (type != kMsgContinuation && type != kMsgLayout) return std::nullopt;
    // Neither message can be shared (flag 0x02: the data would be a reference). libhdf5 1.10
    // decodes them from the data pointer whatever the flags and the size say, so a corrupt
    // flag or size must stop here, not be skipped.
    if (flags & 0x02) return fmt::format("message of type {} is marked shared", type);
    if (type == kMsgContinuation) {
      if (n < l_.sizeof_addr + l_.sizeof_size)
        return fmt::format("continuation message has {} bytes", n);
      blocks.push_back({le(d, l_.sizeof_addr), le(d + l_.sizeof_addr, l_.sizeof_size)});
      return std::nullopt;
    }
    return layout(d, n);
  }

  // An old-style group (format spec III.A.1, III.B, III.D): its v1 B-tree ("TREE" nodes of type
  // 0, children at level 0 are symbol table nodes, "SNOD") and its local heap ("HEAP"). libhdf5
  // 1.10.8 follows their addresses without checking them against the file (a read through a
  // null accumulator on a corrupt child address); every node must lie inside the file.
  std::optional<std::string> symbol_table() const {
    const unsigned O = l_.sizeof_addr, L = l_.sizeof_size;
    auto heap = read(heap_, 8 + 2 * L + O);
    if (!heap || std::memcmp(heap->data(), "HEAP", 4) != 0)
      return fmt::format("group local heap at address {} is missing", heap_);
    const uint64_t seg_size = le(heap->data() + 8, L), seg_addr = le(heap->data() + 8 + 2 * L, O);
    if (seg_size > size_ || seg_addr > size_ - seg_size)
      return fmt::format("group local heap data ({} bytes at {}) lies outside the file", seg_size,
                         seg_addr);
    const uint64_t snod_bytes =
        8 + 2ull * l_.leaf_k * (L + O + 24);  // entries: name offset, header address, cache
    std::vector<std::pair<uint64_t, int>> todo{{btree_, -1}};  // (address, expected level or -1)
    for (size_t visited = 0; !todo.empty(); ++visited) {
      if (visited >= 4096) return std::string("group B-tree has more than 4096 nodes (a cycle?)");
      const auto [address, want_level] = todo.back();
      todo.pop_back();
      auto head = read(address, 8 + 2ull * O);
      if (!head || std::memcmp(head->data(), "TREE", 4) != 0)
        return fmt::format("group B-tree node at address {} is missing", address);
      const unsigned type = (*head)[4], level = (*head)[5];
      const uint64_t entries = le(head->data() + 6, 2);
      if (type != 0 || (want_level >= 0 && level != static_cast<unsigned>(want_level)) ||
          level > 32 || entries > 2ull * l_.internal_k)
        return fmt::format(
            "group B-tree node at address {} is malformed (type {}, level {}, {} entries)", address,
            type, level, entries);
      // Keys (L bytes) and children (O bytes) alternate: key, child, key, ..., child, key.
      const uint64_t body = (entries + 1) * L + entries * O;
      auto node = read(address + 8 + 2ull * O, body);
      if (!node)
        return fmt::format("group B-tree node at address {} runs past the end of the file",
                           address);
      for (uint64_t e = 0; e < entries; ++e) {
        const uint64_t child = le(node->data() + (e + 1) * L + e * O, O);
        if (level > 0) {
          todo.emplace_back(child, static_cast<int>(level) - 1);
          continue;
        }
        auto snod = read(child, snod_bytes);
        if (!snod || std::memcmp(snod->data(), "SNOD", 4) != 0 ||
            le(snod->data() + 6, 2) > 2ull * l_.leaf_k)
          return fmt::format("symbol table node at address {} is missing, truncated or malformed",
                             child);
      }
    }
    return std::nullopt;
  }

  // Attribute message, versions 1 to 3 (IV.A.2.m): libhdf5 1.10.8 copies the name with strdup,
  // so its terminating NUL must lie inside the message, and the datatype and dataspace that
  // follow must too. It then copies (elements of the dataspace) x (datatype size) bytes of
  // value from behind them, trusting both, so the value must end inside the message as well.
  std::optional<std::string> attribute(const uint8_t* d, size_t n) const {
    if (n < 8) return fmt::format("attribute message has {} bytes", n);
    const unsigned version = d[0];
    if (version < 1 || version > 3)
      return fmt::format("attribute message has unknown version {}", version);
    const size_t name = le(d + 2, 2), type = le(d + 4, 2), space = le(d + 6, 2);
    const size_t start = version == 3 ? 9 : 8;
    auto pad = [&](size_t v) { return version == 1 ? (v + 7) / 8 * 8 : v; };
    if (name == 0 || start + name > n || d[start + name - 1] != 0)
      return std::string("attribute name is not terminated inside its message");
    const size_t value_at = start + pad(name) + pad(type) + pad(space);
    if (value_at > n) return std::string("attribute datatype and dataspace run past the message");
    // Versions 2 and 3 may point at a shared datatype or dataspace instead of holding it; the
    // value's size would then be read elsewhere, so such attributes are refused.
    if (version >= 2 && (d[1] & 0x03) != 0)
      return std::string("attribute has a shared datatype or dataspace, which is not followed");
    if (type < 8) return fmt::format("attribute datatype message has {} bytes", type);
    const uint64_t element = le(d + start + pad(name) + 4, 4);
    const auto elements = dataspace_elements(d + start + pad(name) + pad(type), space);
    if (!elements) return std::string("attribute dataspace is malformed or truncated");
    const uint64_t room = n - value_at;
    if (element != 0 && *elements > room / element)
      return fmt::format("attribute value ({} elements of {} bytes) runs past its message",
                         *elements, element);
    return std::nullopt;
  }

  // Number of elements of a dataspace message (IV.A.2.b, versions 1 and 2; the product of its
  // dimensions, saturating), nullopt when it is truncated or of another version.
  std::optional<uint64_t> dataspace_elements(const uint8_t* s, size_t n) const {
    if (n < 4) return std::nullopt;
    const unsigned version = s[0], rank = s[1];
    size_t pos = 0;
    if (version == 1) {
      pos = 8;
    } else if (version == 2) {
      if (s[3] == 2) return 0;  // the null dataspace: no elements
      pos = 4;
    } else {
      return std::nullopt;
    }
    if (pos > n || rank > (n - pos) / l_.sizeof_size) return std::nullopt;
    uint64_t count = 1;
    for (unsigned i = 0; i < rank; ++i) {
      const uint64_t dim = le(s + pos + static_cast<size_t>(i) * l_.sizeof_size, l_.sizeof_size);
      count = dim != 0 && count > UINT64_MAX / dim ? UINT64_MAX : count * dim;
    }
    return count;
  }

  // Data layout message, versions 1 to 4 (the spec's section IV.A.2.i).
  std::optional<std::string> layout(const uint8_t* d, size_t n) const {
    if (n < 2) return std::string("layout message is truncated");
    const unsigned version = d[0];
    unsigned cls, ndims, width = 4;
    size_t pos;
    if (version == 1 || version == 2) {
      if (n < 8) return std::string("layout message is truncated");
      ndims = d[1];
      cls = d[2];
      pos = 8 + (cls != 0 ? l_.sizeof_addr : 0);
    } else if (version == 3) {
      cls = d[1];
      if (cls != 2) return std::nullopt;
      if (n < 3) return std::string("layout message is truncated");
      ndims = d[2];
      pos = 3 + l_.sizeof_addr;
    } else if (version == 4) {
      cls = d[1];
      if (cls != 2) return std::nullopt;
      if (n < 5) return std::string("layout message is truncated");
      ndims = d[3];
      width = d[4];
      pos = 5;
      if (width < 1 || width > 8)
        return fmt::format("chunked layout encodes its dimensions in {} bytes", width);
    } else {
      return fmt::format("layout message has unknown version {}", version);
    }
    if (cls != 2) return std::nullopt;
    if (ndims < 2 || ndims > kMaxLayoutDims)
      return fmt::format("chunked layout has {} dimensions (expected 2 to {})", ndims,
                         kMaxLayoutDims);
    if (pos + static_cast<size_t>(ndims) * width > n)
      return std::string("chunked layout message is truncated");
    for (unsigned i = 0; i < ndims; ++i) {
      if (le(d + pos + static_cast<size_t>(i) * width, width) == 0)
        return fmt::format("chunked layout has a zero size in dimension {}", i);
    }
    layout_element_size_ =
        le(d + pos + static_cast<size_t>(ndims - 1) * width, width);  // the last "dimension"
    return std::nullopt;
  }

  std::FILE* f_;
  Hdf5HeaderLayout l_;
  uint64_t size_ = 0;
  mutable uint64_t datatype_size_ = 0, layout_element_size_ = 0, btree_ = 0, heap_ = 0;
  mutable bool has_symbol_table_ = false;
};

}  // namespace

std::optional<Hdf5Superblock> hdf5_superblock(std::FILE* file) {
  static const uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (std::fseek(file, 0, SEEK_END) != 0) return std::nullopt;
  const long end = std::ftell(file);
  if (end < 0) return std::nullopt;
  const uint64_t size = static_cast<uint64_t>(end);
  for (uint64_t at = 0; at + 8 <= size; at = at == 0 ? 512 : 2 * at) {
    uint8_t buf[128] = {};
    const uint64_t n = std::min<uint64_t>(sizeof buf, size - at);
    if (std::fseek(file, static_cast<long>(at), SEEK_SET) != 0 || std::fread(buf, 1, n, file) != n)
      return std::nullopt;
    if (std::memcmp(buf, kSignature, 8) != 0) continue;
    Hdf5Superblock sb;
    const unsigned version = buf[8];
    size_t pos;
    if (version <= 1) {
      // Versions 0/1: versions of parts, sizes at 13/14, node K values, flags; version 1 adds 4
      // bytes. Then base, free-space, end-of-file and driver addresses, then the root group's
      // symbol table entry (link name offset, object header address, ...).
      if (n < 24) return std::nullopt;
      sb.layout.sizeof_addr = buf[13];
      sb.layout.sizeof_size = buf[14];
      sb.layout.leaf_k = static_cast<unsigned>(le(buf + 16, 2));
      sb.layout.internal_k = static_cast<unsigned>(le(buf + 18, 2));
      pos = 24 + (version == 1 ? 4 : 0);
      const unsigned o = sb.layout.sizeof_addr;
      if (o < 2 || o > 8 || pos + 6 * o > n) return std::nullopt;
      sb.root_address = le(buf + pos + 5 * o, o);
    } else if (version <= 3) {
      // Versions 2/3: sizes at 9/10, flags, then base, extension, end-of-file and root group
      // object header addresses.
      sb.layout.sizeof_addr = buf[9];
      sb.layout.sizeof_size = buf[10];
      const unsigned o = sb.layout.sizeof_addr;
      pos = 12;
      if (o < 2 || o > 8 || pos + 4 * o > n) return std::nullopt;
      sb.root_address = le(buf + pos + 3 * o, o);
    } else {
      return std::nullopt;
    }
    if (sb.layout.sizeof_size < 2 || sb.layout.sizeof_size > 8) return std::nullopt;
    sb.layout.base = at;  // addresses count from the superblock (after any user block)
    return sb;
  }
  return std::nullopt;
}

std::optional<std::string> hdf5_layout_problem(std::FILE* file, uint64_t address,
                                               const Hdf5HeaderLayout& layout) {
  if (layout.sizeof_addr < 2 || layout.sizeof_addr > 8 || layout.sizeof_size < 2 ||
      layout.sizeof_size > 8)
    return fmt::format("superblock sizes of offsets/lengths {}/{} are invalid", layout.sizeof_addr,
                       layout.sizeof_size);
  return HeaderReader(file, layout).run(address);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
