// `npm run lab -- up [N] | down | status`: real systemd hosts controller-0..N-1 to run playbooks against.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labStatus, startControllers, stopLab } from './nspawn.ts';

const INVENTORY = resolve(fileURLToPath(new URL('../../inventory/lab.yml', import.meta.url)));
const USAGE = 'usage: npm run lab -- up [N] | down | status';

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function main(argv: string[]): Promise<number> {
  const [command, countArg] = argv;
  const started = Date.now();
  switch (command) {
    case 'up': {
      const count = countArg === undefined ? 3 : Number(countArg);
      if (!Number.isInteger(count)) {
        console.error(USAGE);
        return 1;
      }
      const lab = await startControllers({ count, inventoryPath: INVENTORY, log: (line) => console.log(line) });
      for (const h of lab.hosts) console.log(`${h.name}  ${h.address}`);
      console.log(`inventory ${lab.inventoryPath}  key ${lab.keyPath}  known_hosts ${lab.knownHostsPath}`);
      console.log(`up in ${seconds(started)}`);
      return 0;
    }
    case 'down':
      await stopLab();
      console.log(`down in ${seconds(started)}`);
      return 0;
    case 'status': {
      const { state, hosts } = await labStatus();
      if (!state) {
        console.log('no lab');
        return 0;
      }
      for (const h of hosts) {
        const running = `running${h.nspawn ? '' : ' without its nspawn'}, ${h.processes} processes, ssh ${h.ssh ? 'up' : 'down'}`;
        const what = h.processes > 0 ? running : 'stopped';
        console.log(`${h.name}  ${h.address}  ${what}`);
      }
      console.log(`inventory ${state.inventoryPath}`);
      return hosts.every((h) => h.nspawn && h.ssh) ? 0 : 3;
    }
    default:
      console.error(USAGE);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
