// The one include for Vulkan in vkq: Vulkan-Hpp with RAII wrappers and
// dynamic dispatch (the loader is dlopen'ed at run time by vk::raii::Context).
// Build flags (VULKAN_HPP_DISPATCH_LOADER_DYNAMIC etc.) come from the
// vkq::vulkan_headers CMake target.
#pragma once

#include <vulkan/vulkan_raii.hpp>
