#version 430
// BlazePose heatmap refinement (MediaPipe's RefineLandmarksFromHeatmapCalculator), the window
// sums: for landmark k, the confidences sigmoid(logit) of channel k over a kernel window around
// the landmark's cell, clipped to the heatmap. One invocation per landmark: a 9 x 9 window is
// 81 cells, too little work to share out.
// Injected by the loader: HEIGHT, WIDTH, CHANNELS, GROUP_SIZE.
layout(local_size_x = GROUP_SIZE) in;

uniform sampler2D heatmaps;  // heatmaps[h, w, k] is texel (w * CHANNELS + k, h)
// The landmarks' cells (column, row), computed on the CPU exactly as the reference truncates
// them; whole numbers, exact in float32.
uniform vec2 centres[CHANNELS];
uniform int landmark_count;  // landmarks to refine, <= CHANNELS
uniform int window_offset;   // (kernel_size - 1) / 2
// texel (k, 0) = (confidence-weighted mean column, mean row, max logit, confidence sum); the
// CPU applies the min-confidence gate to the max logit in float64, as the reference does.
layout(rgba32f) uniform writeonly image2D result;

void main() {
    int k = int(gl_GlobalInvocationID.x);
    if (k >= landmark_count) {
        return;
    }
    ivec2 centre = ivec2(centres[k]);
    int row_lo = max(centre.y - window_offset, 0);
    int row_hi = min(centre.y + window_offset, HEIGHT - 1);
    int col_lo = max(centre.x - window_offset, 0);
    int col_hi = min(centre.x + window_offset, WIDTH - 1);
    float total = 0.0;
    float sum_col = 0.0;
    float sum_row = 0.0;
    float max_logit = -1.0 / 0.0;
    for (int row = row_lo; row <= row_hi; ++row) {
        for (int col = col_lo; col <= col_hi; ++col) {
            float logit = texelFetch(heatmaps, ivec2(col * CHANNELS + k, row), 0).r;
            float confidence = 1.0 / (1.0 + exp(-logit));
            max_logit = max(max_logit, logit);
            total += confidence;
            sum_col += confidence * float(col);
            sum_row += confidence * float(row);
        }
    }
    vec2 mean = total > 0.0 ? vec2(sum_col, sum_row) / total : vec2(0.0);
    imageStore(result, ivec2(k, 0), vec4(mean, max_logit, total));
}
