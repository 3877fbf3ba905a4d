export * from './format.js';
export * from './ref-journal.js';
export * from './registry-journal.js';
export * from './write-blob.js';
export * from './recover.js';
export * from './replay.js';
export * from './checkpoint-all.js';
export * from './find-transaction.js';
