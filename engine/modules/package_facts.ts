// package_facts: the installed packages as `ansible_facts.packages` (name → list of {name, version, arch, category,
// source}), read with one dpkg-query (apt is the manager kplay knows; `auto` finds it).

import { ModuleError, defineModule } from './contract.ts';
import { PLANNED_DPKG } from './apt.ts';

interface PackageFactsArgs {
  manager: string[];
  strategy: 'first' | 'all';
}

const MARK = '@@kplay-pkg@@';

export default defineModule<PackageFactsArgs>({
  name: 'package_facts',
  spec: {
    args: {
      manager: { type: 'list', elements: 'str', default: ['auto'], description: 'auto or apt.' },
      strategy: { type: 'str', default: 'first', choices: ['first', 'all'] },
    },
  },
  async plan(args, ctx) {
    const managers = args.manager.map((m) => m.toLowerCase());
    const unsupported = managers.filter((m) => m !== 'auto' && m !== 'apt');
    if (unsupported.length > 0) throw new ModuleError(`Unsupported package managers requested: ${unsupported.join(', ')} (kplay reads apt)`);
    const r = await ctx.conn.exec(
      `command -v dpkg-query >/dev/null || { echo ${MARK}none; exit 0; }; dpkg --print-architecture; ` +
        "dpkg-query -W -f='${db:Status-Status}\\t${Package}\\t${Architecture}\\t${Version}\\t${Section}\\n'",
      { become: ctx.become },
    );
    if (r.stdout.includes(`${MARK}none`)) {
      throw new ModuleError(`Could not detect a supported package manager from the following list: ${managers.join(', ')}`);
    }
    if (r.rc !== 0) throw new ModuleError(`dpkg-query failed: ${r.stderr.trim()}`);
    const native = /^(amd64|arm64|armhf|i386|ppc64el|s390x|riscv64|armel|mips64el)$/;
    const [hostArch, ...rows] = r.stdout.split('\n');
    const packages: Record<string, Record<string, string>[]> = {};
    for (const line of rows) {
      const [status, pkg, arch, version, section] = line.split('\t');
      if (status !== 'installed' || !pkg) continue;
      // python-apt names a package of a foreign architecture `name:arch`, as Ansible reports it.
      const name = arch !== 'all' && arch !== hostArch && native.test(arch) ? `${pkg}:${arch}` : pkg;
      (packages[name] ??= []).push({ name, version, arch, category: section, source: 'apt' });
    }
    // In --check, what earlier apt tasks of the run would install or remove (the overlay's planned dpkg stanzas).
    const overlay = ctx.conn;
    for (const path of overlay.plannedUnder?.(PLANNED_DPKG) ?? []) {
      const name = path.split('/').pop() ?? '';
      const stanza = (await ctx.conn.get(path))?.toString() ?? null;
      const get = (f: string): string => new RegExp(`^${f}: (.*)$`, 'm').exec(stanza ?? '')?.[1].trim() ?? '';
      if (stanza === null || get('Status').split(' ')[2] !== 'installed') delete packages[name];
      else packages[name] = [{ name, version: get('Version'), arch: get('Architecture'), category: get('Section'), source: 'apt' }];
    }
    // Merged into the host's ansible_facts (as Ansible does) and also given as `packages`, as facts are injected.
    const current = (ctx.vars.ansible_facts ?? {}) as Record<string, unknown>;
    return { changed: false, facts: { ansible_facts: { ...current, packages }, packages }, result: { ansible_facts: { packages } } };
  },
});
