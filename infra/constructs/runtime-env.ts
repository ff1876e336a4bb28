// Environment variable names the cloud functions read, beyond the table and bucket names in
// `functions/adapters/aws/schema.ts` (ENV). Kept here until the function code adopts them into that shared module.

export const RUNTIME_ENV = {
  /** Queue that starts a training run: send `{ "projectId": ..., "sampleIds"?: [...] }`. */
  trainerQueueUrl: 'WINNOW_TRAINER_QUEUE_URL',
  /** Cognito user pool and web client: the API checks tokens (again) with aws-jwt-verify and reads groups. */
  userPoolId: 'WINNOW_USER_POOL_ID',
  userPoolClientId: 'WINNOW_USER_POOL_CLIENT_ID',
  /** Ingest concurrency inside one invocation (records of a batch processed in parallel). */
  ingestConcurrency: 'WINNOW_INGEST_CONCURRENCY',
} as const;
