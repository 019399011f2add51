# Sourced by the device scripts (h100_kernels.sh, h100_model.sh,
# device_all.sh) on the GPU machine, from the repo root: unpacks the Vulkan
# loader carried in .gl, points the loader at NVIDIA's ICD and the dynamic
# linker at the bundle's libraries (.device/lib), and sets $out (from $OUT)
# and $vkq.
for f in .gl/*.deb; do dpkg -x "$f" / >/dev/null 2>&1; done
ldconfig
export XDG_RUNTIME_DIR=/tmp VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export LD_LIBRARY_PATH=$PWD/.device/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VKQ_CACHE_DIR=/tmp/vkq-cache
out=${OUT:-./bench-out}
mkdir -p "$out"
vkq=.device/vkq
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv > "$out/nvidia-smi.txt" 2>&1
