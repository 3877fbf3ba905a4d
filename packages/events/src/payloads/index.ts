/**
 * Webhook payloads in GitHub's shapes (push, create, delete, ping, status), built from committed
 * ref transactions, commit statuses and the repository's objects.
 */
export { buildRefEvents, MAX_PUSH_COMMITS } from './ref-events.js';
export type { RefEvent, RefEventContext, RefEventName } from './ref-events.js';
export { buildPingPayload } from './ping.js';
export type { PingHook, PingOptions } from './ping.js';
export { repositoryObject, repositoryNumericId, repositoryUrls, userObject } from './github-objects.js';
export type { RepositoryObjectOptions, RepositoryUrls, UserObject } from './github-objects.js';
export type { PayloadLimits } from './changed-paths.js';
export { buildStatusPayload } from './status.js';
export type { CommitStatus, StatusPayloadOptions } from './status.js';
