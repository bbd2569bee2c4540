// Reading a backend's options from its component spec (the runtime config's
// `components.<kind>.<name>` map, environment references already expanded, so numbers
// and booleans may arrive as strings). Every problem is a ComponentError('invalid') that
// names the option and says what is expected.
import { ComponentError } from './errors.ts';

export type Spec = Record<string, unknown>;

const invalid = (where: string, message: string): never => {
  throw new ComponentError('invalid', `${where}: ${message}`);
};

/** Refuses options the backend does not know, so a typo does not silently fall back to a default. */
export function checkKnown(spec: Spec, where: string, known: readonly string[]): void {
  for (const key of Object.keys(spec)) {
    if (key !== 'type' && !known.includes(key)) invalid(where, `unknown option "${key}" (known: ${known.join(', ')})`);
  }
}

export function specNumber(spec: Spec, key: string, where: string, rule: { min?: number; integer?: boolean; allow?: number[] } = {}): number | undefined {
  const raw = spec[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n)) return invalid(where, `"${key}" must be a number, got ${JSON.stringify(raw)}`);
  if (rule.allow?.includes(n)) return n;
  if (rule.integer && !Number.isInteger(n)) return invalid(where, `"${key}" must be a whole number, got ${JSON.stringify(raw)}`);
  if (rule.min !== undefined && n < rule.min) return invalid(where, `"${key}" must be at least ${rule.min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function specString(spec: Spec, key: string, where: string): string | undefined {
  const raw = spec[key];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' && typeof raw !== 'number') return invalid(where, `"${key}" must be a string, got ${JSON.stringify(raw)}`);
  return String(raw);
}

export function specBoolean(spec: Spec, key: string, where: string): boolean | undefined {
  const raw = spec[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return invalid(where, `"${key}" must be true or false, got ${JSON.stringify(raw)}`);
}

/** A list given as a YAML list or as one comma-separated string (handy from an env variable). */
export function specList(spec: Spec, key: string, where: string): string[] | undefined {
  const raw = spec[key];
  if (raw === undefined || raw === null) return undefined;
  const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : invalid(where, `"${key}" must be a list or a comma-separated string, got ${JSON.stringify(raw)}`);
  return (items as unknown[]).map((item) => String(item).trim()).filter((item) => item !== '');
}
