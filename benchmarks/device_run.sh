#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py) on a lent NVIDIA machine: what to carry, in parts.
#
# The device tool sends the repository (tracked files) plus at most 64 MiB of carried, ignored
# paths per call. The check needs about 390 MiB that the device image lacks or has in another
# version: onnxruntime-gpu (the CUDA 13 build, 244 MiB as a wheel, 218 MiB of it CUDA kernels
# that are already compressed: no smaller build exists and recompressing gains nothing),
# opencv-python-headless 5 (the GPU crop reproduces OpenCV 5's rounding), panda3d, esper, the
# GL loader .debs, and the models and clips from the posetrack cache. The device image already
# has Python 3.12, numpy, pytest and CUDA 13 + cuDNN 9 as nvidia-* packages (ORT loads those).
#
#   here:   bash benchmarks/device_run.sh prepare     # .device/part-00.. (56 MiB each) + SHA256SUMS
#           it prints one device call per part: call k carries .device/part-k and .device/SHA256SUMS
#           and runs `bash benchmarks/device_run.sh stash`; the last call runs `... check`.
#   device: bash benchmarks/device_run.sh stash       # keeps this call's part in /tmp (machine warm)
#           bash benchmarks/device_run.sh check       # joins, installs, runs; results in $OUT
#
# The calls must follow each other while the machine stays warm (30 s after each call on
# nvidia-h200): a fresh machine has lost the stashed parts, and `check` says which are missing.
# The check call is bounded at 4.5 minutes by the timeouts below (gpu_check.py at 200 frames
# for BlazePose full on four paths, on the Sports2D clip and on a 1080p clip, then the
# IO-binding and GPU-check tests); on this project's 2-core machine they took 24 s, 19 s, 16 s.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE="$ROOT/.device"            # ignored (.gitignore): travels only when named in `carry`
STASH=${POSETRACK_DEVICE_STASH:-/tmp/posetrack-device}  # on the device: earlier calls' parts
PART_MIB=56                       # 64 MiB per call, less the repository (about 5 MiB) and slack
PYTHON_VERSION=3.12               # the device image's python3
MODELS=(blazepose-full pose-detector)  # the target model and its person detector
SAMPLES=(sports2d-demo.mp4 messi5.jpg basketball1.png basketball2.png pose2sim-single-cam01.mp4)
WHEELS=(onnxruntime-gpu opencv-python-headless panda3d esper)
GL_DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

pin() {  # the locked version of a package (requirements/dev.txt)
    grep -m1 "^$1==" "$ROOT/requirements/dev.txt" | sed -E 's/^[^=]+==([^ ;]+).*/\1/'
}

prepare() {
    local stage="$DEVICE/stage" python="${PYTHON:-python3}"
    mkdir -p "$stage/whl" "$stage/gl" "$stage/cache/models" "$stage/cache/samples"
    local specs=()
    for name in "${WHEELS[@]}"; do specs+=("$name==$(pin "$name")"); done
    local platforms=()
    for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
        manylinux2014_x86_64 manylinux1_x86_64; do platforms+=(--platform "$tag"); done
    "$python" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYTHON_VERSION" \
        --implementation cp "${platforms[@]}" -d "$stage/whl" "${specs[@]}"
    if ! ls "$stage/gl/"*.deb >/dev/null 2>&1; then
        local apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
        mkdir -p /tmp/amd64/partial
        apt-get "${apt[@]}" -qq update
        (cd "$stage/gl" && apt-get "${apt[@]}" -qq download "${GL_DEBS[@]}")
    fi
    local cache="${POSETRACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/posetrack}"
    for model in "${MODELS[@]}"; do
        local found=("$cache/models/$model"-*.onnx)
        [[ -f "${found[0]}" ]] || { echo "no cached $model: run 'posetrack models fetch $model'" >&2; exit 1; }
        cp -p "$cache/models/$model"-* "$stage/cache/models/"
    done
    for sample in "${SAMPLES[@]}"; do
        [[ -f "$cache/samples/$sample" ]] || { echo "no cached sample $sample: run 'make sample'" >&2; exit 1; }
        cp -p "$cache/samples/$sample" "$stage/cache/samples/"
    done
    rm -f "$DEVICE"/part-* "$DEVICE/SHA256SUMS"
    # one uncompressed tar (its contents are compressed already), cut into parts
    tar -cf - -C "$stage" whl gl cache | split -b "${PART_MIB}M" -d -a 2 - "$DEVICE/part-"
    (cd "$DEVICE" && sha256sum part-* >SHA256SUMS)
    local parts=("$DEVICE"/part-*) last=$((${#parts[@]} - 1))
    echo "$(du -sh "$stage" | cut -f1) in ${#parts[@]} parts of ${PART_MIB} MiB: ${#parts[@]} device calls"
    for k in "${!parts[@]}"; do
        local verb=stash timeout=60
        [[ $k -eq $last ]] && verb=check timeout=330
        echo "call $((k + 1)): carry [\".device/$(basename "${parts[$k]}")\", \".device/SHA256SUMS\"]" \
            "timeout_s $timeout: bash benchmarks/device_run.sh $verb"
    done
}

missing() {  # the parts SHA256SUMS names that are not stashed yet
    while read -r _ name; do [[ -f "$STASH/$name" ]] || echo "$name"; done <"$STASH/SHA256SUMS"
}

stash() {  # keep this call's part for the last call; say what is still missing
    mkdir -p "$STASH"
    cp "$DEVICE/SHA256SUMS" "$STASH/"
    for part in "$DEVICE"/part-*; do [[ -f "$part" ]] && cp "$part" "$STASH/"; done
    echo "stashed: $(cd "$STASH" && ls part-* | tr '\n' ' ')"
    echo "missing: $(missing | tr '\n' ' ')"
}

check() {
    stash
    if [[ -n "$(missing)" ]]; then
        echo "parts missing: carry them first (a fresh machine has lost earlier ones)" >&2
        exit 1
    fi
    (cd "$STASH" && sha256sum --quiet -c SHA256SUMS)
    local bundle="$STASH/bundle" out="${OUT:-$ROOT/out}"
    mkdir -p "$bundle" "$out"
    cat "$STASH"/part-* | tar -xf - -C "$bundle"
    if [[ "${1:-}" == "--unpack-only" ]]; then ls -R "$bundle" | head -40; return; fi
    command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: this is not the device" >&2; exit 1; }
    # the GL loaders (the driver's EGL vendor library is mounted in, not its loader)
    for deb in "$bundle"/gl/*.deb; do dpkg -x "$deb" /; done
    ldconfig
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$bundle"/whl/*.whl
    # ORT looks for CUDA 13 / cuDNN 9 beside itself (site-packages/nvidia/...): the image's
    local nvidia
    nvidia=$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])')
    ln -sfn "$nvidia" /tmp/site/nvidia
    export PYTHONPATH="/tmp/site:$ROOT" POSETRACK_CACHE="$bundle/cache" PYTHONUNBUFFERED=1
    export EGL_PLATFORM=surfaceless
    if ! ls /usr/share/glvnd/egl_vendor.d/*nvidia* >/dev/null 2>&1; then
        export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    cd "$ROOT"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
    timeout 120 python3 benchmarks/gpu_check.py --models blazepose-full --frames 200 --warmup 20 \
        2>&1 | tee "$out/gpu_check.md"
    # the issue's targets are for a 1080p source: Pose2Sim's 1080 x 1920 clip
    timeout 60 python3 benchmarks/gpu_check.py --models blazepose-full --frames 200 --warmup 20 \
        --clip pose2sim-single-cam01.mp4 2>&1 | tee "$out/gpu_check_1080p.md"
    timeout 90 python3 -m pytest -q -p no:cacheprovider -rs tests/test_io_binding.py \
        tests/test_gpu_check.py 2>&1 | tee "$out/tests.txt"
}

case "${1:-}" in
    prepare) prepare ;;
    stash) stash ;;
    check) shift; check "$@" ;;
    *) echo "usage: bash benchmarks/device_run.sh prepare | stash | check [--unpack-only]" >&2; exit 2 ;;
esac
