// Least privilege and the cdk-nag AwsSolutions checks, synthesized once with cdk-nag registered exactly as in
// `infra/app.ts` (synthesis throws on any unacknowledged finding).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { allows, policyStatements } from './support/iam.js';
import { logicalId, synthOnce } from './support/synth.js';

const s = synthOnce({ stage: 'dev', nag: true });
const { roleOf, bucket } = s;

const table = (key: 'projects' | 'samples' | 'annotations' | 'labelers') =>
  logicalId(s.stack, s.stack.tables.all()[key]);

describe('IAM', () => {
  it('grants `Resource: *` only for CloudFront invalidations of the web deployment (acknowledged)', () => {
    const starred = policyStatements(s.resources).filter(({ statement }) =>
      (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).includes('*'),
    );
    expect(starred.map(({ statement }) => statement.Action)).toEqual([
      ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
    ]);
    expect(starred[0].roles[0]).toMatch(/^CustomCDKBucketDeployment/);
  });

  it('never grants every action of a service', () => {
    for (const { statement } of policyStatements(s.resources)) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
  });

  it('gives Winnow functions no AWS managed policies', () => {
    for (const fn of [s.stack.api.fn, s.stack.ingest.fn, s.stack.trainer.fn]) {
      expect(s.resources[roleOf(fn)].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets each function write logs only to its own log group', () => {
    for (const fn of [s.stack.api.fn, s.stack.ingest.fn, s.stack.trainer.fn]) {
      const logStatements = policyStatements(s.resources).filter(
        ({ roles, statement }) =>
          roles.includes(roleOf(fn)) && [statement.Action].flat().some((a) => a.startsWith('logs:')),
      );
      expect(logStatements).toHaveLength(1);
      const logGroup = s.resources[logicalId(s.stack, fn)].Properties.LoggingConfig.LogGroup.Ref;
      expect(logStatements[0].statement.Resource).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
    }
  });
});

describe('ingest permissions', () => {
  const may = (action: string, parts: string[]) => allows(s.resources, roleOf(s.stack.ingest.fn), action, parts);

  it('may read originals', () => expect(may('s3:GetObject', [bucket(), '/uploads/*'])).toBe(true));
  it('may not overwrite originals', () => expect(may('s3:PutObject', [bucket(), '/uploads/*'])).toBe(false));
  // An original removed from the bucket (ObjectRemoved) starts its image's deletion job, which deletes the key.
  // An original removed from the bucket: the deletion job goes on the export queue; the export function deletes.
  it('may delete nothing in the bucket', () => {
    for (const prefix of ['/uploads/*', '/derived/*', '/embeddings/*', '/deletions/*']) expect(may('s3:DeleteObject', [bucket(), prefix]), prefix).toBe(false);
  });
  it('may write derived images', () => expect(may('s3:PutObject', [bucket(), '/derived/*'])).toBe(true));
  it('may append embedding shards', () => expect(may('s3:PutObject', [bucket(), '/embeddings/*'])).toBe(true));
  it('may record images and samples', () => expect(may('dynamodb:PutItem', [table('samples')])).toBe(true));
  it('may only read projects', () => {
    expect(may('dynamodb:GetItem', [table('projects')])).toBe(true);
    expect(may('dynamodb:PutItem', [table('projects')])).toBe(false);
  });
  it('has no access to the label history (deletion jobs run in the export function)', () => {
    expect(may('dynamodb:Query', [table('annotations')])).toBe(false);
    expect(may('dynamodb:BatchWriteItem', [table('annotations')])).toBe(false);
  });
  it('may request training', () =>
    expect(may('sqs:SendMessage', [logicalId(s.stack, s.stack.trainer.work.queue)])).toBe(true));
  it('may send deletion jobs to the export queue, and only send', () => {
    const queue = logicalId(s.stack, s.stack.exports.work.queue);
    expect(may('sqs:SendMessage', [queue])).toBe(true);
    expect(may('sqs:ReceiveMessage', [queue])).toBe(false);
    expect(may('sqs:DeleteMessage', [queue])).toBe(false);
  });
});

describe('trainer permissions', () => {
  const may = (action: string, parts: string[]) => allows(s.resources, roleOf(s.stack.trainer.fn), action, parts);

  it('may read and compact embedding shards', () => {
    expect(may('s3:GetObject', [bucket(), '/embeddings/*'])).toBe(true);
    expect(may('s3:DeleteObject', [bucket(), '/embeddings/*'])).toBe(true);
  });
  it('may not read originals or exports (retrains use embeddings only)', () => {
    expect(may('s3:GetObject', [bucket(), '/uploads/*'])).toBe(false);
    expect(may('s3:PutObject', [bucket(), '/exports/*'])).toBe(false);
  });
  it('may not write derived images', () => expect(may('s3:PutObject', [bucket(), '/derived/*'])).toBe(false));
  it('may update the ranking of samples', () => expect(may('dynamodb:UpdateItem', [table('samples')])).toBe(true));
  it('may read labels but not write them', () => {
    expect(may('dynamodb:Query', [table('annotations')])).toBe(true);
    expect(may('dynamodb:PutItem', [table('annotations')])).toBe(false);
  });
});

describe('export function permissions', () => {
  const may = (action: string, parts: string[]) => allows(s.resources, roleOf(s.stack.exports.fn), action, parts);

  it('may read originals (exports copy them) and delete them (deletion jobs, the retention sweep) but not overwrite them', () => {
    expect(may('s3:GetObject', [bucket(), '/uploads/*'])).toBe(true);
    expect(may('s3:PutObject', [bucket(), '/uploads/*'])).toBe(false);
    expect(may('s3:DeleteObject', [bucket(), '/uploads/*'])).toBe(true);
  });
  it('may write export files, abort their multipart uploads and rewrite their status', () => {
    expect(may('s3:PutObject', [bucket(), '/exports/*'])).toBe(true);
    expect(may('s3:AbortMultipartUpload', [bucket(), '/exports/*'])).toBe(true);
    expect(may('s3:GetObject', [bucket(), '/exports/*'])).toBe(true);
  });
  it('may read labels and delete images with their samples and annotations, a labeler\'s tally, a project\'s record (deletion jobs)', () => {
    expect(may('dynamodb:Query', [table('annotations')])).toBe(true);
    for (const t of ['samples', 'annotations', 'labelers'] as const) expect(may('dynamodb:BatchWriteItem', [table(t)]), t).toBe(true);
    for (const t of ['projects', 'labelers'] as const) expect(may('dynamodb:DeleteItem', [table(t)]), t).toBe(true);
  });
  it('may put an unfinished deletion job back on its own queue and ask the trainer to rank again', () => {
    expect(may('sqs:SendMessage', [logicalId(s.stack, s.stack.exports.work.queue)])).toBe(true);
    expect(may('sqs:SendMessage', [logicalId(s.stack, s.stack.trainer.work.queue)])).toBe(true);
  });
});

describe('API permissions', () => {
  const may = (action: string, parts: string[]) => allows(s.resources, roleOf(s.stack.api.fn), action, parts);

  it('may presign uploads of originals', () => expect(may('s3:PutObject', [bucket(), '/uploads/*'])).toBe(true));
  // Deletion jobs run in the export function: the API writes the job record and queues it.
  it('may not delete originals, derived images, shards or exports', () => {
    for (const folder of ['/uploads/*', '/derived/*', '/embeddings/*', '/exports/*']) expect(may('s3:DeleteObject', [bucket(), folder]), folder).toBe(false);
  });
  it('may queue deletion jobs (the export queue) but not take messages off it', () => {
    expect(may('sqs:SendMessage', [logicalId(s.stack, s.stack.exports.work.queue)])).toBe(true);
    expect(may('sqs:DeleteMessage', [logicalId(s.stack, s.stack.exports.work.queue)])).toBe(false);
    expect(may('sqs:ReceiveMessage', [logicalId(s.stack, s.stack.exports.work.queue)])).toBe(false);
  });
  it('may presign reads of derived images', () => expect(may('s3:GetObject', [bucket(), '/derived/*'])).toBe(true));
  it('may not write derived images', () => expect(may('s3:PutObject', [bucket(), '/derived/*'])).toBe(false));
  it('may read and append embedding shards (feature imports, classifier export)', () => {
    expect(may('s3:GetObject', [bucket(), '/embeddings/*'])).toBe(true);
    expect(may('s3:PutObject', [bucket(), '/embeddings/*'])).toBe(true);
  });
  it('may record export jobs and sign their downloads', () => {
    expect(may('s3:PutObject', [bucket(), '/exports/*'])).toBe(true);
    expect(may('s3:GetObject', [bucket(), '/exports/*'])).toBe(true);
  });
  it('may write labels and labeler records', () => {
    expect(may('dynamodb:PutItem', [table('annotations')])).toBe(true);
    expect(may('dynamodb:UpdateItem', [table('labelers')])).toBe(true);
  });
});

describe('cdk-nag AwsSolutions', () => {
  interface Suppressed {
    ruleName: string;
    severity: string;
    acknowledgedId: string;
    reason: string;
    acknowledgedAt: string;
  }
  const report = () =>
    JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: Suppressed[] }[];
    };
  const nag = () => report().pluginReports.find((p) => p.pluginName === 'AwsSolutions')!;

  it('leaves no unacknowledged error or warning', () => {
    expect(nag().violations).toEqual([]);
    expect(nag().conclusion).toBe('success');
  });

  it('gives a reason for every acknowledged finding', () => {
    for (const v of nag().suppressedViolations ?? []) expect(v.reason.length, v.acknowledgedId).toBeGreaterThan(30);
  });

  it('acknowledges only these kinds of findings', () => {
    const rules = new Set((nag().suppressedViolations ?? []).map((v) => v.ruleName.replace(/\[.*$/, '')));
    expect([...rules].sort()).toEqual([
      'AwsSolutions-CFR1', // geo restriction
      'AwsSolutions-CFR2', // WAF
      'AwsSolutions-CFR4', // default CloudFront certificate
      'AwsSolutions-COG2', // MFA off (the web app cannot answer a challenge)
      'AwsSolutions-COG8', // Plus feature plan
      'AwsSolutions-IAM4', // CDK custom-resource handlers
      'AwsSolutions-IAM5', // grant* wildcards scoped to prefixes / indexes
      'AwsSolutions-L1', // BucketDeployment handler runtime
    ]);
  });

  it('has no stale acknowledgement (each one matches a finding)', () => {
    const used = new Set((nag().suppressedViolations ?? []).map((v) => `${v.acknowledgedAt} ${v.acknowledgedId}`));
    const recorded: string[] = [];
    const visit = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const id of Object.keys(entry.data as object)) {
          if (id.startsWith('AwsSolutions::')) recorded.push(`${c.node.path} ${id}`);
        }
      }
      c.node.children.forEach(visit);
    };
    visit(s.stack);
    expect(recorded.length).toBeGreaterThan(10);
    expect(recorded.filter((r) => !used.has(r))).toEqual([]);
  });
});

describe('outputs', () => {
  it.each(['WebUrl', 'BucketName', 'UploadPrefix', 'ApiUrl', 'UserPoolId', 'UserPoolClientId', 'IngestDeadLetterQueueUrl'])(
    'has %s',
    (name) => {
      expect(s.template.findOutputs(name)).toHaveProperty(name);
    },
  );

  it('shows the bulk upload prefix as s3://<bucket>/uploads/<project>/', () => {
    const value = JSON.stringify(s.template.findOutputs('UploadPrefix').UploadPrefix.Value);
    expect(value).toContain('s3://');
    expect(value).toContain(`{"Ref":"${bucket()}"}`);
    expect(value).toContain('/uploads/<project>/');
  });
});
