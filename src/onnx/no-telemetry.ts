// onnxruntime 1.29+ sends usage telemetry from Linux and macOS too: it tries an upload at start-up,
// writes /tmp/mat-debug-<pid>.log and a device id under ~/.cache/Microsoft. winnow runs offline, on
// other people's data, and leaves nothing behind, so it opts out unless the user set the variable.
// Imported before onnxruntime-node: the runtime reads it once, when it initializes.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
