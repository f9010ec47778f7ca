/**
 * The stage order of src/, enforced by `npm run lint:deps` (part of `npm test`).
 * Each part may import only the parts below it:
 *
 *   errors.ts, atomic-file.ts                the error catalogue (codes are part of the API's answers);
 *                                            files replaced whole or not at all (registry, artifacts, token)
 *   contract                                 zod schemas of what crosses a boundary, MQTT topics
 *   types.ts                                 in-process hand-off types (Recording, Spectrogram, …)
 *   dsp                                      signals → spectra, order lines, bearing physics
 *   data, ingest, report                     recordings, the wire, print-outs
 *   model                                    tfjs backend, CNN, training, adaptation
 *   diagnose, sim                            the live pipeline; the simulator and its model
 *   alerts, eval, plant                      alert messages; offline evaluation; plant protocols (Modbus, Sparkplug)
 *   store                                    InfluxDB / SQLite
 *   daemon                                   the gateway (composes the stages)
 *   cli                                      the commands
 *
 * A wrong-way import or any cycle fails. `npx tsx scripts/imports.ts` prints
 * the same graph with levels and edge counts.
 */
const STAGES = [
  ['errors.ts', 'atomic-file.ts'],
  ['contract'],
  ['types.ts'],
  ['dsp'],
  ['data', 'ingest', 'report'],
  ['model'],
  ['diagnose', 'sim'],
  ['alerts', 'eval', 'plant'],
  ['store'],
  ['daemon'],
  ['cli'],
];

const pathOf = (part) =>
  part.endsWith('.ts') ? `^src/${part.replace('.', '\\.')}$` : `^src/${part}/`;

/** For each part: the parts at its own level and above, which it must not import. */
const upward = STAGES.flatMap((level, i) =>
  level.map((part) => {
    const above = STAGES.slice(i + 1).flat();
    const siblings = level.filter((p) => p !== part);
    const banned = [...siblings, ...above];
    return {
      name: `stage-order:${part}`,
      comment: `src/${part} may import only parts below it (see the stage list at the top of this file)`,
      severity: 'error',
      from: { path: pathOf(part) },
      to: { path: banned.map(pathOf) },
    };
  }),
).filter((rule) => rule.to.path.length > 0);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle ties modules that should be able to change apart',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-tests',
      comment: 'product code never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'a relative import that resolves to nothing',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true, path: '^\\.' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
