export * from './errors.js';
export * from './record.js';
export * from './pipeline.js';
export * from './ports.js';
export * from './line-block.js';
export { uuidv7, uuidv7Time } from './uuid.js';
