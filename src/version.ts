/** The package version; the bundle has it inlined at build time, tsc output reads package.json. */
import { readFileSync } from 'node:fs';

declare const __DA_ROTATE_VERSION__: string | undefined;

export function packageVersion(): string {
  if (typeof __DA_ROTATE_VERSION__ === 'string') return __DA_ROTATE_VERSION__;
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
