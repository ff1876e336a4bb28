// Reads the IAM statements of a synthesized template, to ask "may this role do X on Y?" the way IAM matches
// actions (with `*` wildcards), against resources written as CloudFormation expressions.

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** Every statement of every policy in the template, with the logical ids of the roles it is attached to. */
export function policyStatements(resources: Resources): { roles: string[]; statement: Statement }[] {
  const out: { roles: string[]; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy') {
      const roles = (r.Properties.Roles ?? []).map((ref: { Ref: string }) => ref.Ref);
      for (const statement of r.Properties.PolicyDocument.Statement) out.push({ roles, statement });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const policy of r.Properties.Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement) out.push({ roles: [id], statement });
      }
    }
  }
  return out;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function actionMatches(granted: string, wanted: string): boolean {
  const pattern = new RegExp(`^${granted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return pattern.test(wanted);
}

/**
 * Whether any Allow statement attached to `roleId` grants `action` on a resource whose CloudFormation expression
 * contains every one of `resourceParts` (e.g. the bucket's logical id and `/uploads/*`).
 */
export function allows(resources: Resources, roleId: string, action: string, resourceParts: string[]): boolean {
  return policyStatements(resources).some(
    ({ roles, statement }) =>
      roles.includes(roleId) &&
      statement.Effect === 'Allow' &&
      asList(statement.Action).some((a) => actionMatches(a, action)) &&
      asList(statement.Resource).some((res) => {
        const text = JSON.stringify(res);
        return resourceParts.every((part) => text.includes(part));
      }),
  );
}
