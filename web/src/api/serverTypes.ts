// The server's routes as types (functions/api/app.ts AppType, read through Hono's client types; type-only, nothing
// of the server or of hono/client ends up in the bundle). api.ts names each call's route here, and the envelopes
// the app reads (types.ts) are taken from what those routes answer.

import type { hc, InferRequestType, InferResponseType } from 'hono/client';
import type { AppType } from '../../../functions/api/app.js';

export type Client = ReturnType<typeof hc<AppType>>;
export type ProjectRoutes = Client['api']['projects'][':projectId'];
export type SampleRoutes = ProjectRoutes['samples'][':sampleId'];
export type TeamRoutes = Client['api']['team'];
/** What a route answers when it succeeds. */
export type Ok<R> = InferResponseType<R, 200 | 201 | 202>;
/** The JSON body a route validates. */
export type Body<R> = InferRequestType<R> extends { json: infer J } ? J : never;
