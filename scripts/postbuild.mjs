// tsc does not set the executable bit; npm links bins either way, but a direct ./dist/cli.js needs it.
import { chmodSync, existsSync } from 'node:fs';
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
