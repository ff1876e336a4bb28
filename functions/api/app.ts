// createApp(deps): the one Hono app that the local server, the Lambda handler and the tests all use.
// They differ only in the dependencies passed in (composition roots). Each route declares who may use it
// (`access(level)` as its first handler, see access.ts); the gate refuses a route that declares nothing.

import { Hono } from 'hono';
import { access, accessGate } from './access.js';
import { auditTrail } from './audit-trail.js';
import { errorResponse } from './errors.js';
import { autolabelRoutes } from './routes/autolabel.js';
import { deletionRoutes } from './routes/deletions.js';
import { exportRoutes } from './routes/exports.js';
import { featureRoutes } from './routes/features.js';
import { galleryRoutes } from './routes/gallery.js';
import { imageRoutes } from './routes/images.js';
import { importRoutes } from './routes/imports.js';
import { labelingRoutes } from './routes/labeling.js';
import { modelRoutes } from './routes/models.js';
import { modelExportRoutes } from './routes/model-export.js';
import { projectRoutes } from './routes/projects.js';
import { reviewRoutes } from './routes/review.js';
import { projectTeamRoutes, teamRoutes } from './routes/team.js';
import { uploadRoutes } from './routes/uploads.js';
import type { ApiDeps, AppEnv } from './types.js';

export function createApp(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 64) || crypto.randomUUID());
    c.set('deps', deps);
    await next();
    c.header('x-request-id', c.get('requestId'));
  });
  // One spelling per path, and no route without a declared access level (access.ts).
  app.use('/api/*', accessGate);
  // Who did what to a project, after the route succeeded (audit-trail.ts).
  app.use('/api/*', auditTrail);
  app.get('/api/health', access('public'), (c) => c.json({ ok: true }));
  const routes = app
    .route('/api/projects', projectRoutes)
    .route('/api/projects', labelingRoutes)
    .route('/api/projects', imageRoutes)
    .route('/api/projects', reviewRoutes)
    .route('/api/projects', uploadRoutes)
    .route('/api/projects', featureRoutes)
    .route('/api/projects', importRoutes)
    .route('/api/projects', exportRoutes)
    .route('/api/projects', modelExportRoutes)
    .route('/api/projects', autolabelRoutes)
    .route('/api/projects', galleryRoutes)
    .route('/api/projects', projectTeamRoutes)
    .route('/api/team', teamRoutes)
    .route('/api', deletionRoutes)
    .route('/api', modelRoutes);
  app.notFound((c) =>
    c.json({ code: 'not_found', message: `no route ${c.req.method} ${new URL(c.req.url).pathname}`, requestId: c.get('requestId') }, 404),
  );
  app.onError((err, c) => errorResponse(c, err));
  return routes;
}

export type AppType = ReturnType<typeof createApp>;
