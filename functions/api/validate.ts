// zod validation at the edge, reporting the first offending field by its path.

import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { ZodType } from 'zod';
import { badRequest } from '../domain/errors.js';

export function valid<T extends ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue.path.join('.') || target;
      throw badRequest(`${field}: ${issue.message}`, { field });
    }
  });
}
