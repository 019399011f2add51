// Where the scorecard finds things that are not in the config's folder:
//   "models:NAME" paths: $VKQ_MODELS_DIR, then ../shared/models beside the
//     source tree (this project's steering checkout), then
//     $VKQ_CACHE_DIR/models (or ~/.cache/vkq/models), where
//     scripts/get_models.sh downloads stories260K;
//   the bundled demo config and eval sets: $VKQ_EVAL_DIR, else the source
//     tree's eval/ folder (the build records it), since `build/vkq` runs
//     from a clone.
#pragma once

#include <string>
#include <vector>

namespace vkq::eval {

// The folders searched for "models:NAME", in order.
std::vector<std::string> model_dirs();
// `p` itself unless it starts with "models:"; then the first existing
// file of that name in model_dirs(), or InputError listing where it looked
// (with a hint to run scripts/get_models.sh).
std::string resolve_model_path(const std::string& p);

// $VKQ_CACHE_DIR (default $XDG_CACHE_HOME/vkq or ~/.cache/vkq) + "/scorecard".
std::string scorecard_cache_dir();

// The eval/ folder with demo.toml and sets/.
std::string eval_data_dir();
std::string demo_config_path();

}  // namespace vkq::eval
