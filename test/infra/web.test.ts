// The web app behind CloudFront: private bucket with origin access control, security headers, client-side
// routing, the API on the same origin, and the runtime config.json (dev stage, site fixture as the build).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let resources: Record<string, any>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
const distribution = () => resources[logicalId(s.stack, s.stack.web.distribution)].Properties.DistributionConfig;
const behavior = (path: string) =>
  distribution().CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === path);
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

beforeAll(() => {
  s = synthWinnow({ stage: 'dev' });
  resources = s.template.toJSON().Resources;
});
afterAll(() => s?.cleanup());

describe('site bucket', () => {
  const siteBucketId = () => logicalId(s.stack, s.stack.web.bucket);

  it('blocks every kind of public access', () => {
    expect(resources[siteBucketId()].Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  const allowStatements = () => {
    const policy = ofType('AWS::S3::BucketPolicy').find((p) => p.Properties.Bucket.Ref === siteBucketId());
    return policy.Properties.PolicyDocument.Statement.filter((st: { Effect: string }) => st.Effect === 'Allow');
  };

  it('grants nothing to anonymous principals', () => {
    for (const st of allowStatements()) {
      expect(st.Principal).not.toBe('*');
      expect(st.Principal.AWS).not.toBe('*');
    }
  });

  it('lets CloudFront read objects only on behalf of this distribution', () => {
    const services = allowStatements().filter((st: { Principal: { Service?: string } }) => st.Principal.Service);
    expect(services).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalId(s.stack, s.stack.web.distribution) }])],
            },
          },
        },
      }),
    ]);
  });

  it('refuses requests without TLS', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: siteBucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('distribution', () => {
  it('reaches the site bucket through origin access control', () => {
    s.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const siteOrigin = distribution().Origins.find((o: { S3OriginConfig?: unknown }) => o.S3OriginConfig);
    expect(siteOrigin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(siteOrigin.S3OriginConfig.OriginAccessIdentity).toBe('');
  });

  it('redirects plain HTTP to HTTPS', () => {
    expect(distribution().DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  it('serves the API under /api/* from the HTTP API, uncached, with every method', () => {
    expect(behavior('/api/*')).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      AllowedMethods: expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
      ViewerProtocolPolicy: 'https-only',
    });
    const apiOrigin = distribution().Origins.find((o: { Id: string }) => o.Id === behavior('/api/*').TargetOriginId);
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(logicalId(s.stack, s.stack.api.httpApi));
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
  });

  it('never caches config.json', () => {
    expect(behavior('/config.json').CachePolicyId).toBe(CACHING_DISABLED);
  });

  it('writes standard logs to the log bucket', () => {
    expect(distribution().Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.logs.bucket), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
  });

  it('adds the security headers to every behavior', () => {
    const policy = { Ref: logicalId(s.stack, s.stack.web.headers) };
    expect(distribution().DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual(policy);
    for (const b of distribution().CacheBehaviors) expect(b.ResponseHeadersPolicyId).toEqual(policy);
  });
});

describe('security headers', () => {
  const headers = () =>
    resources[logicalId(s.stack, s.stack.web.headers)].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;

  it('sends HSTS for a year', () => {
    expect(headers().StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 31536000, Override: true });
  });

  it('forbids framing', () => {
    expect(headers().FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
  });

  it('forbids content-type sniffing', () => {
    expect(headers().ContentTypeOptions).toEqual({ Override: true });
  });

  it('limits the referrer to the origin across sites', () => {
    expect(headers().ReferrerPolicy.ReferrerPolicy).toBe('strict-origin-when-cross-origin');
  });

  it('has a Content-Security-Policy that allows scripts only from the app and no framing', () => {
    const csp = JSON.stringify(headers().ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("'unsafe-eval'");
  });
});

describe('client-side routing', () => {
  const route = (uri: string): string => {
    const [fn] = ofType('AWS::CloudFront::Function');
    const handler = runInNewContext(`${fn.Properties.FunctionCode}; handler`);
    return handler({ request: { uri } }).uri;
  };

  it('runs on viewer requests of the site', () => {
    expect(distribution().DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.any(String), 'FunctionARN'] } },
    ]);
  });

  it('serves the app shell for a deep link', () => {
    expect(route('/projects/flowers/label')).toBe('/index.html');
  });

  it('serves the app shell for the root', () => {
    expect(route('/')).toBe('/index.html');
  });

  it('leaves files alone, so a missing file is still an error', () => {
    expect(route('/assets/app-3f9a.js')).toBe('/assets/app-3f9a.js');
  });

  it('is not applied to the API, so API 403 and 404 answers reach the app', () => {
    expect(behavior('/api/*').FunctionAssociations).toBeUndefined();
    expect(distribution().CustomErrorResponses).toBeUndefined();
  });
});

describe('publishing', () => {
  const deployment = () => ofType('Custom::CDKBucketDeployment')[0].Properties;

  /** config.json as deployed: the staged file with CloudFormation values in place of its markers. */
  const runtimeConfig = () => {
    const d = deployment();
    const index = d.SourceMarkers.findIndex((m: object) => Object.keys(m).length > 0);
    const assetDir = join(s.outdir, `asset.${d.SourceObjectKeys[index].replace(/\.zip$/, '')}`);
    let text = readFileSync(join(assetDir, 'config.json'), 'utf8');
    // Show each CloudFormation value as single-quoted JSON, e.g. {'Ref':'AuthUserPool8115E87F'}.
    for (const [marker, value] of Object.entries(d.SourceMarkers[index])) {
      text = text.replaceAll(marker, JSON.stringify(value).replaceAll('"', "'"));
    }
    return JSON.parse(text);
  };

  it('copies the web build and config.json into the site bucket and invalidates the cache', () => {
    expect(deployment()).toMatchObject({
      DestinationBucketName: { Ref: logicalId(s.stack, s.stack.web.bucket) },
      DistributionId: { Ref: logicalId(s.stack, s.stack.web.distribution) },
      DistributionPaths: ['/*'],
      Prune: true,
    });
    expect(deployment().SourceObjectKeys).toHaveLength(2);
  });

  it('writes the API URL, region, user pool and client ids into config.json', () => {
    const config = runtimeConfig();
    expect(Object.keys(config).sort()).toEqual(['apiUrl', 'region', 'userPoolClientId', 'userPoolId']);
    expect(config.userPoolId).toContain(logicalId(s.stack, s.stack.auth.userPool));
    expect(config.userPoolClientId).toContain(logicalId(s.stack, s.stack.auth.webClient));
    expect(config.apiUrl).toMatch(/^https:\/\//);
    expect(config.apiUrl).toContain(logicalId(s.stack, s.stack.web.distribution));
    expect(config.region).toContain('AWS::Region');
  });
});
