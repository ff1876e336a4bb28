// The web client's types come from the server's routes (web/src/api/serverTypes.ts over AppType). These assertions are
// checked by the compiler (npm run typecheck): if the route types fell back to `any`, or a route the app calls
// disappeared, the @ts-expect-error lines or the expectations below stop compiling.
import { describe, expectTypeOf, it } from 'vitest';
import type { Api, QualityReply } from '../../web/src/api/api.js';
import type { Ok, ProjectRoutes } from '../../web/src/api/serverTypes.js';
import type { Served } from '../../web/src/api/types.js';

describe('web client typed from the server', () => {
  it('names only routes the server has', () => {
    // @ts-expect-error the legacy CSV exporter is gone (issue 19 point 1): no such route to call
    type Legacy = ProjectRoutes['export.csv'];
    expectTypeOf<ProjectRoutes['next']['$get']>().not.toBeAny();
    expectTypeOf<Ok<ProjectRoutes['next']['$get']>>().not.toBeAny();
    expectTypeOf<Legacy>().toBeAny();
  });

  it("reads the server's answers, not copies of them", () => {
    expectTypeOf<Awaited<ReturnType<Api['next']>>['samples'][number]['sample']>().toEqualTypeOf<Ok<ProjectRoutes['next']['$get']>['samples'][number]['sample']>();
    expectTypeOf<Served['image']['url']>().toEqualTypeOf<string>();
    // The quality reply is the route's: its per-point fields are the ones normalizeQuality reads.
    expectTypeOf<QualityReply['points'][number]>().toHaveProperty('squaredError');
    // @ts-expect-error a field the server never sends
    expectTypeOf<QualityReply>().toHaveProperty('estimatedAccuracy');
  });
});
