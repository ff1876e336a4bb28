// PLACEHOLDER written by the cloud-infrastructure work so `cdk synth` has an entry point to bundle.
// The API owner replaces it with the Lambda composition root: build the AWS adapters from the environment
// and `export const handler = handle(createApp(deps))` (hono/aws-lambda).

export const handler = async () => ({
  statusCode: 503,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ code: 'unavailable', message: 'the API handler is not built yet' }),
});
