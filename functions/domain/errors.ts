// One error type for the whole product. Domain code throws it; each edge (HTTP, CLI, Lambda) maps `code`.

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'stale_version'
  | 'lease_conflict'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

export class WinnowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'WinnowError';
  }
}

export const notFound = (what: string) => new WinnowError('not_found', `${what} not found`);
export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new WinnowError('bad_request', message, details);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new WinnowError('conflict', message, details);

/** Thrown by stores when a conditional write finds the item changed. */
export class ConditionFailed extends Error {
  constructor(message = 'condition failed') {
    super(message);
    this.name = 'ConditionFailed';
  }
}
