// Tiny `--name value` / `--flag` parser for the bench scripts (no dependency for four options).

export type Args = Record<string, string | true>;

export function parseArgs(argv: string[] = process.argv.slice(2)): Args {
  const args: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('--')) throw new Error(`unexpected argument "${token}" (options look like --name value)`);
    const eq = token.indexOf('=');
    if (eq > 0) {
      args[token.slice(2, eq)] = token.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      args[token.slice(2)] = argv[++i];
    } else {
      args[token.slice(2)] = true;
    }
  }
  return args;
}

export function stringArg(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === true) throw new Error(`--${name} needs a value`);
  return v;
}

export function numberListArg(args: Args, name: string, fallback: number[]): number[] {
  const v = stringArg(args, name);
  if (v === undefined) return fallback;
  const list = v.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isFinite(n))) throw new Error(`--${name} must be a comma-separated list of numbers`);
  return list;
}

export function numberArg(args: Args, name: string, fallback: number): number {
  const v = stringArg(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number`);
  return n;
}
