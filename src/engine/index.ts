export { runPipeline, PipelineRunner } from './runner.js';
export type { PipelineHandle, RunOptions, RunProgress, RunSummary, RunCause, RunCounts, CheckpointPolicy } from './options.js';
export { openCheckpointStore, LmdbCheckpointStore } from './checkpoint-store.js';
export { MemoryCheckpointStore } from './memory-checkpoint-store.js';
export { systemClock, type Clock } from './clock.js';
export { backoffDelay, withRetry, isRetryable, RetryExhausted } from './retry.js';
export { RateLimiter } from './rate-limiter.js';
export { registryFromModule } from './components.js';
