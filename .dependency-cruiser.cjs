/**
 * The layering of the workspace, checked by `pnpm check:layers` (dependency-cruiser).
 *
 *   server ─→ protocol ─→ repository ─→ storage, git-format
 *     │         ↑
 *     ├──→ events (reads protocol's ref-update types; uses repository, storage, git-format)
 *     ├──→ browse (repository, git-format)
 *     └──→ accounts (storage)
 *
 * Each package may import only the packages listed for it in LAYERS, and only through their
 * names (`@gitfleet/<name>`, which resolve to the entry points in their package.json `exports`):
 * never another package's `src/` internals or `test/` folder by relative path. Nothing imports
 * server but the end-to-end tests (`test/`), the test-support package and the scripts. No import
 * cycle, type-only ones included (a type-only cycle still ties the modules' meaning together and
 * turns into a runtime one as soon as someone imports a value along it).
 */
const { readFileSync, readdirSync, existsSync } = require('node:fs');
const path = require('node:path');

/** What each package's production code (`src/`) may import, besides itself. */
const LAYERS = {
  'git-format': [],
  storage: [],
  repository: ['storage', 'git-format'],
  protocol: ['repository', 'storage', 'git-format'],
  // events turns applied ref updates into webhook payloads: it may read protocol's types, not
  // call into it (rule events-reads-only-protocol-types).
  events: ['protocol', 'repository', 'storage', 'git-format'],
  accounts: ['storage'],
  browse: ['repository', 'git-format'],
};

/**
 * What each package's tests (`test/`) may import besides what its `src/` may: its package.json
 * devDependencies. Every test may also import @gitfleet/test-support.
 */
const TEST_ONLY_LAYERS = {
  browse: ['storage'],
};

/** Packages made only for tests: production code never imports them. */
const TEST_SUPPORT = 'test-support';

const workspaces = readdirSync(path.join(__dirname, 'packages'))
  .filter((name) => existsSync(path.join(__dirname, 'packages', name, 'package.json')))
  .map((name) => `packages/${name}`)
  .concat(['server', 'test']);

/** Every file another workspace may import: the targets of each package.json `exports`. */
const entryPoints = workspaces.flatMap((workspace) => {
  const { exports } = JSON.parse(readFileSync(path.join(__dirname, workspace, 'package.json'), 'utf8'));
  return exportTargets(exports).map((target) => path.posix.join(workspace, target));
});

/** The files an `exports` field names, through subpaths and conditions. */
function exportTargets(exports) {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (names) => `(${names.map(escape).join('|')})`;

const unknownPackages = Object.keys(LAYERS).filter((name) => !workspaces.includes(`packages/${name}`));
if (unknownPackages.length > 0) throw new Error(`LAYERS names packages that do not exist: ${unknownPackages.join(', ')}`);
const unlayered = workspaces.filter(
  (workspace) =>
    workspace.startsWith('packages/') && !(workspace.slice('packages/'.length) in LAYERS) && workspace !== `packages/${TEST_SUPPORT}`,
);
if (unlayered.length > 0) throw new Error(`packages without a place in LAYERS: ${unlayered.join(', ')}`);

/** For each package, its `src/` and its `test/` may reach no package outside their list. */
const layerRules = Object.entries(LAYERS).flatMap(([name, allowed]) => {
  const testAllowed = [...allowed, ...(TEST_ONLY_LAYERS[name] ?? []), TEST_SUPPORT];
  return [
    {
      name: `layer-${name}`,
      comment: `packages/${name}/src may import only ${allowed.length ? allowed.map((n) => `@gitfleet/${n}`).join(', ') : 'no other package'} (LAYERS in .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: `^packages/${escape(name)}/src/` },
      to: { path: `^(server|test|scripts|packages/(?!${anyOf([name, ...allowed])}/)[^/]+)/` },
    },
    {
      name: `layer-${name}-tests`,
      comment: `packages/${name}/test may import only ${testAllowed.map((n) => `@gitfleet/${n}`).join(', ')} (LAYERS and TEST_ONLY_LAYERS in .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: `^packages/${escape(name)}/test/` },
      to: { path: `^(server|test|scripts|packages/(?!${anyOf([name, ...testAllowed])}/)[^/]+)/` },
    },
  ];
});

/** Production code: what ships. Test support, tests and scripts are not. */
const PRODUCTION = `^(server|packages/(?!${escape(TEST_SUPPORT)}/)[^/]+)/src/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import cycle, type-only or not: import from the module that defines the name, not from a barrel (index.ts) that re-exports it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'events-reads-only-protocol-types',
      comment:
        "events sits beside protocol: it describes what a push did (AppliedRefUpdate) with protocol's types and never calls protocol.",
      severity: 'error',
      from: { path: '^packages/events/src/' },
      to: { path: '^packages/protocol/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-package-imports-server',
      comment: 'server composes the packages; a package that imports it turns the layering upside down.',
      severity: 'error',
      from: { path: `^packages/(?!${escape(TEST_SUPPORT)}/)[^/]+/` },
      to: { path: '^server/' },
    },
    {
      name: 'no-test-code-in-production',
      comment: 'Production code imports neither @gitfleet/test-support nor any test folder.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { path: `^(test/|packages/${escape(TEST_SUPPORT)}/|(server|packages/[^/]+)/test/)` },
    },
    {
      name: 'only-through-package-name',
      comment: 'Another workspace is imported through its name (@gitfleet/<name>), never by a relative path into its src/ or test/ folder.',
      severity: 'error',
      from: { path: '^(packages/[^/]+|server|test)/' },
      to: { path: '^(packages/[^/]+|server|test)/', pathNot: '^$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'scripts-only-entry-points',
      comment:
        'Scripts have no package.json to import workspaces by name: they import the files a package.json `exports`, by relative path, and nothing else of a workspace.',
      severity: 'error',
      from: { path: '^scripts/' },
      to: {
        path: '^(packages/[^/]+|server|test)/',
        pathNot: entryPoints.map((file) => `^${escape(file)}$`),
      },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to no file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Type-only imports are dependencies too: they make cycles and cross layers like any other.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
