// Second esbuild entry point: bundled as dist/apps/inference/predict-worker.js,
// next to main.js, which starts it as a worker thread (see workers/worker-script.ts).
import './workers/predict-worker';
