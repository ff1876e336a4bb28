// Stored records are plain data: copies drop `undefined` fields the way DynamoDB's marshaller does, so a fake and
// the real table hand back objects of the same shape, and callers can never mutate what a store holds.

export function plainCopy<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy);
  if (ArrayBuffer.isView(value)) return (value as Uint8Array).slice();
  if (value instanceof Date) return new Date(value.getTime());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = copy(v);
  }
  return out;
}
