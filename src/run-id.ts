/** A run's id (20261129T000000Z-abc123): names a fleet run's directory, and is on every log line of a run. */
import { randomBytes } from 'node:crypto';

export function newRunId(d = new Date()): string {
  const t = d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // 6 characters of base 36 from 8 random bytes: two runs in the same second still differ.
  return `${t}-${(randomBytes(8).readBigUInt64BE() % 36n ** 6n).toString(36).padStart(6, '0')}`;
}
