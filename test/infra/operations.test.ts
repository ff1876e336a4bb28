// Operations as deployed: alarms (dead letters, function errors and throttles, API 5xx), an optional SNS email, one
// dashboard, log retention on every function (CDK's helpers included), tags, and the optional custom domain, WAF
// web ACL and SES sender from the stage settings, all with cdk-nag clean and no acknowledgement that contradicts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const WAF = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/winnow/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809';

let dev: Synthesized;
let prod: Synthesized;
const ofType = (s: Synthesized, type: string) =>
  Object.entries(s.template.toJSON().Resources as Record<string, any>).filter(([, r]) => r.Type === type);

beforeAll(() => {
  dev = synthWinnow({ stage: 'dev', nag: true });
  prod = synthWinnow({
    stage: 'prod',
    nag: true,
    configure: (c) => ({
      ...c,
      alarmEmail: 'ops@example.com',
      domain: { name: 'label.example.com', certificateArn: CERT },
      webAclArn: WAF,
      email: { from: 'winnow@example.com', fromName: 'Winnow', sesRegion: 'eu-west-1' },
      tags: { 'cost-center': 'ml-42' },
    }),
  });
});
afterAll(() => {
  dev?.cleanup();
  prod?.cleanup();
});

const nag = (s: Synthesized) =>
  JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')).pluginReports.find(
    (p: { pluginName: string }) => p.pluginName === 'AwsSolutions',
  );

describe('alarms and dashboard', () => {
  it('alarm on every dead-letter queue, every function\'s errors and throttles, and API 5xx', () => {
    const alarms = ofType(dev, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const dlqs = [dev.stack.ingest.work, dev.stack.trainer.work, dev.stack.exports.work].map((w) => logicalId(dev.stack, w.deadLetterQueue));
    for (const dlq of dlqs) {
      expect(alarms.some((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === dlq), dlq).toBe(true);
    }
    for (const fn of [dev.stack.api.fn, dev.stack.ingest.fn, dev.stack.trainer.fn, dev.stack.exports.fn]) {
      const id = logicalId(dev.stack, fn);
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms.some((a) => a.MetricName === metric && a.Dimensions[0].Value.Ref === id), `${id} ${metric}`).toBe(true);
      }
    }
    expect(alarms.some((a) => a.MetricName === '5xx' && a.Namespace === 'AWS/ApiGateway')).toBe(true);
    expect(alarms.every((a) => a.Threshold === 0 && a.ComparisonOperator === 'GreaterThanThreshold')).toBe(true);
  });

  it('without alarmEmail: no topic; with it: every alarm and its recovery is emailed', () => {
    expect(ofType(dev, 'AWS::SNS::Topic')).toEqual([]);
    const [[topicId]] = ofType(prod, 'AWS::SNS::Topic');
    expect(ofType(prod, 'AWS::SNS::Subscription').map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } }),
    ]);
    for (const [, alarm] of ofType(prod, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('has one dashboard named after the stage', () => {
    const dashboards = ofType(dev, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0][1].Properties.DashboardName).toBe('Winnow-dev');
  });
});

describe('logs', () => {
  it('every function, CDK\'s own handlers included, logs into a group with the stage\'s retention', () => {
    const groups = Object.fromEntries(ofType(dev, 'AWS::Logs::LogGroup'));
    const functions = ofType(dev, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const [id, fn] of functions) {
      const group = fn.Properties.LoggingConfig?.LogGroup?.Ref;
      expect(group, id).toBeDefined();
      expect(groups[group].Properties.RetentionInDays, id).toBe(dev.config.logRetentionDays);
    }
    for (const [id, group] of Object.entries(groups) as [string, any][]) expect(group.Properties.RetentionInDays, id).toBe(dev.config.logRetentionDays);
  });
});

describe('tags', () => {
  it('tags resources with app and stage, plus the stage\'s own tags', () => {
    const [[, table]] = ofType(prod, 'AWS::DynamoDB::Table');
    expect(table.Properties.Tags).toEqual(expect.arrayContaining([
      { Key: 'app', Value: 'winnow' },
      { Key: 'stage', Value: 'prod' },
      { Key: 'cost-center', Value: 'ml-42' },
    ]));
    const fn = dev.template.toJSON().Resources[logicalId(dev.stack, dev.stack.api.fn)];
    expect(fn.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'stage', Value: 'dev' }]));
  });
});

describe('optional domain, WAF and SES sender', () => {
  const distribution = (s: Synthesized) => ofType(s, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;

  it('serves the custom domain with its certificate and TLS 1.2 (2021) at least', () => {
    expect(distribution(prod).Aliases).toEqual(['label.example.com']);
    expect(distribution(prod).ViewerCertificate).toMatchObject({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect(distribution(dev).Aliases).toBeUndefined();
  });

  it('puts the web ACL in front of the app and the API', () => {
    expect(distribution(prod).WebACLId).toBe(WAF);
    expect(distribution(dev).WebACLId).toBeUndefined();
  });

  it('sends Cognito email through SES from the configured address', () => {
    const [[, pool]] = ofType(prod, 'AWS::Cognito::UserPool');
    expect(pool.Properties.EmailConfiguration).toMatchObject({ EmailSendingAccount: 'DEVELOPER', From: 'Winnow <winnow@example.com>' });
  });

  it('cdk-nag passes with and without them, and nothing present is acknowledged as absent', () => {
    for (const s of [dev, prod]) expect(nag(s).violations).toEqual([]);
    const rules = (s: Synthesized) => new Set(nag(s).suppressedViolations.map((v: { ruleName: string }) => v.ruleName));
    expect(rules(dev).has('AwsSolutions-CFR2')).toBe(true);
    expect(rules(dev).has('AwsSolutions-CFR4')).toBe(true);
    expect(rules(prod).has('AwsSolutions-CFR2')).toBe(false); // a web ACL is attached
    expect(rules(prod).has('AwsSolutions-CFR4')).toBe(false); // TLSv1.2_2021 with the custom domain
    const cog2 = nag(dev).suppressedViolations.find((v: { ruleName: string }) => v.ruleName === 'AwsSolutions-COG2');
    expect(cog2.reason).toMatch(/MFA is off/);
    // No acknowledgement speaks of MFA as something the pool offers.
    const reasons = nag(dev).suppressedViolations.map((v: { reason: string }) => v.reason).join('\n');
    expect(reasons).not.toMatch(/optional TOTP|MFA is available|switch to Mfa\.REQUIRED/);
  });
});
