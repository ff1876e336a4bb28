// Local, single-machine identity without sign-in: the labeler's name arrives in a header. Only for a server bound
// to loopback; the JWT authenticator replaces it wherever others can reach the server.

import { WinnowError } from '../domain/errors.js';
import type { Authenticate } from './types.js';

export const USER_HEADER = 'x-winnow-user';
const NAME = /^[\p{L}\p{N}_.@ -]{1,64}$/u;

export const localAuthenticate: Authenticate = async (request) => {
  const raw = request.headers.get(USER_HEADER);
  let userId = 'local';
  try {
    if (raw) userId = decodeURIComponent(raw).trim();
  } catch {
    userId = ''; // malformed percent-encoding: refused below like any other bad name
  }
  if (!NAME.test(userId)) {
    throw new WinnowError('bad_request', `${USER_HEADER}: labeler names are 1-64 letters, digits, space, _ . @ -`, {
      field: USER_HEADER,
    });
  }
  return { userId, groups: ['admin'] };
};
