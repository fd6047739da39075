/**
 * `stratus`: the one command. `up` starts a whole cloud; `journey` shows a request's hops;
 * `manage` is nova-manage / keystone-manage / *-manage; `snapshot` saves and restores state;
 * every OpenStack binary can also run alone (`stratus nova-compute --config-file F`).
 * @module
 */
import { Command } from 'commander';
import { register } from 'node:module';
import path from 'node:path';
import { StateDir, Snapshots } from './state-dir.js';
import type { ConfigOpts } from '../common/config/index.js';

// Kysely's CommonJS build in this process, registered before anything loads Kysely (see the hook).
register(new URL('./kysely-commonjs-hooks.mjs', import.meta.url));

const program = new Command();
program.name('stratus').description('OpenStack in TypeScript: one command starts a whole cloud.');

program
  .command('up')
  .description('start every service in one process (SQLite + in-process bus by default): Nova in one thread, the others in a second')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .option('--computes <n>', 'number of nova-compute hosts', '1')
  .option('--admin-password <pw>', 'admin password (generated and kept otherwise)')
  .option('--transport-url <url>', 'message bus, e.g. rabbit://guest:guest@127.0.0.1:5672/')
  .option('--database-url <url>', 'database server, e.g. mysql+pymysql://root@127.0.0.1 or postgresql://postgres@127.0.0.1')
  .option('--bind-host <host>', 'address the APIs listen on', '127.0.0.1')
  .option('--random-ports', 'free ports instead of the well-known ones (several clouds on one machine)')
  .option('--threads <n>', '2: Nova in the main thread, the other services in a worker thread; 1: one thread (debugging with breakpoints); default 2 with >= 2 CPUs')
  .option('--config-file <file>', 'oslo.config file (repeatable; later wins), e.g. keystone [security_compliance]', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--config-dir <dir>', 'directory of *.conf files read after the config files', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .action(async (o: { stateDir: string; computes: string; adminPassword?: string; transportUrl?: string; databaseUrl?: string; bindHost: string; randomPorts?: boolean; threads?: string; configFile: string[]; configDir: string[] }) => {
    if (o.threads !== undefined && o.threads !== '1' && o.threads !== '2') throw new Error(`--threads must be 1 or 2, not '${o.threads}'`);
    const { startCloud } = await import('./cloud.js');
    let config: ConfigOpts | undefined;
    if (o.configFile.length || o.configDir.length) {
      const { ConfigOpts } = await import('../common/config/index.js');
      config = new ConfigOpts();
      config.load({ configFiles: o.configFile, configDirs: o.configDir });
    }
    const t0 = performance.now();
    const cloud = await startCloud({
      stateDir: o.stateDir,
      computes: Number(o.computes),
      ...(o.adminPassword ? { adminPassword: o.adminPassword } : {}),
      ...(o.transportUrl ? { transportUrl: o.transportUrl } : {}),
      ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
      bindHost: o.bindHost,
      randomPorts: o.randomPorts ?? false,
      ...(config ? { config } : {}),
      ...(o.threads ? { threads: o.threads === '1' ? 1 : 2 } : {}),
      onProgress: (line) => console.log(`  started ${line}`),
      // The worker thread failed: the cloud has stopped already.
      onFailure: (e) => {
        console.error(`stratus: ${e.stack ?? e.message}`);
        console.log('Stopped.');
        process.exit(1);
      },
    });
    const secs = ((performance.now() - t0) / 1000).toFixed(2);
    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    console.log(`Stratus is up (${secs} s)`);
    console.log(`  openrc:      ${rel(cloud.state.file('openrc'))}`);
    console.log(`  clouds.yaml: ${rel(cloud.state.file('clouds.yaml'))} (cloud "stratus")`);
    console.log(`  admin password: ${cloud.admin.password}`);
    console.log(`  logs: ${rel(cloud.state.file('stratus.log'))}   journeys: stratus journey --last --state-dir ${rel(cloud.state.root)}`);
    console.log(`Try: source ${rel(cloud.state.file('openrc'))} && openstack server list`);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      console.log('Stopping...');
      await cloud.stop();
      console.log('Stopped.');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
  });

program
  .command('journey [args...]')
  .description('print the hops of one request (any request id of it), nested by cause, with timings; --last, --list [N], --json')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .allowUnknownOption()
  .action(async (args: string[], o: { stateDir: string }, cmd: Command) => {
    const { journeyCommand } = await import('../common/journey/command.js');
    const passthrough = cmd.args.filter((a) => a !== '--state-dir' && a !== o.stateDir);
    process.exitCode = await journeyCommand(new StateDir(o.stateDir).root, passthrough.length ? passthrough : args);
  });

const snapshot = program.command('snapshot').description('save and restore the whole state of a stopped cloud');
snapshot
  .command('save <name>')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .action((name: string, o: { stateDir: string }) => {
    console.log(`saved ${new Snapshots(new StateDir(o.stateDir)).save(name)}`);
  });
snapshot
  .command('restore <name>')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .action((name: string, o: { stateDir: string }) => {
    new Snapshots(new StateDir(o.stateDir)).restore(name);
    console.log(`restored ${name}`);
  });
snapshot
  .command('list')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .action((o: { stateDir: string }) => {
    for (const s of new Snapshots(new StateDir(o.stateDir)).list()) console.log(`${s.name}\t${s.created.toISOString()}`);
  });

program
  .command('manage <service> [args...]')
  .description('keystone-manage / nova-manage / <service>-manage: db sync, db version, fernet_setup, cell_v2 ...')
  .option('--state-dir <dir>', 'state directory', '.stratus')
  .option('--config-file <file>', 'configuration file (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .allowUnknownOption()
  .action(async (service: string, args: string[], o: { stateDir: string; configFile: string[] }) => {
    const { manage } = await import('./manage.js');
    process.exitCode = await manage(service, args, { stateDir: new StateDir(o.stateDir), configFiles: o.configFile });
  });

/** `stratus <binary> --config-file F`: one OpenStack binary in this process. */
async function runOneBinary(name: string, argv: string[]): Promise<void> {
  const { runBinary } = await import('./binaries.js');
  const running = await runBinary(name, argv);
  console.log(`${running.describe}`);
  const stop = async () => {
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

const BINARY_RE = /^(keystone|placement-api|glance-api|neutron-[a-z0-9-]+|nova-[a-z-]+|cinder-[a-z-]+)$/;
const first = process.argv[2];
const main = first && BINARY_RE.test(first) ? runOneBinary(first, process.argv.slice(3)) : program.parseAsync(process.argv);
main.catch((e: unknown) => {
  console.error(`stratus: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
