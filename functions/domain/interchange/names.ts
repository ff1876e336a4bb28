// File names and cells that leave or enter Winnow through archives and spreadsheets. Upload names come from users
// (and from other tools' annotation files), so they are cleaned at both edges:
// - archive entries never climb out of the extraction folder (`..`, absolute paths, drive letters, backslashes);
// - exported names keep their folders but lose control characters and characters Windows refuses;
// - CSV cells that a spreadsheet would run as a formula are neutralised.

/** Characters Windows does not allow in file names, plus ASCII control characters. */
const UNSAFE_CHARS = /[<>:"|?*\\\u0000-\u001f\u007f]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * A relative, '/'-separated path that is safe to create inside an extraction folder on any OS, or undefined when
 * the name cannot be made safe without changing what it points at (it climbs out, or is empty).
 */
export function safeRelativePath(name: string): string | undefined {
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return undefined;
  const parts: string[] = [];
  for (const raw of slashed.split('/')) {
    if (raw === '' || raw === '.') continue;
    if (raw === '..') return undefined;
    let part = raw.replace(UNSAFE_CHARS, '_').replace(/[. ]+$/, '');
    if (part === '') return undefined;
    if (WINDOWS_RESERVED.test(part)) part = `_${part}`;
    parts.push(part);
  }
  return parts.length ? parts.join('/') : undefined;
}

/** Like safeRelativePath for names Winnow itself writes: never fails, unsafe segments are replaced. */
export function exportPath(name: string): string {
  const safe = safeRelativePath(name);
  if (safe) return safe;
  const cleaned = name.replace(/\\/g, '/').split('/').filter((p) => p && p !== '.' && p !== '..')
    .map((p) => p.replace(UNSAFE_CHARS, '_')).join('/');
  return cleaned || 'unnamed';
}

/** The last segment of a '/'- or '\'-separated path. */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1];
}

/** The name without its last extension: `a/b.jpg` -> `a/b`. */
export function withoutExtension(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? name.slice(0, dot) : name;
}

/**
 * A CSV field, quoted when needed (RFC 4180), with spreadsheet formula injection neutralised: a text cell that
 * starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe, which spreadsheets show as text.
 * Numbers (including negative ones) are written as numbers.
 */
export function csvCell(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Reverses csvCell's neutralisation on import: a leading apostrophe before a formula character is dropped. */
export function csvCellValue(text: string): string {
  return /^'[=+\-@\t\r]/.test(text) ? text.slice(1) : text;
}
