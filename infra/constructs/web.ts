// The web app: built SolidJS files in a private bucket, served by CloudFront through origin access control,
// with security headers, client-side routing, the API under `/api/*` on the same origin, and a `config.json`
// written at deploy time.

import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
  type BehaviorOptions,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeBucketDeploymentHandler, finding } from '../nag.js';
import { privateBucketDefaults, removalPolicyOf, type StageRemovalPolicy } from './bucket-defaults.js';

export const RUNTIME_CONFIG_FILE = 'config.json';

export interface WebProps {
  readonly logBucket: IBucket;
  /** Host of the HTTP API, served under `/api/*`. */
  readonly apiDomainName: string;
  /** Content-Security-Policy header value for every response. */
  readonly contentSecurityPolicy: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
  /** Serve the app (and the API under /api) on this host with this ACM certificate (us-east-1). @default - CloudFront's domain */
  readonly domain?: { name: string; certificateArn: string };
  /** A CLOUDFRONT-scope WAF web ACL in front of the app and the API. @default - none */
  readonly webAclArn?: string;
}

export interface WebContent {
  /** Output of `npm run build`; absent = only `config.json` is published (with a synth warning). */
  readonly siteDir?: string;
  /** Runtime configuration the app fetches at start (`/config.json`). Values may be deploy-time tokens. */
  readonly runtimeConfig: Record<string, string>;
}

export class Web extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;
  private readonly props: WebProps;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    this.props = props;
    this.bucket = new Bucket(this, 'SiteBucket', {
      ...privateBucketDefaults(props.removalPolicy),
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3-access/site/',
    });
    this.headers = securityHeaders(this, props.contentSecurityPolicy);

    const site = S3BucketOrigin.withOriginAccessControl(this.bucket);
    const siteBehavior: BehaviorOptions = {
      origin: site,
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: this.headers,
      compress: true,
    };
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Winnow web app and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        ...siteBehavior,
        functionAssociations: [{ eventType: FunctionEventType.VIEWER_REQUEST, function: spaRouting(this) }],
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new HttpOrigin(props.apiDomainName, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // Forwards Authorization and the query string; API Gateway needs its own Host header.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headers,
        },
        // Written at every deploy: never serve a stale copy.
        [`/${RUNTIME_CONFIG_FILE}`]: { ...siteBehavior, cachePolicy: CachePolicy.CACHING_DISABLED },
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      webAclId: props.webAclArn,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    acknowledge(this.distribution, {
      [finding.rule('CFR1')]: 'Labelers may work from anywhere; access is controlled by sign-in, not by geography',
      ...(props.webAclArn
        ? {}
        : {
            [finding.rule('CFR2')]:
              'No web ACL in this stage\'s settings (webAclArn): every API route requires a Cognito token and is ' +
              'throttled at API Gateway, and a WAF web ACL adds a fixed monthly cost to a small private tool. Set ' +
              'webAclArn if the deployment faces untrusted traffic',
          }),
      ...(props.domain
        ? {}
        : {
            [finding.rule('CFR4')]:
              'No custom domain in this stage\'s settings (domain), and the TLS policy of CloudFront\'s default ' +
              'certificate cannot be raised; with a domain the distribution requires TLSv1.2_2021',
          }),
    });
  }

  get url(): string {
    return `https://${this.props.domain?.name ?? this.distribution.distributionDomainName}`;
  }

  /** Uploads the built app plus `config.json`, and invalidates CloudFront's cache. */
  publish(content: WebContent): BucketDeployment {
    const config = Source.jsonData(RUNTIME_CONFIG_FILE, content.runtimeConfig);
    if (!content.siteDir) {
      Annotations.of(this).addWarningV2(
        'winnow:web-build-missing',
        'No built web app to publish (web/dist is missing): only config.json is published. ' +
          'Run `npm run build` before `npm run deploy`.',
      );
    }
    const deployment = new BucketDeployment(this, 'Publish', {
      destinationBucket: this.bucket,
      sources: content.siteDir ? [Source.asset(content.siteDir), config] : [config],
      // Without a build, keep whatever app an earlier deploy published.
      prune: Boolean(content.siteDir),
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      logGroup: new LogGroup(this, 'PublishLogs', {
        retention: this.props.logRetention,
        removalPolicy: removalPolicyOf(this.props.removalPolicy),
      }),
    });
    acknowledgeBucketDeploymentHandler(Stack.of(this), this.bucket);
    return deployment;
  }
}

function securityHeaders(scope: Construct, csp: string): ResponseHeadersPolicy {
  return new ResponseHeadersPolicy(scope, 'SecurityHeaders', {
    comment: 'Winnow security headers',
    securityHeadersBehavior: {
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(365),
        includeSubdomains: true,
        preload: false,
        override: true,
      },
      contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
      frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
      contentTypeOptions: { override: true },
      referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
    },
  });
}

/**
 * Client-side routes (paths without a file extension) get the app shell. Done per request rather than with
 * distribution-wide 403/404 error pages, which would also rewrite the API's own 403 and 404 answers.
 */
function spaRouting(scope: Construct): CloudFrontFunction {
  return new CloudFrontFunction(scope, 'SpaRouting', {
    comment: 'Serve index.html for client-side routes',
    runtime: FunctionRuntime.JS_2_0,
    code: FunctionCode.fromInline(
      [
        'function handler(event) {',
        '  var request = event.request;',
        '  var uri = request.uri;',
        "  if (uri.lastIndexOf('.') <= uri.lastIndexOf('/')) request.uri = '/index.html';",
        '  return request;',
        '}',
      ].join('\n'),
    ),
  });
}
