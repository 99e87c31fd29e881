// Dependency direction (STYLE.md rule 1): shared ← queues ← {api, workers, relay, ticketing};
// process folders never import each other; the appliance agent uses only wire-level shared code.
const PROCESS = '^(api|workers|relay|appliance)/';
/** Modules whose path matches `from` may import none whose path matches `to`. */
const forbid = (name, from, to) => ({ name, severity: 'error', from: { path: from }, to: { path: to } });
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    forbid('shared-is-a-leaf', '^shared/', '^(queues|workers|api|relay|appliance|ticketing|scripts|bench)/'),
    forbid('queues-only-on-shared', '^queues/', '^(workers|api|relay|appliance|ticketing|scripts|bench)/'),
    forbid('ticketing-only-on-queues-and-shared', '^ticketing/', '^(workers|api|relay|appliance|scripts|bench)/'),
    { name: 'no-sideways-between-processes', severity: 'error', from: { path: PROCESS }, to: { path: PROCESS, pathNot: '^$1/' } },
    forbid('processes-do-not-import-entry-points', '^(shared|queues|api|workers|relay|appliance|ticketing)/', '^(scripts|bench|test)/'),
    {
      name: 'memory-stores-only-in-tests',
      comment: 'the in-memory stores are for fast unit tests; no process, CLI or bench builds on them',
      severity: 'error',
      from: { pathNot: '^(test/|shared/store/memory/)' },
      to: { path: '^(shared/store/memory/|queues/memory-)' },
    },
    {
      name: 'agent-uses-wire-level-shared-only',
      comment: 'the agent ships to appliances: key codec, schemas, ssh key shapes, errors, durations, its own KTETHER_HOME reader; never the server config',
      severity: 'error',
      from: { path: '^appliance/' },
      to: {
        path: '^(shared|queues)/',
        pathNot: '^shared/(key/(key-codec|tether-key\\.schema|trusted-signers|sealing|password-escrow|fresh-keys)|ssh-keys|errors|duration|agent-env|protocol|relay-protocol|ssh2-packets|agent-defaults)\\.ts$',
      },
    },
    {
      name: 'agent-has-no-server-libraries',
      severity: 'error',
      from: { path: '^appliance/' },
      to: { path: 'node_modules/(ioredis|bullmq|fastify|nodemailer|smtp-server|pino)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
