/** Applies a git delta to `base`; PackFormatError when the delta is malformed or sizes disagree. */
export declare function applyDelta(base: Uint8Array, delta: Uint8Array): Buffer;
/** The target size a delta declares, read from its header without applying it. */
export declare function deltaTargetSize(delta: Uint8Array): number;
/** A delta that rebuilds `target` from `base` (used only where no stored delta can be reused). */
export declare function createDelta(base: Uint8Array, target: Uint8Array): Buffer;
