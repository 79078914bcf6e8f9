export { checkPipelineText, loadPipelineFile, parsePipelineText, type LoadOptions, type ParseOptions } from './load.js';
export { formatProblem, type LoadResult, type Problem } from './problem.js';
export { parseDuration } from './duration.js';
export { PIPELINE_RELATIVE } from './schema-validator.js';
export type { Env } from './interpolate.js';
export { withEnvFile, parseEnvFile } from './env-file.js';
export { SecretRedactor } from './redact.js';
