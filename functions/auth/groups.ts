// The two roles Winnow knows. The names match the Cognito groups (infra/constructs/auth.ts) and the
// `cognito:groups` claim, so the API reads them the same way from local and cloud tokens.

export const GROUPS = { admin: 'admin', labeler: 'labeler' } as const;
export type Group = (typeof GROUPS)[keyof typeof GROUPS];

export const isGroup = (value: unknown): value is Group => value === GROUPS.admin || value === GROUPS.labeler;
