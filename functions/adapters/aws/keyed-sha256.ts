// The SDK's SHA-256 (the `sha256` client option) with the HMAC keys kept as KeyObjects. Signature V4 takes two
// HMACs per request with keys that repeat (the secret key, the day's signing key), and Node 24's createHmac spends
// most of its time turning a string or byte key into a key object each call (~80 us against ~10 us with a KeyObject
// on this machine kind): for every DynamoDB and S3 request the local API sends, that is the largest single cost of
// signing. Same digests as the SDK's own class (test/unit/keyed-sha256.test.ts).

import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** String keys (secret keys) by value, a bounded few: credentials rotate, each set is used for hours. */
const byString = new Map<string, KeyObject>();
const MAX_STRING_KEYS = 64;
/** Byte keys (derived signing keys, which the SDK caches and passes again as the same object) by identity. */
const byObject = new WeakMap<object, KeyObject>();

function keyObject(secret: SourceData): KeyObject {
  if (typeof secret === 'string') {
    let key = byString.get(secret);
    if (!key) {
      if (byString.size >= MAX_STRING_KEYS) byString.clear();
      key = createSecretKey(Buffer.from(secret, 'utf8'));
      byString.set(secret, key);
    }
    return key;
  }
  let key = byObject.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(toBytes(secret))); // a copy: the caller's bytes may change later
    byObject.set(secret, key);
  }
  return key;
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

export class KeyedSha256 {
  readonly digestLength = 32;
  private hash: Hash | Hmac;
  private finished = false;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: SourceData): void {
    if (this.finished) throw new Error('Attempted to update an already finished hash.');
    this.hash.update(typeof data === 'string' ? data : toBytes(data));
  }

  async digest(): Promise<Uint8Array> {
    let out: Buffer;
    if (this.secret) {
      this.finished = true;
      out = this.hash.digest();
    } else {
      out = (this.hash as Hash).copy().digest(); // a plain hash may be digested again, as the SDK's allows
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  reset(): void {
    this.hash = this.create();
    this.finished = false;
  }

  private create(): Hash | Hmac {
    return this.secret ? createHmac('sha256', keyObject(this.secret)) : createHash('sha256');
  }
}
