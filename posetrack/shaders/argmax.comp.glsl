#version 430
// Per-keypoint argmax over [H, W, K] heatmaps: a max-pool tree reduction in shared memory over
// (value, flat index) pairs that keeps the index, ties to the smaller index (numpy's argmax).
// One work group per keypoint channel: dispatch (CHANNELS, 1, 1).
// Injected by the loader: HEIGHT, WIDTH, CHANNELS, GROUP_SIZE (a power of two), and HAS_OFFSETS
// for PoseNet's decode (argmax cell * output_stride + offset at that cell).
layout(local_size_x = GROUP_SIZE) in;

// heatmaps[h, w, k] is texel (w * CHANNELS + k, h): the [H, W*K] view of the [H, W, K] array,
// so the upload is the model output's own bytes.
uniform sampler2D heatmaps;
#ifdef HAS_OFFSETS
// offsets[h, w, c] is texel (w * 2 * CHANNELS + c, h); c < CHANNELS: y, c >= CHANNELS: x.
uniform sampler2D offsets;
uniform float output_stride;
#endif
// texel (k, 0) = (x, y, max value, flat index) for keypoint k; x, y are the argmax cell's
// column and row, or with HAS_OFFSETS PoseNet's keypoint position in input pixels.
layout(rgba32f) uniform writeonly image2D result;

const int CELLS = HEIGHT * WIDTH;
const int NO_CELL = 0x7fffffff;  // loses every tie, so an idle invocation never wins

shared float best_value[GROUP_SIZE];
shared int best_index[GROUP_SIZE];

// Does (value, index) beat (other_value, other_index)? numpy's order: NaN above everything
// (the first NaN wins), then larger value, then smaller index.
bool beats(float value, int index, float other_value, int other_index) {
    bool nan_value = isnan(value);
    bool nan_other = isnan(other_value);
    if (nan_value != nan_other) {
        return nan_value;
    }
    if (nan_value || value == other_value) {
        return index < other_index;
    }
    return value > other_value;
}

float heatmap_at(int cell, int channel) {
    int row = cell / WIDTH;
    return texelFetch(heatmaps, ivec2((cell - row * WIDTH) * CHANNELS + channel, row), 0).r;
}

void main() {
    int channel = int(gl_WorkGroupID.x);
    int lane = int(gl_LocalInvocationID.x);

    // Each invocation scans cells lane, lane + GROUP_SIZE, ... (ascending, so '>' alone would
    // keep the first of equals; beats() also handles NaN).
    float value = -1.0 / 0.0;
    int index = NO_CELL;
    for (int cell = lane; cell < CELLS; cell += GROUP_SIZE) {
        float v = heatmap_at(cell, channel);
        if (beats(v, cell, value, index)) {
            value = v;
            index = cell;
        }
    }
    best_value[lane] = value;
    best_index[lane] = index;
    memoryBarrierShared();
    barrier();

    // Tree reduction: each round halves the live pairs.
    for (int half_size = GROUP_SIZE / 2; half_size > 0; half_size /= 2) {
        if (lane < half_size) {
            float other_value = best_value[lane + half_size];
            int other_index = best_index[lane + half_size];
            if (beats(other_value, other_index, best_value[lane], best_index[lane])) {
                best_value[lane] = other_value;
                best_index[lane] = other_index;
            }
        }
        memoryBarrierShared();
        barrier();
    }

    if (lane == 0) {
        int cell = best_index[0];
        int row = cell / WIDTH;
        int col = cell - row * WIDTH;
        vec2 position = vec2(col, row);
#ifdef HAS_OFFSETS
        int texel_x = col * 2 * CHANNELS + channel;
        float offset_y = texelFetch(offsets, ivec2(texel_x, row), 0).r;
        float offset_x = texelFetch(offsets, ivec2(texel_x + CHANNELS, row), 0).r;
        // cell * stride is exact in float32, so this is one rounding, as numpy's float32 sum
        position = position * output_stride + vec2(offset_x, offset_y);
#endif
        imageStore(result, ivec2(channel, 0), vec4(position, best_value[0], float(cell)));
    }
}
