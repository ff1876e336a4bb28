// Reading an object's bytes with the body's transfer retried. The SDK retries a request whose connection fails before
// the response starts (ECONNRESET and the like, up to the client's maxAttempts), but a GetObject's body is read after
// the SDK has returned: a socket dropped while the bytes stream in ("aborted", as s3rver does now and then under load)
// reaches the caller as an error although the same GET again would be served. A GET is idempotent, so it is issued
// again, a bounded number of times.

import { GetObjectCommand, type GetObjectCommandInput, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';

/** GETs of one read at most (the first and two more): a dropped socket is rare, a server that drops every one is down. */
export const GET_ATTEMPTS = 3;

/** Node's errors for a connection that went away mid-response (not an abort the caller asked for). */
export function isDroppedConnection(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (!e || e.name === 'AbortError') return false;
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE'].includes(e.code ?? '') || e.message === 'aborted';
}

export async function getObjectBytes(s3: S3Client, input: GetObjectCommandInput): Promise<{ out: GetObjectCommandOutput; body: Uint8Array }> {
  for (let attempt = 1; ; attempt++) {
    const out = await s3.send(new GetObjectCommand(input));
    try {
      return { out, body: out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0) };
    } catch (err) {
      if (attempt >= GET_ATTEMPTS || !isDroppedConnection(err)) {
        throw new Error(`reading ${input.Key} from the bucket failed ${attempt} time(s): ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 25 * attempt));
    }
  }
}
