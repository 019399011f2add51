// SHA-256 (FIPS 180-4) for the calibration file's provenance key
// (vkq.quant.calibration_sha256). Debian has no header-only implementation
// and the project links no crypto library, so this is the plain algorithm,
// tested against the NIST vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vkq::quant {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> digest();  // finishes; the object is spent afterwards
  std::string hex_digest();          // 64 lowercase hex digits

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes
};

std::string sha256_hex(std::string_view data);

}  // namespace vkq::quant
