#include "cadence/io/zip/archive.h"

#include <libdeflate.h>
#include <zip.h>

#include <algorithm>

namespace cadence::io::zip {

const char* fault_name(ZipFault f) noexcept {
  switch (f) {
    case ZipFault::Missing: return "missing";
    case ZipFault::TooLarge: return "too_large";
    case ZipFault::Crc: return "crc_mismatch";
    case ZipFault::Corrupt: return "corrupt";
  }
  return "?";
}

namespace {

zip_t* handle(void* p) { return static_cast<zip_t*>(p); }

std::string error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// Closes the member on every path out of read().
struct FileCloser {
  zip_file_t* f;
  ~FileCloser() {
    if (f) zip_fclose(f);
  }
};

}  // namespace

Archive::Archive(const std::string& path) : path_(path) {
  int code = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!zip_) {
    std::string hint = code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS
                           ? " (no intact central directory: a truncated or damaged download? "
                             "check its size, or download it again)"
                           : "";
    throw std::runtime_error(path + ": cannot open as a zip archive: " + error_text(code) + hint);
  }
}

Archive::~Archive() {
  if (zip_) zip_discard(handle(zip_));  // read-only: nothing to write back
  if (inflater_) libdeflate_free_decompressor(static_cast<libdeflate_decompressor*>(inflater_));
}

std::vector<std::string> Archive::names() const {
  const zip_int64_t n = zip_get_num_entries(handle(zip_), 0);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(std::max<zip_int64_t>(n, 0)));
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(handle(zip_), static_cast<zip_uint64_t>(i), 0);
    out.emplace_back(name ? name : "");
  }
  return out;
}

std::optional<MemberInfo> Archive::stat(const std::string& name) const {
  const zip_int64_t index = zip_name_locate(handle(zip_), name.c_str(), 0);
  if (index < 0) return std::nullopt;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(handle(zip_), static_cast<zip_uint64_t>(index), 0, &st) != 0) return std::nullopt;
  MemberInfo m;
  m.index = static_cast<std::uint64_t>(index);
  m.size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
  m.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
  m.crc32 = (st.valid & ZIP_STAT_CRC) ? st.crc : 0;
  m.method = (st.valid & ZIP_STAT_COMP_METHOD) ? st.comp_method : 0;
  m.encrypted = (st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE;
  return m;
}

std::vector<std::uint8_t> Archive::read(const std::string& name, std::uint64_t max_bytes) {
  const auto member = stat(name);
  if (!member) throw ZipError(ZipFault::Missing, path_ + ": no member '" + name + "' in the archive");
  return read(*member, name, max_bytes);
}

std::vector<std::uint8_t> Archive::read(const MemberInfo& member, const std::string& name,
                                        std::uint64_t max_bytes) {
  const std::string where = path_ + ": member '" + name + "'";
  // Checked before any allocation: the declared size is what a zip bomb inflates to.
  if (member.size > max_bytes)
    throw ZipError(ZipFault::TooLarge, where + " declares " + std::to_string(member.size) +
                                           " bytes uncompressed, more than the " + std::to_string(max_bytes) +
                                           " allowed (the memory limit); raise --memory-limit if it is genuine");
  if (member.method != ZIP_CM_STORE && member.method != ZIP_CM_DEFLATE)
    throw ZipError(ZipFault::Corrupt, where + ": compression method " + std::to_string(member.method) +
                                          " is not supported (stored and deflate are)");
  if (member.encrypted) throw ZipError(ZipFault::Corrupt, where + " is encrypted; extract it with its password");
  if (member.method == ZIP_CM_DEFLATE) {
    if (member.compressed_size > max_bytes)
      throw ZipError(ZipFault::TooLarge, where + " has " + std::to_string(member.compressed_size) +
                                             " compressed bytes, more than the " + std::to_string(max_bytes) +
                                             " allowed (the memory limit)");
    return inflate(member, where);
  }
  zip_file_t* f = zip_fopen_index(handle(zip_), member.index, 0);
  if (!f) {
    throw ZipError(ZipFault::Corrupt, where + ": cannot open: " + zip_strerror(handle(zip_)));
  }
  FileCloser closer{f};
  auto fail = [&](const char* what) -> ZipError {
    const int code = zip_error_code_zip(zip_file_get_error(f));
    if (code == ZIP_ER_CRC)
      return ZipError(ZipFault::Crc, where + ": CRC-32 mismatch, the data is damaged (download it again)");
    return ZipError(ZipFault::Corrupt, where + ": " + what + ": " + error_text(code) +
                                           " (a truncated or damaged archive? download it again)");
  };
  std::vector<std::uint8_t> out(static_cast<std::size_t>(member.size));
  std::uint64_t got = 0;
  while (got < member.size) {
    const zip_int64_t n = zip_fread(f, out.data() + got, member.size - got);
    if (n < 0) throw fail("read failed");
    if (n == 0)
      throw ZipError(ZipFault::Corrupt, where + ": data ends after " + std::to_string(got) + " of " +
                                            std::to_string(member.size) + " declared bytes (truncated archive?)");
    got += static_cast<std::uint64_t>(n);
  }
  // One more read: it must find the end (that is where libzip checks the CRC and the size), and
  // a member that inflates past its declared size is refused here, one byte over at most.
  std::uint8_t extra = 0;
  const zip_int64_t tail = zip_fread(f, &extra, 1);
  if (tail < 0) throw fail("check at the end of the data");
  if (tail > 0)
    throw ZipError(ZipFault::Corrupt, where + ": holds more data than the " + std::to_string(member.size) +
                                          " bytes it declares (a zip bomb or a damaged directory)");
  return out;
}

std::vector<std::uint8_t> Archive::inflate(const MemberInfo& member, const std::string& where) {
  // The raw deflate stream, as stored (libzip locates it past the local header, zip64 or not).
  std::vector<std::uint8_t> in(static_cast<std::size_t>(member.compressed_size));
  {
    zip_file_t* f = zip_fopen_index(handle(zip_), member.index, ZIP_FL_COMPRESSED);
    if (!f) throw ZipError(ZipFault::Corrupt, where + ": cannot open: " + zip_strerror(handle(zip_)));
    FileCloser closer{f};
    std::uint64_t got = 0;
    while (got < in.size()) {
      const zip_int64_t n = zip_fread(f, in.data() + got, in.size() - got);
      if (n < 0)
        throw ZipError(ZipFault::Corrupt, where + ": read failed: " +
                                              error_text(zip_error_code_zip(zip_file_get_error(f))) +
                                              " (a truncated or damaged archive? download it again)");
      if (n == 0)
        throw ZipError(ZipFault::Corrupt, where + ": compressed data ends after " + std::to_string(got) + " of " +
                                              std::to_string(in.size()) + " bytes (truncated archive?)");
      got += static_cast<std::uint64_t>(n);
    }
  }
  if (!inflater_) {
    inflater_ = libdeflate_alloc_decompressor();
    if (!inflater_) throw std::bad_alloc();
  }
  // Exactly the declared size: longer data fails (INSUFFICIENT_SPACE) without writing past it.
  std::vector<std::uint8_t> out(static_cast<std::size_t>(member.size));
  const auto rc = libdeflate_deflate_decompress(static_cast<libdeflate_decompressor*>(inflater_), in.data(),
                                                in.size(), out.data(), out.size(), nullptr);
  switch (rc) {
    case LIBDEFLATE_SUCCESS: break;
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      throw ZipError(ZipFault::Corrupt, where + ": holds more data than the " + std::to_string(member.size) +
                                            " bytes it declares (a zip bomb or a damaged directory)");
    case LIBDEFLATE_SHORT_OUTPUT:
      throw ZipError(ZipFault::Corrupt, where + ": data ends before the " + std::to_string(member.size) +
                                            " bytes it declares (damaged archive? download it again)");
    default:
      throw ZipError(ZipFault::Corrupt, where + ": damaged deflate data (download it again)");
  }
  if (libdeflate_crc32(0, out.data(), out.size()) != member.crc32)
    throw ZipError(ZipFault::Crc, where + ": CRC-32 mismatch, the data is damaged (download it again)");
  return out;
}

}  // namespace cadence::io::zip
