/**
 * The layering (imports flow one way): cli -> app -> rotation -> kinds -> directadmin.
 * `npm run check` runs this (scripts/check.mjs, check "layers"); an upward import fails it.
 * Shared modules beside the layers (errors, log, messages, files, directories, options, crypto) are not layers.
 */
const layer = (name, path, above) => ({
  name: `no-upward-import-from-${name}`,
  comment: `${name} sits below ${above.join(', ')}: it must not import them`,
  severity: 'error',
  from: { path },
  to: { path: `^src/(${above.join('|')})` },
});

module.exports = {
  forbidden: [
    layer('directadmin', '^src/directadmin/', ['kinds/', 'rotation/', 'fleet/', 'notify/', 'options', 'app\\.ts', 'cli']),
    layer('kinds', '^src/kinds/', ['rotation/', 'fleet/', 'notify/', 'options', 'app\\.ts', 'cli']),
    layer('rotation', '^src/rotation/', ['fleet/', 'notify/', 'app\\.ts', 'cli']),
    layer('app', '^src/(app\\.ts|fleet/|notify/)', ['cli']),
    {
      name: 'rotation-reaches-directadmin-through-kinds',
      comment:
        'rotation knows credentials, not DirectAdmin commands: it reaches the server through kinds, and uses only the error taxonomy (and types) of directadmin/; connection.ts is the one seam that makes the client',
      severity: 'error',
      from: { path: '^src/rotation/', pathNot: '^src/rotation/connection\\.ts$' },
      to: { path: '^src/directadmin/', pathNot: '^src/directadmin/errors\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'simulator-only-from-cli',
      comment: 'the simulator is a stand-in server: only the command line starts it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(simulator/|cli\\.ts$|index\\.ts$)' },
      to: { path: '^src/simulator/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
