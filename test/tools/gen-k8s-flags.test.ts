// tools/gen-k8s-flags.ts on small flag facts of its own: lifetimes, rename targets and klog flags become rows, the
// value rules come along, and a fatal case of the facts that no rule or lifetime encodes stops the generation.

import t from 'tap';
import { generate } from '../../tools/gen-k8s-flags.ts';

type Source = Parameters<typeof generate>[0];

const facts = (crash: { component: string; item: string; fatalFrom: string }[] = []): Source => ({
  _meta: { generated: 'compiled from somewhere; newest release covered: 1.36' },
  components: {
    'kube-apiserver': {
      '--kubelet-https': { added: null, deprecated: '1.19', removed: '1.22', replacement: null },
      '--service-account-api-audiences': { added: '1.12', deprecated: null, removed: '1.25', replacement: '--api-audiences' },
      '--logtostderr': { added: null, deprecated: '1.23', removed: '1.26', replacement: null },
      '--service-account-issuer': { added: '1.12', deprecated: null, removed: null },
      '--service-account-key-file': { added: null, deprecated: null, removed: null },
      '--runtime-config': { added: null, deprecated: null, removed: null, valueRules: [{ value: "api/all (no '=true')", fails_from: '1.17', error: 'invalid value api/all=' }] },
    },
    'kube-controller-manager': { '--port': { added: null, deprecated: '1.10', removed: '1.24', replacement: '--secure-port' } },
    'kube-scheduler': {},
  },
  admissionPlugins: { 'A,B': { added: null, deprecated: null, removed: '1.25', replacement: 'C' } },
  configApis: { KubeSchedulerConfiguration: {}, EncryptionConfiguration: {} },
  ports: { 'kube-apiserver': { secure: { port: 6443 } } },
  crashOnStart: crash,
  minimalFlagSets: { _note: 'x', '1.21': { 'kube-apiserver': ['--v=2'] } },
});

t.test('rows, rename targets, klog flags, plugins', async (t) => {
  const table = generate(facts([{ component: 'kube-apiserver', item: '--kubelet-https', fatalFrom: '1.22' }]));
  const api = table.components['kube-apiserver'];
  t.same(api['--service-account-api-audiences'].renamedTo, '--api-audiences');
  t.same(api['--api-audiences'], { added: '1.12', deprecated: null, removed: null }, 'the rename target is a row');
  t.equal(api['--log-dir'].removed, '1.26', "klog's flags go with --logtostderr");
  t.equal(api['--profiling'].removed, null, 'a hardening flag is known');
  t.equal(api['--service-account-issuer'].repeatableFrom, '1.22');
  t.equal(table.components['kube-controller-manager']['--port'].renamedTo, undefined, '--secure-port only points the way');
  t.equal(table.components['kube-controller-manager']['--port'].replacement, '--secure-port');
  t.same(Object.keys(table.admissionPlugins), ['A', 'B']);
  t.equal(table.newest, '1.36');
  t.ok(table.rules.some((r) => r.id === 'runtime-config-api-all'));
  t.same(table.minimalFlagSets, { '1.21': { 'kube-apiserver': ['--v=2'] } });
});

t.test('a fatal case nothing encodes stops the generation', async (t) => {
  t.throws(() => generate(facts([{ component: 'kube-apiserver', item: '--brand-new=<bad>', fatalFrom: '1.33' }])), /crashOnStart kube-apiserver --brand-new=<bad>: not encoded/);
  const lost = facts();
  delete lost.components['kube-apiserver']['--kubelet-https'].removed;
  lost.crashOnStart = [{ component: 'kube-apiserver', item: '--kubelet-https', fatalFrom: '1.22' }];
  t.throws(() => generate(lost), /flag kube-apiserver --kubelet-https does not encode it/, 'a lifetime that does not say "removed" does not cover it');
  const rule = facts();
  rule.components['kube-apiserver']['--runtime-config'].valueRules!.push({ value: 'foo/v1', fails_from: '1.30', error: 'no foo' });
  t.throws(() => generate(rule), /--runtime-config value foo\/v1: not encoded/);
});
