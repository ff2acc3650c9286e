"""Model zoo: where each model comes from, fetching, conversion to ONNX, model specs."""
