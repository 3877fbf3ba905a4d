/** A SHA-1 object id: 40 lowercase hex digits. */
export type ObjectId = string;
export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';
export const ZERO_OID: ObjectId = '0'.repeat(40);

export declare function isObjectId(value: string): boolean;
/** SHA-1 of `"<type> <size>\0" + body`: the id git gives this object. */
export declare function hashObject(type: ObjectType, body: Uint8Array): ObjectId;
