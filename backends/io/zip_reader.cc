#include "backends/io/zip_reader.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"

namespace codec::io {
namespace {

constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64EndOfCentralDirSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kCentralDirEntrySig = 0x02014b50;
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;

// Bounds-checked little-endian reads over the archive bytes.
class Cursor {
 public:
  Cursor(const std::string& bytes, uint64_t pos) : bytes_(bytes), pos_(pos) {}

  bool Has(uint64_t n) const { return pos_ <= bytes_.size() && n <= bytes_.size() - pos_; }
  uint64_t Uint(int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += width;
    return v;
  }
  std::string Take(uint64_t n) {
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void Skip(uint64_t n) { pos_ += n; }
  uint64_t pos() const { return pos_; }

 private:
  const std::string& bytes_;
  uint64_t pos_;
};

absl::Status Truncated(const std::string& what) {
  return absl::DataLossError(absl::StrCat("zip archive is truncated or corrupt: ", what));
}

// Applies a ZIP64 extra field to the 0xFFFFFFFF placeholders of an entry.
void ApplyZip64Extra(const std::string& extra, uint64_t& uncompressed, uint64_t& compressed,
                     uint64_t& offset) {
  Cursor c(extra, 0);
  while (c.Has(4)) {
    const uint64_t id = c.Uint(2);
    const uint64_t size = c.Uint(2);
    if (!c.Has(size)) return;
    if (id != 0x0001) {
      c.Skip(size);
      continue;
    }
    Cursor field(extra, c.pos());
    uint64_t left = size;
    for (uint64_t* v : {&uncompressed, &compressed, &offset}) {
      if (*v == 0xFFFFFFFFu && left >= 8) {
        *v = field.Uint(8);
        left -= 8;
      }
    }
    return;
  }
}

absl::StatusOr<std::string> Inflate(const std::string& compressed, uint64_t size,
                                    const std::string& name) {
  constexpr uint64_t kRatioFreeBytes = 1 << 20;
  if (size > kMostInflatedBytes ||
      (size > kRatioFreeBytes && size / kMostInflateRatio > compressed.size())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("zip entry '", name, "' would inflate ", compressed.size(), " bytes to ", size,
                     "; refused (at most ", kMostInflatedBytes, " bytes, ", kMostInflateRatio,
                     " times the compressed size)"));
  }
  std::string out(size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_FINISH);
  const uint64_t produced = stream.total_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != size) {
    return absl::DataLossError(absl::StrCat("zip entry '", name, "' does not inflate cleanly"));
  }
  return out;
}

}  // namespace

absl::StatusOr<ZipReader> ZipReader::OpenFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  absl::StatusOr<ZipReader> reader = Open(std::move(bytes));
  if (!reader.ok()) {
    return absl::Status(reader.status().code(),
                        absl::StrCat(path, ": ", reader.status().message()));
  }
  return reader;
}

absl::StatusOr<ZipReader> ZipReader::Open(std::string bytes) {
  ZipReader reader;
  reader.bytes_ = std::move(bytes);
  const std::string& data = reader.bytes_;
  constexpr uint64_t kEocdSize = 22;
  if (data.size() < kEocdSize) return Truncated("too short for an end-of-central-directory record");

  // The end record sits in the last 64 KiB + 22 bytes (its comment is <= 64 KiB).
  int64_t eocd = -1;
  const int64_t lowest =
      std::max<int64_t>(0, static_cast<int64_t>(data.size()) - 65535 - kEocdSize);
  for (int64_t pos = static_cast<int64_t>(data.size() - kEocdSize); pos >= lowest; --pos) {
    Cursor c(data, pos);
    if (c.Uint(4) == kEndOfCentralDirSig) {
      eocd = pos;
      break;
    }
  }
  if (eocd < 0) return Truncated("no end-of-central-directory record");

  Cursor end(data, eocd + 4);
  end.Skip(6);  // Disk numbers and entries on this disk.
  uint64_t entry_count = end.Uint(2);
  end.Skip(4);  // Central directory size.
  uint64_t dir_offset = end.Uint(4);

  if (entry_count == 0xFFFF || dir_offset == 0xFFFFFFFFu) {
    if (eocd < 20) return Truncated("ZIP64 locator missing");
    Cursor locator(data, eocd - 20);
    if (locator.Uint(4) != kZip64LocatorSig) return Truncated("ZIP64 locator missing");
    locator.Skip(4);
    Cursor end64(data, locator.Uint(8));
    if (!end64.Has(56) || end64.Uint(4) != kZip64EndOfCentralDirSig) {
      return Truncated("bad ZIP64 end record");
    }
    end64.Skip(8 + 2 + 2 + 4 + 4 + 8);
    entry_count = end64.Uint(8);
    end64.Skip(8);
    dir_offset = end64.Uint(8);
  }

  if (entry_count > kMostZipEntries) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "zip archive lists ", entry_count, " entries; at most ", kMostZipEntries, " are read"));
  }
  Cursor dir(data, dir_offset);
  for (uint64_t i = 0; i < entry_count; ++i) {
    if (!dir.Has(46) || dir.Uint(4) != kCentralDirEntrySig) {
      return Truncated(absl::StrCat("central directory entry ", i));
    }
    dir.Skip(4);  // Versions.
    const uint64_t flags = dir.Uint(2);
    Entry entry;
    entry.method = static_cast<uint16_t>(dir.Uint(2));
    dir.Skip(4);  // Time and date.
    entry.crc32 = static_cast<uint32_t>(dir.Uint(4));
    entry.compressed_size = dir.Uint(4);
    entry.uncompressed_size = dir.Uint(4);
    const uint64_t name_len = dir.Uint(2);
    const uint64_t extra_len = dir.Uint(2);
    const uint64_t comment_len = dir.Uint(2);
    dir.Skip(8);  // Disk, attributes.
    entry.local_header_offset = dir.Uint(4);
    if (!dir.Has(name_len + extra_len + comment_len)) {
      return Truncated(absl::StrCat("central directory entry ", i));
    }
    std::string name = dir.Take(name_len);
    ApplyZip64Extra(dir.Take(extra_len), entry.uncompressed_size, entry.compressed_size,
                    entry.local_header_offset);
    dir.Skip(comment_len);
    if (flags & 0x1) {
      return absl::UnimplementedError(absl::StrCat("zip entry '", name, "' is encrypted"));
    }
    if (entry.method != kStored && entry.method != kDeflated) {
      return absl::UnimplementedError(absl::StrCat(
          "zip entry '", name, "' uses unsupported compression method ", entry.method));
    }
    reader.names_.push_back(name);
    reader.entries_[name] = entry;
  }
  return reader;
}

absl::StatusOr<std::string> ZipReader::Read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("zip archive has no entry '", name, "'"));
  }
  const Entry& entry = it->second;
  Cursor local(bytes_, entry.local_header_offset);
  if (!local.Has(30) || local.Uint(4) != kLocalHeaderSig) {
    return Truncated(absl::StrCat("local header of '", name, "'"));
  }
  local.Skip(22);
  const uint64_t name_len = local.Uint(2);
  const uint64_t extra_len = local.Uint(2);
  local.Skip(name_len + extra_len);
  if (!local.Has(entry.compressed_size)) {
    return Truncated(absl::StrCat("data of '", name, "'"));
  }
  std::string raw = local.Take(entry.compressed_size);
  std::string content;
  if (entry.method == kStored) {
    if (entry.compressed_size != entry.uncompressed_size) {
      return Truncated(absl::StrCat("sizes of stored entry '", name, "' disagree"));
    }
    content = std::move(raw);
  } else {
    ASSIGN_OR_RETURN(content, Inflate(raw, entry.uncompressed_size, name));
  }
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(content.data()), content.size()));
  if (crc != entry.crc32) {
    return absl::DataLossError(absl::StrCat("zip entry '", name, "' fails its CRC check"));
  }
  return content;
}

}  // namespace codec::io
