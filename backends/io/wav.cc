#include "backends/io/wav.h"

#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/io/read_file.h"

namespace codec::io {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Samples read per sf_readf_float call; the header's frame count is not
// trusted for allocation.
constexpr sf_count_t kBlockSamples = 1 << 16;

// A write failure with libsndfile's error `code` and `reason`: the
// errno-derived code for system errors, otherwise INVALID_ARGUMENT
// (libsndfile refused the parameters).
absl::Status WriteError(const std::string& path, int code, const char* reason) {
  const int system_error = errno;
  const std::string message = absl::StrCat("cannot write audio '", path, "': ", reason);
  if (code == SF_ERR_SYSTEM && system_error != 0) {
    return absl::Status(absl::ErrnoToStatusCode(system_error), message);
  }
  return absl::InvalidArgumentError(message);
}

// libsndfile's view of bytes in memory.
struct MemoryFile {
  const std::string& bytes;
  sf_count_t position = 0;
};

SF_VIRTUAL_IO MemoryIo() {
  SF_VIRTUAL_IO io{};
  io.get_filelen = [](void* data) -> sf_count_t {
    return static_cast<sf_count_t>(static_cast<MemoryFile*>(data)->bytes.size());
  };
  io.seek = [](sf_count_t offset, int whence, void* data) -> sf_count_t {
    auto* file = static_cast<MemoryFile*>(data);
    const sf_count_t size = static_cast<sf_count_t>(file->bytes.size());
    const sf_count_t base = whence == SEEK_CUR ? file->position : whence == SEEK_END ? size : 0;
    if (offset > size || offset < -size) return -1;  // Also keeps base + offset in range.
    const sf_count_t target = base + offset;
    if (target < 0 || target > size) return -1;
    file->position = target;
    return target;
  };
  io.read = [](void* out, sf_count_t count, void* data) -> sf_count_t {
    auto* file = static_cast<MemoryFile*>(data);
    const sf_count_t left = static_cast<sf_count_t>(file->bytes.size()) - file->position;
    const sf_count_t n = std::clamp<sf_count_t>(count, 0, left);
    std::memcpy(out, file->bytes.data() + file->position, static_cast<size_t>(n));
    file->position += n;
    return n;
  };
  io.write = [](const void*, sf_count_t, void*) -> sf_count_t { return 0; };
  io.tell = [](void* data) -> sf_count_t { return static_cast<MemoryFile*>(data)->position; };
  return io;
}

}  // namespace

absl::StatusOr<Audio> ReadWav(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return ParseAudioFile(*bytes, path);
}

absl::StatusOr<Audio> ParseAudioFile(const std::string& bytes, const std::string& name) {
  const std::string& path = name;
  MemoryFile memory{bytes};
  SF_VIRTUAL_IO io = MemoryIo();
  SF_INFO info{};
  SndfilePtr file(sf_open_virtual(&io, SFM_READ, &info, &memory));
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read audio '", path, "': ", sf_strerror(nullptr)));
  }
  if (info.channels < 1 || info.samplerate < 1) {
    return absl::InvalidArgumentError(absl::StrCat("audio file '", path, "' declares ",
                                                   info.channels, " channel(s) at ",
                                                   info.samplerate, " Hz"));
  }
  const sf_count_t block_frames = std::max<sf_count_t>(1, kBlockSamples / info.channels);
  std::vector<float> block(static_cast<size_t>(block_frames * info.channels));
  std::vector<float> interleaved;
  sf_count_t read = 0;
  while ((read = sf_readf_float(file.get(), block.data(), block_frames)) > 0) {
    interleaved.insert(interleaved.end(), block.begin(), block.begin() + read * info.channels);
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    return absl::DataLossError(
        absl::StrCat("error reading audio '", path, "': ", sf_strerror(file.get())));
  }
  if (interleaved.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("audio file '", path, "' holds no frames"));
  }
  Audio audio;
  audio.sample_rate = info.samplerate;
  audio.channels = info.channels;
  audio.samples.resize(interleaved.size());
  const int64_t frames = audio.num_frames();
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < audio.channels; ++c) {
      audio.samples[c * frames + t] = interleaved[t * audio.channels + c];
    }
  }
  return audio;
}

absl::Status WriteWavFloat32(const std::string& path, const Audio& audio) {
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = audio.channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  if (audio.sample_rate < 1 || !sf_format_check(&info) ||
      audio.samples.size() % audio.channels != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write audio '", path, "': invalid audio (", audio.sample_rate, " Hz, ",
                     audio.channels, " channel(s), ", audio.samples.size(), " samples)"));
  }
  const int64_t frames = audio.num_frames();
  std::vector<float> interleaved(audio.samples.size());
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < audio.channels; ++c) {
      interleaved[t * audio.channels + c] = audio.samples[c * frames + t];
    }
  }
  errno = 0;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) return WriteError(path, sf_error(nullptr), sf_strerror(nullptr));
  if (sf_writef_float(file.get(), interleaved.data(), frames) != frames) {
    return WriteError(path, sf_error(file.get()), sf_strerror(file.get()));
  }
  // Closing writes the final header sizes.
  if (const int code = sf_close(file.release()); code != SF_ERR_NO_ERROR) {
    return WriteError(path, code, sf_error_number(code));
  }
  return absl::OkStatus();
}

}  // namespace codec::io
