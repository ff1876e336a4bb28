// The one logger (functions/adapters/log.ts): JSON lines in the cloud, readable lines locally.

import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../functions/adapters/log.js';

function capture(format: 'json' | 'text') {
  const lines: { level: LogLevel; line: string }[] = [];
  const logger = createLogger({ format, write: (level, line) => lines.push({ level, line }) });
  return { logger, lines };
}

describe('logger', () => {
  it('writes one JSON object per line in the cloud, with the request id of the invocation', () => {
    const { logger, lines } = capture('json');
    const log = logger.with({ requestId: 'req-1' });
    log('retrained', { projectId: 'flowers', generation: 3 });
    log.error('trainer: flowers failed', { projectId: 'flowers', error: new TypeError('no shards') });
    expect(lines.map((l) => l.level)).toEqual(['info', 'error']);
    expect(JSON.parse(lines[0].line)).toEqual({ level: 'info', msg: 'retrained', requestId: 'req-1', projectId: 'flowers', generation: 3 });
    const failure = JSON.parse(lines[1].line);
    expect(failure).toMatchObject({ level: 'error', requestId: 'req-1', error: { name: 'TypeError', message: 'no shards' } });
    expect(failure.error.stack).toContain('no shards');
    expect(lines.every((l) => !l.line.includes('\n'))).toBe(true);
  });

  it('writes readable lines locally: the message as it is, then the fields', () => {
    const { logger, lines } = capture('text');
    logger('Winnow is running at http://127.0.0.1:8787');
    logger.warn('model missing: yolox', { model: 'yolox' });
    logger.with({ requestId: 'r2' }).error('unhandled error', { path: '/api/x', error: new Error('boom') });
    expect(lines[0]).toEqual({ level: 'info', line: 'Winnow is running at http://127.0.0.1:8787' });
    expect(lines[1]).toEqual({ level: 'warn', line: 'model missing: yolox model=yolox' });
    expect(lines[2].line).toMatch(/^unhandled error requestId=r2 path=\/api\/x error=Error: boom\n/);
  });

  it('is a plain function to what it is passed to', () => {
    const { logger, lines } = capture('text');
    const report: (line: string) => void = logger;
    report('ingest: 3 images');
    expect(lines).toEqual([{ level: 'info', line: 'ingest: 3 images' }]);
  });
});
