// Small helpers for the CLI's flags: typed values with clear errors.

export class UsageError extends Error {}

export function numFlag(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return x;
}

export function intFlag(v: string | undefined, name: string, dflt: number): number {
  const x = numFlag(v, name, dflt);
  if (!Number.isInteger(x)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return x;
}
