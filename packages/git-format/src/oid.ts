import { createHash } from 'node:crypto';

/** A SHA-1 object id: 40 lowercase hex digits. */
export type ObjectId = string;
export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';
export const ZERO_OID: ObjectId = '0'.repeat(40);

const OBJECT_ID = /^[0-9a-f]{40}$/;

export function isObjectId(value: string): boolean {
  return value.length === 40 && OBJECT_ID.test(value);
}

/** SHA-1 of `"<type> <size>\0" + body`: the id git gives this object. */
export function hashObject(type: ObjectType, body: Uint8Array): ObjectId {
  return createHash('sha1').update(`${type} ${body.byteLength}\0`).update(body).digest('hex');
}
