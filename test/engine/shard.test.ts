// --shard I/N splits a run's hosts across controllers: the shards are disjoint and cover every host, each host stays
// in its shard across runs and when other hosts join the inventory; merge-recaps joins the shards' JSON recaps.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kplay } from '../helpers/kplay.ts';

const names = (count: number) => Array.from({ length: count }, (_, i) => `node-${String(i).padStart(3, '0')}.example`);

function inventory(dir: string, file: string, hosts: string[]): string {
  const path = join(dir, file);
  writeFileSync(path, stringify({ all: { hosts: Object.fromEntries(hosts.map((h) => [h, { ansible_connection: 'local' }])) } }));
  return path;
}

/** The hosts --list-hosts shows for one shard. */
async function listed(cwd: string, inventoryFile: string, shard: string, ...extra: string[]): Promise<string[]> {
  const r = await kplay(['run', 'site.yml', '-i', inventoryFile, '--list-hosts', '--shard', shard, ...extra], { cwd });
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim());
}

t.test('--shard', async (t) => {
  const cwd = t.testdir({ 'site.yml': stringify([{ hosts: 'all', gather_facts: false, tasks: [{ name: 'hello', debug: { msg: 'hi {{ inventory_hostname }}' } }] }]) });
  const hosts = names(60);
  const small = inventory(cwd, 'small.yml', hosts);
  const shards = await Promise.all([0, 1, 2, 3].map((i) => listed(cwd, small, `${i}/4`)));
  const all = shards.flat();
  t.equal(all.length, hosts.length, 'no host in two shards');
  t.same([...all].sort(), [...hosts].sort(), 'every host in one shard');
  t.ok(shards.every((s) => s.length >= 5), `every shard has hosts: ${shards.map((s) => s.length).join(', ')}`);
  t.same(await listed(cwd, small, '2/4'), shards[2], 'the same shard on the next run');

  const grown = inventory(cwd, 'grown.yml', [...names(90)].reverse());
  const again = await Promise.all([0, 1, 2, 3].map((i) => listed(cwd, grown, `${i}/4`)));
  for (const [i, shard] of shards.entries()) t.ok(shard.every((h) => again[i].includes(h)), `shard ${i}: its hosts stay when 30 join (in another order)`);

  t.same(await listed(cwd, small, '1/4', '--limit', 'node-00*'), shards[1].filter((h) => h.startsWith('node-00')), 'with --limit: both apply');

  for (const bad of ['4/4', '1', 'a/b', '0/0']) {
    const r = await kplay(['run', 'site.yml', '-i', small, '--shard', bad], { cwd });
    t.equal(r.code, 1, `--shard ${bad} is refused`);
    t.match(r.stderr, /--shard/);
  }
});

t.test('merge-recaps joins the shards of one run', async (t) => {
  const cwd = t.testdir({ 'site.yml': stringify([{ hosts: 'all', gather_facts: false, tasks: [{ name: 'hello', debug: { msg: 'hi' } }] }]) });
  const hosts = names(12);
  const inv = inventory(cwd, 'inventory.yml', hosts);
  const files: string[] = [];
  for (const i of [0, 1, 2]) {
    const r = await kplay(['run', 'site.yml', '-i', inv, '--shard', `${i}/3`, '--output', 'json'], { cwd });
    t.equal(r.code, 0, r.stderr);
    files.push(join(cwd, `shard-${i}.json`));
    writeFileSync(files[i], r.stdout);
  }
  const merged = await kplay(['merge-recaps', ...files], { cwd });
  t.equal(merged.code, 0, merged.stderr);
  const recap = JSON.parse(merged.stdout) as { type: string; hosts: Record<string, { ok: number; failed: number }> };
  t.equal(recap.type, 'recap');
  t.same(Object.keys(recap.hosts).sort(), [...hosts].sort(), 'every host of every shard');
  t.ok(Object.values(recap.hosts).every((c) => c.ok === 1 && c.failed === 0), 'with its counts');

  const overlap = await kplay(['merge-recaps', files[0], files[0]], { cwd });
  t.equal(overlap.code, 1, 'a host in two outputs is an error');
  t.match(overlap.stderr, /both/);
  writeFileSync(join(cwd, 'cut.json'), '{"type":"play"}\n');
  const cut = await kplay(['merge-recaps', files[1], join(cwd, 'cut.json')], { cwd });
  t.equal(cut.code, 1, 'an output without a recap is an error');
  t.match(cut.stderr, /no recap/);
});
