// The prod stage from cdk.json, pinned to an account and region as a team would deploy it: data kept when the
// stack goes, no expiry of originals, no reserved concurrency (a new account can give none), and still no unacknowledged cdk-nag finding.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let resources: Record<string, any>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

beforeAll(() => {
  s = synthWinnow({
    stage: 'prod',
    nag: true,
    configure: (config) => ({ ...config, account: '123456789012', region: 'eu-west-1' }),
  });
  resources = s.template.toJSON().Resources;
});
afterAll(() => s?.cleanup());

describe('prod stage', () => {
  it('deploys to the pinned account and region', () => {
    expect(s.stack.account).toBe('123456789012');
    expect(s.stack.region).toBe('eu-west-1');
  });

  it('passes cdk-nag with account and region pinned', () => {
    const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: { pluginName: string }) => p.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
  });

  it('retains every bucket when the stack is deleted', () => {
    for (const bucket of ofType('AWS::S3::Bucket')) expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('never empties buckets automatically', () => {
    expect(ofType('Custom::S3AutoDeleteObjects')).toEqual([]);
  });

  it('keeps originals and derived files (no expiry rule)', () => {
    const rules = resources[logicalId(s.stack, s.stack.data.bucket)].Properties.LifecycleConfiguration.Rules;
    expect(rules.map((r: { Id: string }) => r.Id)).not.toContain('expire-uploads');
    expect(rules.map((r: { Id: string }) => r.Id)).not.toContain('expire-derived');
  });

  it('reserves no concurrency, so it deploys on a new account (quota 10; Lambda keeps 100 unreserved)', () => {
    for (const fn of [s.stack.ingest.fn, s.stack.trainer.fn, s.stack.exports.fn, s.stack.api.fn]) {
      expect(resources[logicalId(s.stack, fn)].Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('protects the user pool from deletion', () => {
    const pool = resources[logicalId(s.stack, s.stack.auth.userPool)];
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    expect(pool.DeletionPolicy).toBe('Retain');
  });

  it('keeps function and API logs for the configured period', () => {
    for (const group of ofType('AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays).toBe(s.config.logRetentionDays);
    }
  });

  it('allows no extra browser origins', () => {
    const [rule] = resources[logicalId(s.stack, s.stack.data.bucket)].Properties.CorsConfiguration.CorsRules;
    expect(rule.AllowedOrigins).toHaveLength(1);
    expect(ofType('AWS::ApiGatewayV2::Api')[0].Properties.CorsConfiguration).toBeUndefined();
  });
});
