// Assemble each stand-in into one self-contained executable Python script (the lab hosts have python3, no node):
// its version's facts, then the shared library and the program, with the development imports dropped.

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentFacts, readFlagTable, type KubeComponent } from './facts.ts';

export const STANDIN_PROGRAMS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'flanneld'] as const;
export type StandinProgram = (typeof STANDIN_PROGRAMS)[number];

/** The flannel release the lab installs unless told otherwise. */
export const DEFAULT_FLANNEL_VERSION = 'v0.25.1';

const SOURCES: Record<StandinProgram, string[]> = {
  'kube-apiserver': ['standin_lib.py', 'apiserver_rest.py', 'kube_apiserver.py'],
  'kube-controller-manager': ['standin_lib.py', 'kube_controller_manager.py'],
  'kube-scheduler': ['standin_lib.py', 'kube_scheduler.py'],
  kubelet: ['standin_lib.py', 'kubelet.py'],
  flanneld: ['standin_lib.py', 'flanneld.py'],
};

const sourceUrl = (name: string): URL => new URL(`./${name}`, import.meta.url);

/** `1.30` or `v1.30.2` → `1.30.2`-like text without the v (a missing patch number reads as .0). */
export function plainVersion(version: string): string {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(version);
  if (!m) throw new Error(`version "${version}" is not like 1.30.2`);
  return `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
}

/** One stand-in script: `version` is the Kubernetes version (or, for flanneld, the flannel version). */
export async function standinScript(program: StandinProgram, version: string): Promise<string> {
  const v = plainVersion(version);
  // flanneld and the kubelet carry their own flag lists (the table covers the control-plane components only).
  const facts = program === 'flanneld' || program === 'kubelet' ? { component: program, version: v } : componentFacts(program as KubeComponent, v, readFlagTable());
  const parts = await Promise.all(SOURCES[program].map((name) => readFile(sourceUrl(name), 'utf8')));
  const body = parts.map((text) => text.split('\n').filter((line) => !/build: inlined\s*$/.test(line)).join('\n')).join('\n');
  return [
    '#!/usr/bin/python3',
    `# ${program} v${v}: STAND-IN FOR TESTS, not the real binary. Built by kplay's test/lab/standins/build.ts.`,
    `FACTS = __import__('json').loads(${JSON.stringify(JSON.stringify(facts))})`,
    body,
  ].join('\n');
}

/** Write the stand-ins for `version` into `dir` (a local-folder install); returns their paths. */
export async function buildStandins(dir: string, version: string, flannelVersion = DEFAULT_FLANNEL_VERSION): Promise<Record<StandinProgram, string>> {
  await mkdir(dir, { recursive: true });
  const paths = {} as Record<StandinProgram, string>;
  for (const program of STANDIN_PROGRAMS) {
    const path = join(dir, program);
    await writeFile(path, await standinScript(program, program === 'flanneld' ? flannelVersion : version));
    await chmod(path, 0o755);
    paths[program] = path;
  }
  return paths;
}
