// The HTTP API in front of the Hono Lambda, and the Cognito user pool that issues its tokens (dev stage).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let resources: Record<string, any>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

beforeAll(() => {
  s = synthWinnow({ stage: 'dev' });
  resources = s.template.toJSON().Resources;
});
afterAll(() => s?.cleanup());

describe('HTTP API', () => {
  it('routes every method under /api/ to the Hono function', () => {
    expect(ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey)).toEqual(['ANY /api/{proxy+}']);
  });

  it('requires a JWT on every route', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
      expect(route.Properties.AuthorizerId).toBeDefined();
    }
  });

  it('accepts only tokens that the user pool issued to the web client', () => {
    const [authorizer] = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: logicalId(s.stack, s.stack.auth.webClient) }],
        Issuer: { 'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalId(s.stack, s.stack.auth.userPool) }])] },
      },
    });
  });

  it('throttles the stage with the stage settings', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: s.config.api.throttle.rateLimit,
        ThrottlingBurstLimit: s.config.api.throttle.burstLimit,
      },
    });
  });

  it('writes a JSON access log line per request to its log group', () => {
    const [stage] = ofType('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': [logicalId(s.stack, s.stack.api.accessLogs), 'Arn'],
    });
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('answers CORS preflights only for the configured development origins', () => {
    const [api] = ofType('AWS::ApiGatewayV2::Api');
    expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual(s.config.extraWebOrigins);
  });
});

describe('API function', () => {
  const fn = () => resources[logicalId(s.stack, s.stack.api.fn)];

  it('is a bundled Node.js function on arm64', () => {
    expect(fn().Properties).toMatchObject({
      Runtime: expect.stringMatching(/^nodejs\d+\.x$/),
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('finishes before the HTTP API gives up (30 s)', () => {
    expect(fn().Properties.Timeout).toBeLessThan(30);
  });

  it('knows the user pool and web client, to check groups', () => {
    expect(fn().Properties.Environment.Variables).toMatchObject({
      WINNOW_USER_POOL_ID: { Ref: logicalId(s.stack, s.stack.auth.userPool) },
      WINNOW_USER_POOL_CLIENT_ID: { Ref: logicalId(s.stack, s.stack.auth.webClient) },
    });
  });
});

describe('user pool', () => {
  const pool = () => resources[logicalId(s.stack, s.stack.auth.userPool)].Properties;

  it('does not let people sign themselves up', () => {
    expect(pool().AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
  });

  it('requires long passwords with every character class', () => {
    expect(pool().Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  it('offers no multi-factor authentication (the web app cannot answer an MFA challenge)', () => {
    expect(pool().MfaConfiguration).toBe('OFF');
    expect(pool().EnabledMfas).toBeUndefined();
  });

  it('sends email through Cognito unless the stage names an SES sender', () => {
    expect(pool().EmailConfiguration).toEqual({ EmailSendingAccount: 'COGNITO_DEFAULT' });
  });

  it('signs users in with their email address', () => {
    expect(pool().UsernameAttributes).toEqual(['email']);
  });

  it('has the admin and labeler groups', () => {
    const groups = ofType('AWS::Cognito::UserPoolGroup').map((g) => g.Properties.GroupName);
    expect(groups.sort()).toEqual(['admin', 'labeler']);
  });
});

describe('web client', () => {
  const client = () => resources[logicalId(s.stack, s.stack.auth.webClient)].Properties;

  it('has no secret (it runs in a browser)', () => {
    expect(client().GenerateSecret).toBe(false);
  });

  it('signs in with SRP or password and refreshes tokens', () => {
    expect(client().ExplicitAuthFlows.sort()).toEqual([
      'ALLOW_REFRESH_TOKEN_AUTH',
      'ALLOW_USER_PASSWORD_AUTH',
      'ALLOW_USER_SRP_AUTH',
    ]);
  });

  it('issues short-lived access and id tokens', () => {
    expect(client()).toMatchObject({
      AccessTokenValidity: 30,
      IdTokenValidity: 30,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes' },
    });
  });

  it('does not reveal whether a user exists', () => {
    expect(client().PreventUserExistenceErrors).toBe('ENABLED');
  });

  it('allows no OAuth flow, scope or callback URL (there is no hosted sign-in)', () => {
    expect(client().AllowedOAuthFlowsUserPoolClient).toBe(false);
    expect(client().AllowedOAuthFlows).toBeUndefined();
    expect(client().AllowedOAuthScopes).toBeUndefined();
    expect(client().CallbackURLs).toBeUndefined();
  });
});
