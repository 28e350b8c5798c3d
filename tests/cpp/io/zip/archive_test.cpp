// The zip reader: stored and deflate members read back exactly; a missing member, a member
// declaring more than allowed, a CRC mismatch, data inflating past its declared size and a
// truncated archive each fail with their own fault, without reading or allocating more.
#include "cadence/io/zip/archive.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_files.h"

namespace {

using cadence::io::zip::Archive;
using cadence::io::zip::ZipError;
using cadence::io::zip::ZipFault;

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131 + i / 7) & 0xFF);
  return v;
}

struct Member {
  std::string name;
  std::vector<std::uint8_t> data;
  std::int32_t method;  // ZIP_CM_STORE or ZIP_CM_DEFLATE
};

// Written with libzip itself: the archives are well formed unless a test damages them.
void write_zip(const std::string& path, const std::vector<Member>& members) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (const auto& m : members) {
    zip_source_t* src = zip_source_buffer(z, m.data.data(), m.data.size(), 0);
    ASSERT_NE(src, nullptr);
    const zip_int64_t idx = zip_file_add(z, m.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    ASSERT_GE(idx, 0);
    ASSERT_EQ(zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), m.method, 0), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void spit(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

ZipFault fault_of(Archive& a, const std::string& name, std::uint64_t max) {
  try {
    a.read(name, max);
  } catch (const ZipError& e) {
    return e.fault();
  }
  ADD_FAILURE() << name << " was read without error";
  return ZipFault::Missing;
}

TEST(ZipArchive, StoredAndDeflateMembersReadBackExactly) {
  TempDir dir;
  const auto a = pattern(100000), b = pattern(12345), empty = std::vector<std::uint8_t>{};
  std::vector<std::uint8_t> zeros(1 << 20, 0);
  write_zip(dir.path("x.zip"), {{"d/a.bin", a, ZIP_CM_STORE},
                                {"d/b.bin", b, ZIP_CM_DEFLATE},
                                {"zeros.bin", zeros, ZIP_CM_DEFLATE},
                                {"empty.bin", empty, ZIP_CM_STORE}});
  Archive z(dir.path("x.zip"));
  EXPECT_EQ(z.names(), (std::vector<std::string>{"d/a.bin", "d/b.bin", "zeros.bin", "empty.bin"}));
  EXPECT_EQ(z.read("d/a.bin", 1 << 30), a);
  EXPECT_EQ(z.read("d/b.bin", 1 << 30), b);
  EXPECT_EQ(z.read("zeros.bin", 1 << 30), zeros);
  EXPECT_TRUE(z.read("empty.bin", 0).empty());
  const auto s = z.stat("d/a.bin");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->size, a.size());
  EXPECT_EQ(s->method, ZIP_CM_STORE);
  EXPECT_EQ(z.stat("zeros.bin")->method, ZIP_CM_DEFLATE);
  EXPECT_LT(z.stat("zeros.bin")->compressed_size, 1u << 14);
  // Reading again (a worker reuses its handle) gives the same bytes.
  EXPECT_EQ(z.read("d/b.bin", 1 << 30), b);
}

TEST(ZipArchive, MissingAndTooLargeMembersFailBeforeReading) {
  TempDir dir;
  write_zip(dir.path("x.zip"), {{"zeros.bin", std::vector<std::uint8_t>(1 << 20, 0), ZIP_CM_DEFLATE}});
  Archive z(dir.path("x.zip"));
  EXPECT_FALSE(z.stat("nope.bin"));
  EXPECT_EQ(fault_of(z, "nope.bin", 1 << 30), ZipFault::Missing);
  // 1 MiB declared, 64 KiB allowed: refused on the declared size (a zip bomb's tell).
  EXPECT_EQ(fault_of(z, "zeros.bin", 1 << 16), ZipFault::TooLarge);
  try {
    z.read("zeros.bin", 1 << 16);
  } catch (const ZipError& e) {
    EXPECT_NE(std::string(e.what()).find("zeros.bin"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("1048576"), std::string::npos);
  }
  EXPECT_EQ(z.read("zeros.bin", 1 << 20).size(), 1u << 20);  // exactly the limit is allowed
}

TEST(ZipArchive, DamagedStoredDataIsACrcMismatch) {
  TempDir dir;
  const auto a = pattern(50000);
  write_zip(dir.path("x.zip"), {{"a.bin", a, ZIP_CM_STORE}});
  auto bytes = slurp(dir.path("x.zip"));
  // Find the member's data (stored: the bytes themselves) and flip one bit in its middle.
  const auto at = std::search(bytes.begin(), bytes.end(), a.begin(), a.begin() + 64,
                              [](char x, std::uint8_t y) { return static_cast<std::uint8_t>(x) == y; });
  ASSERT_NE(at, bytes.end());
  *(at + 25000) ^= 0x10;
  spit(dir.path("x.zip"), bytes);
  Archive z(dir.path("x.zip"));
  EXPECT_EQ(fault_of(z, "a.bin", 1 << 30), ZipFault::Crc);
}

TEST(ZipArchive, DamagedDeflateDataIsRefused) {
  TempDir dir;
  const auto a = pattern(200000);
  write_zip(dir.path("x.zip"), {{"a.bin", a, ZIP_CM_DEFLATE}});
  auto bytes = slurp(dir.path("x.zip"));
  Archive good(dir.path("x.zip"));
  const auto info = *good.stat("a.bin");
  // The compressed data lies right after the local header (30 bytes + the name): hit its middle.
  bytes[30 + 5 + info.compressed_size / 2] ^= 0x5A;
  spit(dir.path("x.zip"), bytes);
  Archive z(dir.path("x.zip"));
  const ZipFault f = fault_of(z, "a.bin", 1 << 30);
  EXPECT_TRUE(f == ZipFault::Corrupt || f == ZipFault::Crc) << cadence::io::zip::fault_name(f);
}

TEST(ZipArchive, DataInflatingPastItsDeclaredSizeIsRefused) {
  TempDir dir;
  write_zip(dir.path("x.zip"), {{"bomb.bin", std::vector<std::uint8_t>(1 << 20, 0), ZIP_CM_DEFLATE}});
  auto bytes = slurp(dir.path("x.zip"));
  // Declare 100 bytes uncompressed in the local header (offset 22) and the central directory
  // entry (offset 24): the deflate stream still holds 1 MiB.
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) bytes[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  };
  const std::string local = "PK\x03\x04", central = "PK\x01\x02";
  const auto l = std::search(bytes.begin(), bytes.end(), local.begin(), local.end());
  const auto c = std::search(bytes.begin(), bytes.end(), central.begin(), central.end());
  ASSERT_NE(l, bytes.end());
  ASSERT_NE(c, bytes.end());
  put32(static_cast<std::size_t>(l - bytes.begin()) + 22, 100);
  put32(static_cast<std::size_t>(c - bytes.begin()) + 24, 100);
  spit(dir.path("x.zip"), bytes);
  Archive z(dir.path("x.zip"));
  EXPECT_EQ(z.stat("bomb.bin")->size, 100u);
  EXPECT_EQ(fault_of(z, "bomb.bin", 1 << 30), ZipFault::Corrupt);
  try {
    z.read("bomb.bin", 1 << 30);
  } catch (const ZipError& e) {
    EXPECT_NE(std::string(e.what()).find("more data than the 100 bytes"), std::string::npos) << e.what();
  }
}

TEST(ZipArchive, TruncatedArchiveFailsToOpenNamingTheFile) {
  TempDir dir;
  write_zip(dir.path("x.zip"), {{"a.bin", pattern(50000), ZIP_CM_DEFLATE}, {"b.bin", pattern(5000), ZIP_CM_STORE}});
  auto bytes = slurp(dir.path("x.zip"));
  bytes.resize(bytes.size() / 2);
  spit(dir.path("cut.zip"), bytes);
  try {
    Archive z(dir.path("cut.zip"));
    FAIL() << "a truncated archive opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.zip"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("download it again"), std::string::npos);
  }
  EXPECT_THROW(Archive(dir.path("absent.zip")), std::runtime_error);
}

}  // namespace
