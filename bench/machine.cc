#include "bench/machine.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace codec::bench {
namespace {

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// The file behind libblas.so.3 in this process, links resolved.
std::string BlasLibrary() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t path = line.find('/');
    if (path != std::string::npos && line.find("libblas.so") != std::string::npos) {
      std::error_code error;
      const std::filesystem::path real = std::filesystem::canonical(line.substr(path), error);
      return error ? line.substr(path) : real.string();
    }
  }
  return "no libblas.so loaded";
}

}  // namespace

std::string MachineSummary() {
  return absl::StrCat(CpuModel(), ", ", std::thread::hardware_concurrency(), " cores, BLAS ",
                      BlasLibrary());
}

}  // namespace codec::bench
