import type { ObjectType } from '../../oid.js';

/**
 * What a helper thread of pass two does with each object it resolves, in place of the caller's
 * `onObject` (a closure cannot cross threads): a module exporting
 * `createObjectSink(init: unknown): ObjectSink`, loaded once in every helper thread.
 */
export interface ObjectSinkSpec {
  /** URL of the module (import.meta.resolve of it). */
  module: string;
  /** Structured-cloneable: what every helper's sink starts from. */
  init: unknown;
}

export interface ObjectSink {
  onObject(oid: string, type: ObjectType, data: Buffer): void | Promise<void>;
  /** What the sink gathered, structured-cloneable: it is handed to the caller in IndexedPack.sinkResults. */
  finish(): unknown;
}

export type CreateObjectSink = (init: unknown) => ObjectSink;

/** An object the caller's checks refuse; thrown from onObject on any thread, it reaches the caller with its message. */
export class ObjectRejected extends Error {
  override name = 'ObjectRejected';
}
