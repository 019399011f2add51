// Where tests and fuzz targets find the models that come from elsewhere
// (stories260K.bin, tok512.bin): VKQ_MODELS_DIR, default ../shared/models
// beside the source tree. Never copies in the repository.
#pragma once

#include <cstdlib>
#include <string>

namespace vkq::test {

inline std::string models_dir() {
  const char* e = std::getenv("VKQ_MODELS_DIR");
  return e && *e ? std::string(e) : std::string(VKQ_SOURCE_DIR) + "/../shared/models";
}

}  // namespace vkq::test
