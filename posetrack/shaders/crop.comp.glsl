#version 430
// Rotated-ROI crop + bilinear resize + RGB normalisation into a model input tensor.
//
// Reproduces cv2.warpAffine(INTER_LINEAR) on uint8 BGR frames as OpenCV 5.0's SIMD kernel
// computes it (warpAffineLinearInvoker_8UC3), so the GPU and CPU paths agree to the last
// uint8 level. OpenCV works in float32:
//   row terms   mx = fl(fl(y * M1) + M2)             (not fused)
//   source x    sx = fma(M0, x, mx)                  (fused: one rounding)
//   weights     a = sx - floor(sx), b likewise
//   blend       f0 = fma(a, p01 - p00, p00); f1 = fma(a, p11 - p10, p10); f = fma(b, f1 - f0, f0)
//   store       roundEven(f) clamped to [0, 255]
// GLSL's fma() and `precise` are not enough to pin these roundings down (llvmpipe computes
// fma() as a multiply then an add), so each float32 operation is done in double and rounded
// to float once: the products here are exact in double (24-bit x 24-bit mantissas), which makes
// fused vs not fused a matter of where the explicit float() conversions are, not of the compiler.
// Then the uint8 value is scaled like numpy's `u8.astype(float32) * scale + offset`.
//
// Injected by the loader (posetrack/stages/crop_gpu.py):
//   OUT_W, OUT_H        crop size in pixels
//   LAYOUT_NCHW         0: out_tensor is (OUT_W * 3) x OUT_H (NHWC rows); 1: OUT_W x (3 * OUT_H)
//   BORDER_REPLICATE    0: taps outside the frame read 0 (BORDER_CONSTANT); 1: clamp to the edge
//   VALUE_SCALE         float32 scale of a uint8 value (bit-exact, as uintBitsToFloat)
//   VALUE_OFFSET        float32 offset added after the scale (0 or -1)

layout(local_size_x = 8, local_size_y = 8) in;

// The frame as uploaded: RGB8 unorm, texel row y = frame row y (top row first).
uniform sampler2D frame;
// Crop px -> source px, already rounded to float32 as OpenCV does: (M0, M1, M2), (M3, M4, M5).
uniform vec3 map_x;
uniform vec3 map_y;
layout(r32f) uniform writeonly image2D out_tensor;

// One tap of the 2x2 footprint: uint8 RGB values as floats, border rule applied.
vec3 tap(ivec2 p, ivec2 size) {
#if BORDER_REPLICATE
    p = clamp(p, ivec2(0), size - 1);
#else
    if (any(lessThan(p, ivec2(0))) || any(greaterThanEqual(p, size))) {
        return vec3(0.0);
    }
#endif
    // unorm8 -> float is c / 255; rounding back gives the exact uint8 value
    return round(texelFetch(frame, p, 0).rgb * 255.0);
}

void store(int x, int y, int channel, float value) {
#if LAYOUT_NCHW
    imageStore(out_tensor, ivec2(x, channel * OUT_H + y), vec4(value));
#else
    imageStore(out_tensor, ivec2(x * 3 + channel, y), vec4(value));
#endif
}

void main() {
    int x = int(gl_GlobalInvocationID.x);
    int y = int(gl_GlobalInvocationID.y);
    if (x >= OUT_W || y >= OUT_H) {
        return;
    }
    ivec2 size = textureSize(frame, 0);

    // source coordinates: float32 values, each rounding where OpenCV's kernel rounds
    float row_x = float(double(y) * double(map_x.y));
    float row_y = float(double(y) * double(map_y.y));
    float mx = float(double(row_x) + double(map_x.z));
    float my = float(double(row_y) + double(map_y.z));
    float sx = float(double(map_x.x) * double(x) + double(mx));
    float sy = float(double(map_y.x) * double(x) + double(my));
    float fx = floor(sx);
    float fy = floor(sy);
    float a = sx - fx;  // a float32 subtraction, as in OpenCV's kernel
    float b = sy - fy;
    ivec2 p = ivec2(int(fx), int(fy));

    vec3 p00 = tap(p, size);
    vec3 p01 = tap(p + ivec2(1, 0), size);
    vec3 p10 = tap(p + ivec2(0, 1), size);
    vec3 p11 = tap(p + ivec2(1, 1), size);
    vec3 f0 = vec3(dvec3(a) * dvec3(p01 - p00) + dvec3(p00));
    vec3 f1 = vec3(dvec3(a) * dvec3(p11 - p10) + dvec3(p10));
    precise vec3 step_y = f1 - f0;
    vec3 f = vec3(dvec3(b) * dvec3(step_y) + dvec3(f0));
    vec3 level = clamp(roundEven(f), 0.0, 255.0);

    precise vec3 scaled = level * VALUE_SCALE;
    precise vec3 value = scaled + VALUE_OFFSET;
    store(x, y, 0, value.r);
    store(x, y, 1, value.g);
    store(x, y, 2, value.b);
}
