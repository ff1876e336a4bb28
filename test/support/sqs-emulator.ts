// A minimal SQS endpoint for tests: the JSON protocol the AWS SDK v3 speaks (AmazonSQS.SendMessage and
// SendMessageBatch, with the MD5 digests the SDK checks), holding messages in memory per queue. The Lambdas send
// to it through their real SQS client (the SDK sends to the host in the queue URL); the test then delivers the
// messages to the consuming function as its event source would.

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

export interface SqsEmulator {
  endpoint: string;
  /** The URL of a queue by name (the account id is a placeholder). */
  queueUrl(name: string): string;
  /** Puts a message on a queue as another AWS service would (e.g. an S3 event notification). */
  send(name: string, body: string): void;
  /** Takes (removes) every message sent to the queue so far. */
  drain(name: string): SQSRecord[];
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export async function startSqsEmulator(): Promise<SqsEmulator> {
  const queues = new Map<string, SQSRecord[]>();
  const push = (queueUrl: string, body: string): { MessageId: string; MD5OfMessageBody: string } => {
    const name = new URL(queueUrl).pathname.split('/').pop()!;
    const messageId = randomUUID();
    const record = {
      messageId,
      receiptHandle: randomUUID(),
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'TEST', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: md5(body),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${name}`,
      awsRegion: 'us-east-1',
    } as SQSRecord;
    queues.set(name, [...(queues.get(name) ?? []), record]);
    return { MessageId: messageId, MD5OfMessageBody: record.md5OfBody };
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = raw ? JSON.parse(raw) : {};
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      if (target === 'AmazonSQS.SendMessage') return reply(200, push(input.QueueUrl, input.MessageBody));
      if (target === 'AmazonSQS.SendMessageBatch') {
        const Successful = (input.Entries as { Id: string; MessageBody: string }[]).map((e) => ({ Id: e.Id, ...push(input.QueueUrl, e.MessageBody) }));
        return reply(200, { Successful, Failed: [] });
      }
      reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `not emulated: ${target}` });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/000000000000/${name}`,
    send: (name, body) => void push(`${endpoint}/000000000000/${name}`, body),
    drain(name) {
      const records = queues.get(name) ?? [];
      queues.set(name, []);
      return records;
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Messages as an SQS event source delivers them to a function, in batches of `batchSize`. */
export function sqsEvents(records: SQSRecord[], batchSize: number): SQSEvent[] {
  const events: SQSEvent[] = [];
  for (let i = 0; i < records.length; i += batchSize) events.push({ Records: records.slice(i, i + batchSize) });
  return events;
}
