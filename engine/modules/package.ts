// package: the OS's own package module, chosen by the host's package manager (fact `ansible_pkg_mgr` when facts were
// gathered, else one round trip to find it). kplay has `apt`; for another manager it fails naming it. As Ansible's,
// every argument but `use` goes to the backend: apt's own (update_cache, install_recommends, default_release...).

import { ModuleError, defineModule, type ModuleContext } from './contract.ts';
import apt, { planApt, type AptArgs } from './apt.ts';

interface PackageArgs extends Omit<Partial<AptArgs>, 'name' | 'state'> {
  name: string[];
  state: string;
  use: string;
}

/** apt's arguments besides name and state, which package passes through. */
const { name: _name, state: _state, ...APT_ARGS } = apt.spec.args;

const DETECT = ['apt-get:apt', 'dnf:dnf', 'yum:yum', 'zypper:zypper', 'apk:apk', 'pacman:pacman', 'emerge:portage', 'pkg:pkgng'];

/** The manager from gathered facts, or asked of the host (the first of apt-get, dnf, yum... on its PATH). */
async function packageManager(ctx: ModuleContext): Promise<string> {
  const facts = ctx.vars.ansible_facts as Record<string, unknown> | undefined;
  const known = (ctx.vars.ansible_pkg_mgr ?? facts?.pkg_mgr) as string | undefined;
  if (known && known !== 'unknown') return known;
  const script = DETECT.map((d) => `command -v ${d.split(':')[0]} >/dev/null 2>&1 && { echo ${d.split(':')[1]}; exit 0; }`).join('\n') + '\necho unknown';
  const r = await ctx.conn.exec(script, { become: ctx.become });
  return r.stdout.trim() || 'unknown';
}

export default defineModule<PackageArgs>({
  name: 'package',
  spec: {
    args: {
      name: { type: 'list', elements: 'str', required: true, description: 'Package names (with `=version` for apt).' },
      state: { type: 'str', required: true, description: 'present, absent or latest (what the backend module takes).' },
      use: { type: 'str', default: 'auto', description: 'The package module to use; auto: the host\'s package manager.' },
      ...APT_ARGS,
    },
  },
  async plan(args, ctx) {
    const manager = args.use === 'auto' ? await packageManager(ctx) : args.use;
    if (manager !== 'apt') {
      throw new ModuleError(
        manager === 'unknown'
          ? 'Could not detect which package manager to use. Try gathering facts or setting the "use" option.'
          : `package: the host's package manager is ${manager}, and kplay has no module for it (kplay has: apt)`,
      );
    }
    if (!['present', 'absent', 'latest', 'fixed', 'installed', 'removed'].includes(args.state)) {
      throw new ModuleError(`value of state must be one of: present, absent, latest, fixed; got: ${args.state}`);
    }
    const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state;
    const { use: _use, name, ...backend } = args;
    return planApt({ ...backend, name, state: state as AptArgs['state'] }, ctx);
  },
});
