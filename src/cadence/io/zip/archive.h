// Reading members of a zip archive into memory through libzip (zip64, deflate and stored,
// CRC-32 checked on every whole read). E-GMD ships as one ~90 GB zip; reading its members
// straight from it spares the user an hour of extraction and as much disk again.
//
// libzip parses the archive (central directory, zip64, local headers) and reads stored members
// (CRC-checked as it goes); a deflated member's compressed bytes are read raw through libzip and
// inflated in one call by libdeflate into a buffer of the declared size, then CRC-checked: about
// three times zlib's speed, which keeps preparing from the zip near preparing from extracted files
// (bench/RESULTS.md).
//
// An Archive is not thread-safe (libzip's handle keeps a file position): each worker opens its
// own. Sizes come from the central directory and are checked before anything is allocated, so a
// member that declares more bytes than the caller allows (a zip bomb, or a member larger than the
// memory limit) is refused without reading it, and a member whose data inflates past its declared
// size is refused after reading at most one byte more.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadence::io::zip {

// Why a member could not be read (the reject reasons the pipelines report).
enum class ZipFault {
  Missing,   // no member of that name
  TooLarge,  // declared uncompressed size above the caller's limit
  Crc,       // data read whole but its CRC-32 differs from the directory's
  Corrupt,   // anything else: truncated data, a bad deflate stream, an unsupported method
};
const char* fault_name(ZipFault f) noexcept;

// what() names the archive, the member and the reason.
class ZipError : public std::runtime_error {
 public:
  ZipError(ZipFault fault, const std::string& message) : std::runtime_error(message), fault_(fault) {}
  [[nodiscard]] ZipFault fault() const noexcept { return fault_; }

 private:
  ZipFault fault_;
};

struct MemberInfo {
  std::uint64_t index = 0;
  std::uint64_t size = 0;             // uncompressed, as the central directory declares
  std::uint64_t compressed_size = 0;
  std::uint32_t crc32 = 0;
  std::uint16_t method = 0;           // 0 stored, 8 deflate (ZIP_CM_*)
  bool encrypted = false;

  // Bytes read() holds at its peak: the output, plus the compressed input when deflated. What a
  // caller reserves from the memory budget.
  [[nodiscard]] std::uint64_t read_bytes() const noexcept { return size + (method == 8 ? compressed_size : 0); }
};

class Archive {
 public:
  // Opens read-only. Throws std::runtime_error naming the file when it is not a zip, or when its
  // central directory is missing or damaged (a truncated download ends there).
  explicit Archive(const std::string& path);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Every member name, in central-directory order (directories included, ending in '/').
  [[nodiscard]] std::vector<std::string> names() const;
  // The member's entry, or nullopt when absent. Names are matched exactly.
  [[nodiscard]] std::optional<MemberInfo> stat(const std::string& name) const;
  // The whole member, decompressed and CRC-checked. Throws ZipError (Missing, TooLarge when its
  // declared size exceeds max_bytes, Crc, Corrupt).
  std::vector<std::uint8_t> read(const std::string& name, std::uint64_t max_bytes);
  std::vector<std::uint8_t> read(const MemberInfo& member, const std::string& name, std::uint64_t max_bytes);

 private:
  std::vector<std::uint8_t> inflate(const MemberInfo& member, const std::string& where);

  std::string path_;
  void* zip_ = nullptr;       // zip_t*, opaque so that users need no zip.h
  void* inflater_ = nullptr;  // libdeflate_decompressor*, made on first use
};

}  // namespace cadence::io::zip
