// HTTP requests this process sends to each emulator while labeling, from Node's diagnostics channel: every
// DynamoDB call of the API's thread is one request to the emulator, however the adapters wrap it (the counter item's
// marks and applies included), so requests per label tell how much emulator work, and how many hops, a label costs.

import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * `storeThread`: where the API's DynamoDB calls run when not on its own thread (the local stack's default); the
 * diagnostics channel is per thread, so its calls sent are added to dynamodb's count.
 */
export function emulatorRequests(endpoints: Record<string, string>, storeThread?: { readonly sent: number }) {
  const byPort = new Map(Object.entries(endpoints).map(([name, url]) => [new URL(url).port, name]));
  const counts: Record<string, number> = Object.fromEntries(Object.keys(endpoints).map((name) => [name, 0]));
  let recording = false;
  let sentBefore = 0;
  const onStart = (message: unknown) => {
    if (!recording) return;
    const { request } = message as { request: ClientRequest };
    const host = String(request.getHeader('host') ?? '');
    const name = byPort.get(host.slice(host.lastIndexOf(':') + 1));
    if (name) counts[name]++;
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  return {
    start: () => {
      recording = true;
      sentBefore = storeThread?.sent ?? 0;
    },
    stop: (): Record<string, number> => {
      recording = false;
      diagnostics.unsubscribe('http.client.request.start', onStart);
      if (storeThread && 'dynamodb' in counts) counts.dynamodb += storeThread.sent - sentBefore;
      return { ...counts };
    },
  };
}
