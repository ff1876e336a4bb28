// What the stack sets on each function is exactly what its entry point reads (functions/adapters/aws/env.ts), and
// each entry point accepts the environment the synthesized template gives it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiConfig, CLOUD_ENV, exportConfig, FUNCTION_ENV, ingestConfig, trainerConfig } from '../../functions/adapters/aws/env.js';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let resources: Record<string, any>;

beforeAll(() => {
  s = synthWinnow({ stage: 'prod' });
  resources = s.template.toJSON().Resources;
});
afterAll(() => s?.cleanup());

/** Variables CloudFormation sets on a function, without the ones Node itself reads. */
const envOf = (fn: { node: { defaultChild?: unknown } }): Record<string, unknown> => {
  const { NODE_OPTIONS: _node, ...vars } = resources[logicalId(s.stack, fn)].Properties.Environment.Variables;
  return vars;
};

/** A template value made concrete the way CloudFormation would (any well-formed value of the right kind). */
function concrete(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (name.endsWith('_QUEUE_URL')) return 'https://sqs.eu-west-1.amazonaws.com/123456789012/queue';
  if (name === CLOUD_ENV.userPoolId) return 'eu-west-1_AbC123';
  return 'resolved-name';
}
const concreteEnv = (vars: Record<string, unknown>) => ({
  AWS_REGION: 'eu-west-1',
  ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, concrete(k, v)])),
});

describe('function environments', () => {
  const functions = () => ({ api: s.stack.api.fn, ingest: s.stack.ingest.fn, trainer: s.stack.trainer.fn, export: s.stack.exports.fn });

  it('each function gets exactly the variables its entry point reads', () => {
    for (const [name, fn] of Object.entries(functions())) {
      const expected = FUNCTION_ENV[name as keyof typeof FUNCTION_ENV].map((key) => CLOUD_ENV[key]).sort();
      expect(Object.keys(envOf(fn)).sort(), name).toEqual(expected);
    }
  });

  it('each entry point accepts what the template sets', () => {
    expect(apiConfig(concreteEnv(envOf(s.stack.api.fn)))).toMatchObject({ presignTtlSeconds: 900, embedder: s.config.embedder });
    expect(ingestConfig(concreteEnv(envOf(s.stack.ingest.fn)))).toMatchObject({ ingestConcurrency: s.config.ingest.recordConcurrency, embedder: s.config.embedder });
    expect(trainerConfig(concreteEnv(envOf(s.stack.trainer.fn)))).toMatchObject({ embedder: s.config.embedder });
    expect(exportConfig(concreteEnv(envOf(s.stack.exports.fn)))).toMatchObject({ embedder: s.config.embedder });
  });

  it('a missing or malformed variable is named when the function starts', () => {
    const env = concreteEnv(envOf(s.stack.api.fn));
    expect(() => apiConfig({ ...env, [CLOUD_ENV.trainerQueueUrl]: undefined })).toThrow(/WINNOW_TRAINER_QUEUE_URL/);
    expect(() => apiConfig({ ...env, [CLOUD_ENV.presignTtlSeconds]: 'soon' })).toThrow(/WINNOW_PRESIGN_TTL_SECONDS/);
    expect(() => ingestConfig({ ...concreteEnv(envOf(s.stack.ingest.fn)), [CLOUD_ENV.ingestConcurrency]: '0' })).toThrow(/WINNOW_INGEST_CONCURRENCY/);
    expect(() => apiConfig({ ...env, [CLOUD_ENV.auditRate]: 'often' })).toThrow(/WINNOW_AUDIT_RATE/);
  });

  it('the API takes an optional deployment audit rate', () => {
    const env = concreteEnv(envOf(s.stack.api.fn));
    expect(apiConfig(env).auditRate).toBeUndefined();
    expect(apiConfig({ ...env, [CLOUD_ENV.auditRate]: '0.25' }).auditRate).toBe(0.25);
  });

  it("the API's model lab limits come from its configuration: defaults, or validated values", () => {
    const env = concreteEnv(envOf(s.stack.api.fn));
    expect(apiConfig(env).modelLimits).toEqual({ maxBytes: 500 * 1024 * 1024, timeoutMs: 10_000 });
    expect(apiConfig({ ...env, [CLOUD_ENV.modelMaxBytes]: '1048576' }).modelLimits.maxBytes).toBe(1_048_576);
    expect(() => apiConfig({ ...env, [CLOUD_ENV.modelMaxBytes]: 'huge' })).toThrow(/WINNOW_MODEL_MAX_BYTES/);
  });

  it("a stage's audit rate reaches both the API that serves audit draws and the trainer that keeps their rows", () => {
    const staged = synthWinnow({ stage: 'prod', configure: (c) => ({ ...c, auditRate: 0.2 }) });
    try {
      const vars = staged.template.toJSON().Resources;
      const env = (fn: { node: { defaultChild?: unknown } }) => vars[logicalId(staged.stack, fn)].Properties.Environment.Variables;
      expect(apiConfig(concreteEnv(env(staged.stack.api.fn))).auditRate).toBe(0.2);
      expect(trainerConfig(concreteEnv(env(staged.stack.trainer.fn))).auditRate).toBe(0.2);
      expect(() => trainerConfig({ ...concreteEnv(env(staged.stack.trainer.fn)), [CLOUD_ENV.auditRate]: '2' })).toThrow(/WINNOW_AUDIT_RATE/);
    } finally {
      staged.cleanup();
    }
  });
});

describe('prod concurrency on a new account (quota 10)', () => {
  it('reserves nothing (Lambda keeps 100 unreserved) and polls with at most quota - 2 executions', () => {
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    for (const fn of fns) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const pollers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
      .map((r) => r.Properties.ScalingConfig.MaximumConcurrency as number);
    expect(pollers.every((p) => p >= 2)).toBe(true);
    expect(pollers.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(s.config.lambdaConcurrencyQuota - 2);
  });
});
