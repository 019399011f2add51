// Seeds of the eval-side fuzz targets (tests/fuzz/fuzz_eval_set.cpp,
// fuzz_scorecard_config.cpp, fuzz_scorecard_json.cpp), generated from the
// bundled stories-v1 set, the demo config and a small synthetic scorecard;
// test_fuzz_replay.cpp checks that tests/fuzz/corpus/ holds them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vkq::test {

// name -> file -> bytes
void add_eval_fuzz_seeds(std::map<std::string, std::map<std::string, std::vector<uint8_t>>>& seeds);

}  // namespace vkq::test
