export * from './typed-object.js';
export * from './tree-entries.js';
export * from './tree-diff.js';
