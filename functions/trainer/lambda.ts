// PLACEHOLDER written by the cloud-infrastructure work so `cdk synth` has an entry point to bundle.
// The trainer owner replaces it with the SQS handler (one message per training request, body `{ projectId }`).

export const handler = async (): Promise<never> => {
  // Fail loudly: messages are retried and then kept in the dead-letter queue instead of being dropped.
  throw new Error('the trainer handler is not built yet');
};
