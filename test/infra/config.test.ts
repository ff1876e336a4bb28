// Stage settings from cdk.json: parsed once, with errors that point at the field to fix.

import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '../../infra/config.js';
import { cdkContext } from './support/synth.js';

const stages = () => structuredClone(cdkContext().stages) as Record<string, any>;

describe('stage settings', () => {
  it.each(['dev', 'prod'])('the %s stage in cdk.json is valid', (stage) => {
    expect(() => parseStageConfig(stages(), stage)).not.toThrow();
  });

  it('applies documented defaults', () => {
    const raw = stages();
    delete raw.dev.ingest.timeoutSeconds;
    delete raw.dev.storage.noncurrentVersionExpirationDays;
    const config = parseStageConfig(raw, 'dev');
    expect(config.ingest.timeoutSeconds).toBe(120);
    expect(config.storage.noncurrentVersionExpirationDays).toBe(30);
  });

  it('refuses reserved concurrency that a new account (quota 10) cannot give, and says what to do', () => {
    const raw = stages();
    raw.prod.trainer.reservedConcurrency = 2;
    expect(() => parseStageConfig(raw, 'prod')).toThrow(/lambdaConcurrencyQuota: reserving 2 executions needs a Lambda concurrency quota of at least 102/);
    raw.prod.lambdaConcurrencyQuota = 1000;
    expect(() => parseStageConfig(raw, 'prod')).not.toThrow();
  });

  it('refuses ingest reserved concurrency below its SQS pollers (batches would be throttled into the DLQ)', () => {
    const raw = stages();
    Object.assign(raw.prod, { lambdaConcurrencyQuota: 1000 });
    Object.assign(raw.prod.ingest, { maxConcurrency: 20, reservedConcurrency: 10 });
    expect(() => parseStageConfig(raw, 'prod')).toThrow(/ingest\.reservedConcurrency: must be at least ingest\.maxConcurrency \(20\)/);
  });

  it('refuses pollers that would leave the API no concurrency', () => {
    const raw = stages();
    raw.prod.ingest.maxConcurrency = 8;
    expect(() => parseStageConfig(raw, 'prod')).toThrow(/must leave the API 2 of the account's 10 concurrent executions/);
  });

  it('asks for the SES region when the stage pins no region', () => {
    const raw = stages();
    raw.prod.email = { from: 'winnow@example.com' };
    expect(() => parseStageConfig(raw, 'prod')).toThrow(/email\.sesRegion: required when the stage sets no region/);
  });

  it('names the known stages when the stage is unknown', () => {
    expect(() => parseStageConfig(stages(), 'qa')).toThrow(/No settings for stage "qa".*known stages: dev, prod/);
  });

  it('rejects stage names that cannot be part of a bucket name', () => {
    expect(() => parseStageConfig(stages(), 'Prod_EU')).toThrow(/Stage name "Prod_EU" must match/);
  });

  it('lists every invalid field with its path', () => {
    const raw = stages();
    raw.dev.ingest.memoryMb = 64;
    raw.dev.logRetentionDays = 10;
    raw.dev.removalPolicy = 'snapshot';
    const error = (() => {
      try {
        parseStageConfig(raw, 'dev');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toContain('stages.dev.ingest.memoryMb');
    expect(error).toContain('stages.dev.logRetentionDays: must be one of 1, 3, 5, 7, 14');
    expect(error).toContain('stages.dev.removalPolicy');
  });

  it('rejects unknown settings (typos)', () => {
    const raw = stages();
    raw.dev.ingest.memmoryMb = 1024;
    expect(() => parseStageConfig(raw, 'dev')).toThrow(/stages\.dev\.ingest/);
  });

  it('requires at least 2 for the ingest maximum concurrency (an SQS event source rule)', () => {
    const raw = stages();
    raw.dev.ingest.maxConcurrency = 1;
    expect(() => parseStageConfig(raw, 'dev')).toThrow(/stages\.dev\.ingest\.maxConcurrency/);
  });
});
