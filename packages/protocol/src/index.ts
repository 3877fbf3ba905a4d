/**
 * Git's pack protocols (gitprotocol-pack, gitprotocol-v2, gitprotocol-http in stateless-RPC
 * form) over a Repository. Knows nothing of express: takes request bytes, returns response bytes.
 */
export * from './errors.js';
export * from './options.js';
export * from './upload-pack/index.js';
export * from './receive-pack/index.js';
