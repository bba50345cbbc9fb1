// The object-header reader that vets HDF5 layout messages before libhdf5 opens a dataset
// (libhdf5 1.10.8 divides by the chunk dimensions: SIGFPE on a zero).
#include "io/hdf5_header.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "test_util.hpp"

using diffevent::detail::hdf5_layout_problem;
using diffevent::detail::Hdf5HeaderLayout;

namespace {

void put(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    s.push_back(static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xff : 0));  // n may exceed 8
}

// A version-3 chunked layout message body: version, class, dimensionality, address, dims (u32).
std::string layout_v3(std::initializer_list<uint32_t> dims) {
  std::string m;
  put(m, 3, 1);
  put(m, 2, 1);
  put(m, dims.size(), 1);
  put(m, 0x1000, 8);
  for (uint32_t d : dims) put(m, d, 4);
  while (m.size() % 8) m.push_back('\0');
  return m;
}

// A version-4 chunked layout message: flags, dimensionality, encoded width, dims, index type.
std::string layout_v4(std::initializer_list<uint64_t> dims, int width) {
  std::string m;
  put(m, 4, 1);
  put(m, 2, 1);
  put(m, 0, 1);
  put(m, dims.size(), 1);
  put(m, static_cast<uint64_t>(width), 1);
  for (uint64_t d : dims) put(m, d, width);
  put(m, 1, 1);  // single-chunk index
  put(m, 0x2000, 8);
  return m;
}

// A version-1 object header at offset 0 with the given (type, body) messages.
std::string header_v1(const std::vector<std::pair<uint16_t, std::string>>& msgs) {
  std::string body;
  for (const auto& [type, data] : msgs) {
    put(body, type, 2);
    put(body, data.size(), 2);
    put(body, 0, 4);
    body += data;
  }
  std::string h;
  put(h, 1, 1);
  put(h, 0, 1);
  put(h, msgs.size(), 2);
  put(h, 1, 4);
  put(h, body.size(), 4);
  put(h, 0, 4);
  return h + body;
}

// A version-2 message: type (1), size (2), flags (1), body.
std::string msg_v2(uint8_t type, const std::string& data) {
  std::string m;
  put(m, type, 1);
  put(m, data.size(), 2);
  put(m, 0, 1);
  return m + data;
}

// A version-2 object header at offset 0 whose chunk #0 holds `chunk0` (messages), then its
// checksum, then `tail` (continuation blocks).
std::string header_v2(const std::string& chunk0, const std::string& tail = "") {
  std::string h = "OHDR";
  put(h, 2, 1);
  put(h, 0x01, 1);  // chunk #0 size in 2 bytes
  put(h, chunk0.size(), 2);
  return h + chunk0 + std::string(4, '\0') + tail;
}

std::optional<std::string> problem(const std::string& bytes, uint64_t address = 0) {
  diffevent::test::TempDir dir;
  const std::string path = dir.file("h.bin");
  {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
    std::fwrite(bytes.data(), 1, bytes.size(), f.get());
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  return hdf5_layout_problem(f.get(), address, Hdf5HeaderLayout{});
}

}  // namespace

TEST(Hdf5Header, AcceptsWellFormedChunkedLayoutsInBothHeaderVersions) {
  // Given chunked layouts (1000 elements of 2 bytes) in a v1 header and in a v2 header.
  EXPECT_EQ(problem(header_v1({{0x0001, std::string(16, '\0')}, {0x0008, layout_v3({1000, 2})}})),
            std::nullopt);
  EXPECT_EQ(
      problem(header_v2(msg_v2(1, std::string(8, '\0')) + msg_v2(8, layout_v4({1000, 2}, 4)))),
      std::nullopt);
  // A compact or contiguous layout carries no chunk dimensions to check.
  std::string contiguous;
  put(contiguous, 3, 1);
  put(contiguous, 1, 1);
  put(contiguous, 0x800, 8);
  put(contiguous, 4000, 8);
  EXPECT_EQ(problem(header_v1({{0x0008, contiguous}})), std::nullopt);
}

TEST(Hdf5Header, RejectsAZeroChunkDimensionInEveryLayoutVersion) {
  // Given a zero chunk size (what made libhdf5 1.10.8 divide by zero in H5Dopen2).
  EXPECT_EQ(problem(header_v1({{0x0008, layout_v3({0, 2})}})),
            "chunked layout has a zero size in dimension 0");
  EXPECT_EQ(problem(header_v2(msg_v2(8, layout_v4({1000, 0}, 4)))),
            "chunked layout has a zero size in dimension 1");
  EXPECT_EQ(problem(header_v2(msg_v2(8, layout_v4({7, 0, 2}, 8)))),
            "chunked layout has a zero size in dimension 1");
  // Version 1/2 layouts: version, dimensionality, class, 5 reserved bytes, address, u32 dims.
  std::string v1;
  put(v1, 1, 1);
  put(v1, 2, 1);
  put(v1, 2, 1);
  put(v1, 0, 5);
  put(v1, 0x800, 8);
  put(v1, 64, 4);
  put(v1, 0, 4);
  EXPECT_EQ(problem(header_v1({{0x0008, v1}})), "chunked layout has a zero size in dimension 1");
}

TEST(Hdf5Header, RejectsImpossibleDimensionalityWidthAndVersion) {
  EXPECT_EQ(problem(header_v1({{0x0008, layout_v3({})}})),
            "chunked layout has 0 dimensions (expected 2 to 33)");
  EXPECT_EQ(problem(header_v1({{0x0008, layout_v3({5})}})),
            "chunked layout has 1 dimensions (expected 2 to 33)");
  EXPECT_EQ(problem(header_v2(msg_v2(8, layout_v4({4, 2}, 9)))),
            "chunked layout encodes its dimensions in 9 bytes");
  std::string v9(8, '\0');
  v9[0] = 9;
  EXPECT_EQ(problem(header_v1({{0x0008, v9}})), "layout message has unknown version 9");
  // Dimensions claimed beyond the message's end.
  std::string cut = layout_v3({1000, 2});
  cut[2] = 6;
  cut.resize(19);
  EXPECT_EQ(problem(header_v1({{0x0008, cut}})), "chunked layout message is truncated");
}

TEST(Hdf5Header, FollowsContinuationBlocks) {
  // Given a v2 header whose chunk #0 only continues to an OCHK block holding the layout.
  auto with_layout = [](const std::string& layout) {
    std::string cont;
    const std::string block = "OCHK" + msg_v2(8, layout) + std::string(4, '\0');
    const std::string head_without_cont = header_v2(msg_v2(0x10, std::string(16, '\0')));
    put(cont, head_without_cont.size(), 8);  // the block follows the header
    put(cont, block.size(), 8);
    return header_v2(msg_v2(0x10, cont), block);
  };
  EXPECT_EQ(problem(with_layout(layout_v4({1000, 2}, 2))), std::nullopt);
  EXPECT_EQ(problem(with_layout(layout_v4({0, 2}, 2))),
            "chunked layout has a zero size in dimension 0");
  // The same for a v1 header: continuation blocks hold bare messages.
  const std::string block_body = layout_v3({0, 4});
  std::string block;
  put(block, 0x0008, 2);
  put(block, block_body.size(), 2);
  put(block, 0, 4);
  block += block_body;
  std::string cont;
  put(cont, 16 + 8 + 16, 8);
  put(cont, block.size(), 8);
  EXPECT_EQ(problem(header_v1({{0x0010, cont}}) + block),
            "chunked layout has a zero size in dimension 0");
}

TEST(Hdf5Header, ReportsMalformedFramingInsteadOfReadingPastIt) {
  // A continuation that points back at its own header never ends: the walk stops at 64 blocks.
  std::string cont;
  put(cont, 16, 8);
  put(cont, 24, 8);
  EXPECT_EQ(problem(header_v1({{0x0010, cont}})), "object header has too many continuation blocks");
  // A block past the end of the file, a message longer than its block, an unknown header.
  std::string far;
  put(far, 1u << 20, 8);
  put(far, 64, 8);
  EXPECT_EQ(problem(header_v1({{0x0010, far}})),
            "object header block at address 1048576 (64 bytes) runs past the end of the file");
  std::string h = header_v1({{0x0001, std::string(8, '\0')}});
  h[16 + 2] = 100;  // message size 100 in a 16-byte block
  EXPECT_EQ(problem(h), "object header message of type 1 runs past its block");
  EXPECT_EQ(problem(std::string(32, '\x07')), "object header at address 0 has unknown version 7");
  EXPECT_EQ(problem("OH"), "object header at address 0 lies outside the file");
  EXPECT_EQ(problem(header_v1({})), std::nullopt);
  // A continuation message of size 0 (libhdf5 decoded the next message's bytes as a 4 GB
  // block), and one marked shared.
  EXPECT_EQ(problem(header_v1({{0x0010, ""}, {0x0001, std::string(16, '\x7f')}})),
            "continuation message has 0 bytes");
  std::string shared = header_v1({{0x0010, std::string(16, '\0')}});
  shared[16 + 4] = 0x02;
  EXPECT_EQ(problem(shared), "message of type 16 is marked shared");
}

TEST(Hdf5Header, ChecksAttributeNamesAndSizes) {
  // Version-1 attribute: version, reserved, name size (with NUL), datatype size, dataspace
  // size, then the name, datatype and dataspace each padded to 8 bytes.
  auto attr = [](const std::string& name_with_nul, size_t type_size, size_t space_size,
                 size_t total) {
    std::string m;
    put(m, 1, 1);
    put(m, 0, 1);
    put(m, name_with_nul.size(), 2);
    put(m, type_size, 2);
    put(m, space_size, 2);
    m += name_with_nul;
    m.resize(total, '\0');
    // A scalar dataspace (version 1, rank 0) where there is room for one.
    const size_t space_at = 8 + (name_with_nul.size() + 7) / 8 * 8 + (type_size + 7) / 8 * 8;
    if (space_at < total) m[space_at] = 1;
    return m;
  };
  EXPECT_EQ(problem(header_v1({{0x000C, attr(std::string("t0\0", 3), 8, 8, 8 + 8 + 8 + 8 + 8)}})),
            std::nullopt);
  EXPECT_EQ(problem(header_v1({{0x000C, attr("t0xx", 8, 8, 40)}})),
            "attribute name is not terminated inside its message");
  EXPECT_EQ(problem(header_v1({{0x000C, attr(std::string("t0\0", 3), 64, 8, 40)}})),
            "attribute datatype and dataspace run past the message");
}

TEST(Hdf5Header, AttributeValuesMustEndInsideTheirMessage) {
  // Version-3 attribute (flags, name, datatype, dataspace sizes, encoding, then the three
  // unpadded) holding `count` float64 values in a 1-D dataspace, with `value_bytes` of value.
  auto attr = [](uint64_t count, size_t value_bytes, uint8_t flags = 0) {
    std::string type, space, m;
    put(type, 0x11, 1);  // floating point, version 1
    put(type, 0x20, 1);  // IEEE little-endian bit fields
    put(type, 0x3f, 1);
    put(type, 0, 1);
    put(type, 8, 4);   // element size
    put(type, 0, 4);   // bit offset, precision
    put(space, 2, 1);  // dataspace version 2
    put(space, 1, 1);  // rank 1
    put(space, 0, 1);  // no maximum dimensions
    put(space, 1, 1);  // simple
    put(space, count, 8);
    put(m, 3, 1);
    put(m, flags, 1);
    put(m, 3, 2);
    put(m, type.size(), 2);
    put(m, space.size(), 2);
    put(m, 0, 1);  // ASCII name
    m += std::string("c0\0", 3) + type + space + std::string(value_bytes, '\0');
    return m;
  };
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(1, 8)))), std::nullopt);
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(4, 32)))), std::nullopt);
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(0, 0)))), std::nullopt);
  // libhdf5 1.10.8 would copy 8 x 6 bytes out of a message that holds 8.
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(6, 8)))),
            "attribute value (6 elements of 8 bytes) runs past its message");
  // A count whose product with the element size wraps around 2^64 is caught too.
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(uint64_t{1} << 61, 8)))),
            "attribute value (2305843009213693952 elements of 8 bytes) runs past its message");
  EXPECT_EQ(problem(header_v2(msg_v2(0x0C, attr(1, 8, 0x01)))),
            "attribute has a shared datatype or dataspace, which is not followed");
}

TEST(Hdf5Header, ChunkElementSizeMustMatchTheDatatype) {
  // Datatype message: class/version, 3 bytes of class bits, size (u32), properties.
  auto dtype = [](uint32_t size) {
    std::string m;
    put(m, 0x10, 1);  // fixed-point, version 1
    put(m, 0, 3);
    put(m, size, 4);
    put(m, 0, 8);
    return m;
  };
  EXPECT_EQ(problem(header_v1({{0x0003, dtype(2)}, {0x0008, layout_v3({1000, 2})}})), std::nullopt);
  EXPECT_EQ(problem(header_v1({{0x0003, dtype(5)}, {0x0008, layout_v3({1000, 2})}})),
            "chunked layout stores 2-byte elements but the datatype has 5 bytes");
}

TEST(Hdf5Header, WalksOldStyleGroupTreesInsideTheFile) {
  // Layout: v1 header (symbol table message: B-tree, heap) at 0; local heap "HEAP" at 64 with
  // 16 data bytes at 96; B-tree "TREE" (type 0) at 112; symbol table node "SNOD" at 200.
  auto file = [](uint64_t heap_data, unsigned tree_level, uint64_t child) {
    std::string stab;
    put(stab, 112, 8);
    put(stab, 64, 8);
    std::string f = header_v1({{0x0011, stab}});
    f.resize(64, '\0');
    f += "HEAP";
    put(f, 0, 4);
    put(f, 16, 8);
    put(f, 0, 8);
    put(f, heap_data, 8);
    f.resize(112, '\0');
    f += "TREE";
    put(f, 0, 1);
    put(f, tree_level, 1);
    put(f, 1, 2);
    put(f, ~0ull, 8);
    put(f, ~0ull, 8);
    put(f, 0, 8);  // key, child, key
    put(f, child, 8);
    put(f, 8, 8);
    f.resize(200, '\0');
    f += "SNOD";
    put(f, 1, 1);
    put(f, 0, 1);
    put(f, 1, 2);
    f.resize(200 + 8 + 2 * 4 * 40, '\0');  // leaf K 4: 8 entries of 40 bytes
    return f;
  };
  EXPECT_EQ(problem(file(96, 0, 200)), std::nullopt);
  EXPECT_EQ(problem(file(1u << 30, 0, 200)),
            "group local heap data (16 bytes at 1073741824) lies outside the file");
  EXPECT_EQ(problem(file(96, 0, 1u << 30)),
            "symbol table node at address 1073741824 is missing, truncated or malformed");
  // A level-1 node whose child is itself: the child must be at level 0, so the walk stops.
  EXPECT_EQ(problem(file(96, 1, 112)),
            "group B-tree node at address 112 is malformed (type 0, level 1, 1 entries)");
}
