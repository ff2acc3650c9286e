#version 430
// PoseNet's multi-person candidate search (TF.js buildPartWithScoreQueue) over [H, W, K] part
// scores: a cell is a candidate for part k when its score >= threshold and no cell of the 3 x 3
// window around it (clipped at the heatmap's edges) in channel k scores strictly higher, so a
// plateau gives one candidate per cell. A NaN anywhere in the window rules the cell out, as the
// numpy reference's window maximum (NaN propagates) does.
// One invocation per (row, col, part) element, in the array's own flat order: dispatch
// (ceil(HEIGHT * WIDTH * CHANNELS / GROUP_SIZE), 1, 1).
// Injected by the loader: HEIGHT, WIDTH, CHANNELS, GROUP_SIZE, CAPACITY.
layout(local_size_x = GROUP_SIZE) in;

// scores[h, w, k] is texel (w * CHANNELS + k, h): the [H, W*K] view of the [H, W, K] array.
uniform sampler2D scores;
// the float32 threshold that passes exactly the scores the host's comparison passes
uniform float threshold;
// A compact candidate list, cleared to 0 before each dispatch: texel (0, 0) counts the
// candidates found (it keeps counting past CAPACITY, so the host sees an overflow), texels
// (1 + i, 0) for i < min(count, CAPACITY) hold their flat indices (h * WIDTH + w) * CHANNELS + k,
// in no particular order (the atomic counter hands out slots in whatever order invocations run).
layout(r32i) uniform coherent iimage2D result;

const int ELEMENTS = HEIGHT * WIDTH * CHANNELS;

float score_at(int row, int col, int part) {
    return texelFetch(scores, ivec2(col * CHANNELS + part, row), 0).r;
}

void main() {
    int index = int(gl_GlobalInvocationID.x);
    if (index >= ELEMENTS) {
        return;
    }
    int part = index % CHANNELS;
    int cell = index / CHANNELS;
    int row = cell / WIDTH;
    int col = cell - row * WIDTH;

    float score = score_at(row, col, part);
    // explicit isnan: a driver may fold !(a < b) into a >= b, which differ on NaN
    if (isnan(score) || !(score >= threshold)) {
        return;
    }
    for (int y = max(row - 1, 0); y <= min(row + 1, HEIGHT - 1); ++y) {
        for (int x = max(col - 1, 0); x <= min(col + 1, WIDTH - 1); ++x) {
            float neighbour = score_at(y, x, part);
            if (isnan(neighbour) || neighbour > score) {
                return;
            }
        }
    }
    int slot = imageAtomicAdd(result, ivec2(0, 0), 1);
    if (slot < CAPACITY) {
        imageStore(result, ivec2(slot + 1, 0), ivec4(index));
    }
}
