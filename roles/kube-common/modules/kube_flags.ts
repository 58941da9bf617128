// kube_flags: the flag lines of one Kubernetes component for the release in kube_version, set as a fact for its unit
// (`lines`, quoted for ExecStart) and its static pod (`args`, the same flags unquoted, one list item each). The role's own flags are fitted to the release (renamed or left out); a flag the user adds that the
// release does not accept fails the task, which master.yml runs before any host is changed.

import { ModuleError, defineModule } from 'kplay/module';
import { FlagError, loadFlagTable, plainFlags, renderFlags, type FlagValue } from '../lib/flag-table.ts';

interface KubeFlagsArgs {
  component: string;
  version?: string;
  checked: boolean;
  flags: Record<string, FlagValue>;
  extra_flags: Record<string, FlagValue>;
  unchecked: string[];
  fact?: string;
}

export default defineModule<KubeFlagsArgs>({
  name: 'kube_flags',
  controllerOnly: true,
  spec: {
    args: {
      component: { type: 'str', required: true, description: 'kube-apiserver, kube-controller-manager, kube-scheduler; or any program with checked: false.' },
      version: { type: 'str', description: 'The Kubernetes release, e.g. 1.30.2 (required when checked).' },
      checked: { type: 'bool', default: true, description: "false: a program the table does not cover (etcd, flanneld): the flags as given." },
      flags: { type: 'dict', default: {}, description: "The role's flags: fitted to the release." },
      extra_flags: { type: 'dict', default: {}, description: "The user's flags: checked against the release." },
      unchecked: { type: 'list', elements: 'str', default: [], description: 'Flags missing from the table, passed as they are.' },
      fact: { type: 'str', description: 'The fact to set (default: <component>_args with underscores).' },
    },
  },
  async plan(args) {
    try {
      if (args.checked && !args.version) throw new FlagError(`${args.component}: version is required to check its flags`);
      const rendered = args.checked
        ? renderFlags(loadFlagTable(), {
            component: args.component,
            version: args.version ?? '',
            defaults: args.flags,
            user: args.extra_flags,
            unchecked: args.unchecked,
          })
        : plainFlags({ ...args.flags, ...args.extra_flags });
      const fact = args.fact ?? `${args.component.replace(/-/g, '_')}_args`;
      return {
        changed: false,
        msg: [`${rendered.lines.length} flags for ${args.component}${args.version ? ` ${args.version}` : ''}`, ...rendered.warnings].join('; '),
        result: { lines: rendered.lines, args: rendered.args, flag_values: rendered.values, warnings: rendered.warnings },
        // `flag_values`, not `values`: in Jinja `x.values` is the dict's method.
        facts: { [fact]: { lines: rendered.lines, args: rendered.args, flag_values: rendered.values } },
      };
    } catch (error) {
      if (error instanceof FlagError) throw new ModuleError(error.message);
      throw error;
    }
  },
});
