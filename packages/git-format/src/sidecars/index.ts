/** git's sidecar files of a pack and a repository, in git's own formats: `.rev`, `.bitmap`, commit-graph. */
export * from './errors.js';
export * from './bitmap.js';
export * from './ewah.js';
export * from './index-order.js';
export * from './reverse-index.js';
export * from './name-hash.js';
export * from './bitmap-file.js';
export * from './commit-graph.js';
