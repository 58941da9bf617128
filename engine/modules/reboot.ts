// reboot: reboot the host, wait until it is back, and go on over a new connection, as Ansible's reboot does.
//
// Reads the boot id first (boot_time_command); apply() asks for the reboot in the background (so the command returns
// before the connection drops), then reconnects until the boot id has changed and test_command succeeds, within
// reboot_timeout. In --check nothing happens and the task is reported changed, as in Ansible.

import { ModuleError, defineModule, type ModuleContext } from './contract.ts';
import { InterruptedError, type Connection } from '../connection/connection.ts';
import { sleepUnless } from '../core/sleep.ts';
import { asBecome } from './file-attrs.ts';

interface RebootArgs {
  reboot_timeout: number;
  connect_timeout?: number;
  msg: string;
  pre_reboot_delay: number;
  post_reboot_delay: number;
  test_command: string;
  boot_time_command: string;
  reboot_command?: string;
  search_paths: string[];
}


async function bootId(conn: Connection, ctx: ModuleContext, command: string): Promise<string> {
  const r = await conn.exec(command, asBecome(ctx.become));
  if (r.rc !== 0) throw new ModuleError(`boot_time_command failed (rc ${r.rc}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export default defineModule<RebootArgs>({
  name: 'reboot',
  spec: {
    args: {
      reboot_timeout: { type: 'int', default: 600, description: 'Seconds to wait for the host to come back and pass test_command.' },
      connect_timeout: { type: 'int', description: 'Accepted; the inventory timeout bounds each connection attempt.' },
      msg: { type: 'str', default: 'Reboot initiated by Ansible' },
      pre_reboot_delay: { type: 'int', default: 0, description: 'Seconds before rebooting (shutdown -r +minutes when 60 or more).' },
      post_reboot_delay: { type: 'int', default: 0, description: 'Seconds to wait after the host is back.' },
      test_command: { type: 'str', default: 'whoami', description: 'Must succeed before the host counts as back.' },
      boot_time_command: { type: 'str', default: 'cat /proc/sys/kernel/random/boot_id', description: 'Prints something that changes with every boot.' },
      reboot_command: { type: 'str', description: 'Instead of shutdown -r.' },
      search_paths: { type: 'list', elements: 'str', default: ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin'] },
    },
  },
  async plan(args, ctx) {
    const before = await bootId(ctx.conn, ctx, args.boot_time_command);
    return {
      changed: true,
      msg: 'reboot',
      result: { rebooted: true, elapsed: 0 },
      apply: async () => {
        const reconnect = ctx.reconnect;
        if (!reconnect) throw new ModuleError('this connection cannot reconnect, so kplay cannot wait for the reboot');
        const start = Date.now();
        const delay = Math.max(0, args.pre_reboot_delay);
        const minutes = Math.floor(delay / 60);
        const command =
          args.reboot_command ??
          `PATH="${args.search_paths.join(':')}:$PATH" shutdown -r ${minutes > 0 ? `+${minutes}` : 'now'} ${JSON.stringify(args.msg)}`;
        // In the background, after a moment: the command must return before sshd goes away.
        const pre = minutes > 0 ? 0 : delay;
        const r = await ctx.conn.exec(`(sleep ${pre + 1}; ${command}) >/dev/null 2>&1 </dev/null & echo started`, asBecome(ctx.become));
        if (r.rc !== 0) throw new ModuleError(`Reboot command failed: ${(r.stderr || r.stdout).trim()}`, { rebooted: false });
        const deadline = start + (args.reboot_timeout + delay) * 1000;
        let lastError = 'no answer yet';
        // Waits end at an interruption (Ctrl-C): the task ends as interrupted, not after the reboot timeout.
        const sleep = async (ms: number): Promise<void> => {
          if (!(await sleepUnless(ms, ctx.interrupted))) throw new InterruptedError(ctx.hostName);
        };
        await sleep((pre + 1) * 1000 + minutes * 60_000);
        while (Date.now() < deadline) {
          try {
            const conn = await reconnect();
            const now = await bootId(conn, ctx, args.boot_time_command);
            if (now !== before) {
              const t = await conn.exec(args.test_command, asBecome(ctx.become));
              if (t.rc === 0) {
                if (args.post_reboot_delay > 0) await sleep(args.post_reboot_delay * 1000);
                return { rebooted: true, elapsed: Math.round((Date.now() - start) / 1000) };
              }
              lastError = `test_command failed: ${t.stderr.trim()}`;
            } else lastError = 'the host has not rebooted yet (same boot id)';
          } catch (error) {
            if (error instanceof InterruptedError) throw error;
            lastError = error instanceof Error ? error.message : String(error);
          }
          await sleep(1000);
        }
        throw new ModuleError(`Timed out waiting for the host to come back after ${args.reboot_timeout} s: ${lastError}`, { rebooted: true, elapsed: Math.round((Date.now() - start) / 1000) });
      },
    };
  },
});
