// An apt repository for the lab: small Debian packages built with dpkg-deb, indexed with dpkg-scanpackages, a Release
// file, served over HTTP by this process on the lab's bridge address (the hosts' only network).
//
// Also prepares lab hosts for it (`isolateApt`: Debian's own sources removed, so `apt-get update` asks only this
// repository), and fetches python3-apt's .debs once into the lab's cache (`ansibleAptDebs`): Ansible's apt module needs
// python3-apt on the host, and the lab's base image does not hold it.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, ensureBase, sshArgs, sshRun, type LabState } from './nspawn.ts';

const exec = promisify(execFile);

export interface DebPackage {
  name: string;
  version: string;
  depends?: string;
  recommends?: string;
  /** Files the package installs: absolute path → content. */
  files?: Record<string, string>;
  /** Paths among `files` that are conffiles. */
  conffiles?: string[];
  description?: string;
}

/** The packages the package tests use. */
export const TEST_PACKAGES: DebPackage[] = [
  { name: 'kplay-hello', version: '1.0', files: { '/usr/share/kplay-hello/version': '1.0\n' } },
  { name: 'kplay-hello', version: '1.1', files: { '/usr/share/kplay-hello/version': '1.1\n' } },
  { name: 'kplay-old', version: '1.0', files: { '/usr/share/kplay-old/version': '1.0\n' } },
  { name: 'kplay-old', version: '2.0', files: { '/usr/share/kplay-old/version': '2.0\n' } },
  { name: 'kplay-lib', version: '2.0', files: { '/usr/share/kplay-lib/lib.txt': 'lib\n' } },
  { name: 'kplay-dep', version: '1.0', depends: 'kplay-lib (>= 2.0)', files: { '/usr/share/kplay-dep/dep.txt': 'dep\n' } },
  { name: 'kplay-extra', version: '1.0', files: { '/usr/share/kplay-extra/extra.txt': 'extra\n' } },
  { name: 'kplay-rec', version: '1.0', recommends: 'kplay-extra', files: { '/usr/share/kplay-rec/rec.txt': 'rec\n' } },
  {
    name: 'kplay-conf',
    version: '1.0',
    files: { '/etc/kplay-conf.conf': 'setting = 1\n', '/usr/share/kplay-conf/README': 'conf\n' },
    conffiles: ['/etc/kplay-conf.conf'],
  },
];

export const SUITE = 'kplay';
export const COMPONENT = 'main';

/** Build one package into `outDir` with dpkg-deb; returns the .deb's path. */
export async function buildDeb(pkg: DebPackage, outDir: string): Promise<string> {
  const root = join(outDir, 'build', `${pkg.name}_${pkg.version}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    'Architecture: all',
    'Maintainer: kplay tests <tests@kplay.invalid>',
    'Section: misc',
    'Priority: optional',
    ...(pkg.depends ? [`Depends: ${pkg.depends}`] : []),
    ...(pkg.recommends ? [`Recommends: ${pkg.recommends}`] : []),
    `Description: ${pkg.description ?? `${pkg.name} for kplay's package tests`}`,
  ];
  await writeFile(join(root, 'DEBIAN', 'control'), `${control.join('\n')}\n`);
  if (pkg.conffiles?.length) await writeFile(join(root, 'DEBIAN', 'conffiles'), `${pkg.conffiles.join('\n')}\n`);
  for (const [path, content] of Object.entries(pkg.files ?? {})) {
    const target = join(root, path);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, content);
    await chmod(target, 0o644);
  }
  const pool = join(outDir, 'pool');
  await mkdir(pool, { recursive: true });
  const deb = join(pool, `${pkg.name}_${pkg.version}_all.deb`);
  await exec('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return deb;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Write dists/SUITE/COMPONENT/binary-amd64/Packages and dists/SUITE/Release for every .deb in pool/. */
export async function indexRepo(dir: string): Promise<void> {
  const { stdout } = await exec('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: dir, maxBuffer: 16 << 20 });
  const entries: { path: string; data: Buffer }[] = [];
  for (const arch of ['amd64']) {
    const rel = `${COMPONENT}/binary-${arch}/Packages`;
    await mkdir(join(dir, 'dists', SUITE, COMPONENT, `binary-${arch}`), { recursive: true });
    await writeFile(join(dir, 'dists', SUITE, rel), stdout);
    entries.push({ path: rel, data: Buffer.from(stdout) });
  }
  const release = [
    'Origin: kplay',
    'Label: kplay tests',
    `Suite: ${SUITE}`,
    `Codename: ${SUITE}`,
    `Date: ${new Date().toUTCString()}`,
    'Architectures: amd64',
    `Components: ${COMPONENT}`,
    'SHA256:',
    ...entries.map((e) => ` ${sha256(e.data)} ${String(e.data.length).padStart(8)} ${e.path}`),
  ];
  await writeFile(join(dir, 'dists', SUITE, 'Release'), `${release.join('\n')}\n`);
}

export interface AptRepo {
  dir: string;
  /** http://<bridge address>:<port>/ */
  url: string;
  /** Paths served so far (to see that a host asked). */
  requests: string[];
  /** The .deb built for a package version. */
  debPath(name: string, version: string): string;
  stop(): Promise<void>;
}

/** Build the packages, index them and serve the folder on `address` (the lab's bridge, `.1` of its subnet). */
export async function startAptRepo(dir: string, address: string, packages: DebPackage[] = TEST_PACKAGES): Promise<AptRepo> {
  await mkdir(dir, { recursive: true });
  for (const pkg of packages) await buildDeb(pkg, dir);
  await indexRepo(dir);
  const requests: string[] = [];
  const root = normalize(dir) + sep;
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(url);
    const path = normalize(join(dir, url));
    if (!path.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    stat(path)
      .then((st) => {
        if (!st.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-length': st.size, 'last-modified': st.mtime.toUTCString() });
        if (req.method === 'HEAD') res.end();
        else createReadStream(path).pipe(res);
      })
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    dir,
    url: `http://${address}:${port}/`,
    requests,
    debPath: (name, version) => join(dir, 'pool', `${name}_${version}_all.deb`),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The bridge's address: `.1` of the lab's subnet. */
export function bridgeAddress(lab: Pick<LabState, 'subnet'>): string {
  return lab.subnet.replace(/\.0\/\d+$/, '.1');
}

/** Remove Debian's own sources and lists from a lab host, so apt asks only the test repository; the lists look old (cache_valid_time sees them as out of date). */
export async function isolateApt(lab: LabState, host: string): Promise<void> {
  const r = await sshRun(
    lab,
    host,
    'rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock -delete && rm -f /var/lib/apt/periodic/update-success-stamp && touch -d @0 /var/lib/apt/lists',
  );
  if (r.rc !== 0) throw new Error(`${host}: could not isolate apt: ${r.stderr}`);
}

const ANSIBLE_DEBS = ['python3-apt', 'python-apt-common', 'distro-info-data'];

/**
 * python3-apt and what it needs that the base lacks, as .debs cached in the lab's cache folder (fetched once with
 * `apt-get download` from the machine's Debian mirror, as the base image itself is).
 */
export async function ansibleAptDebs(): Promise<string[]> {
  const dir = join(CACHE_DIR, 'ansible-debs');
  await mkdir(dir, { recursive: true });
  const have = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.deb')).map((f) => join(dir, f));
  let debs = await have();
  if (ANSIBLE_DEBS.some((name) => !debs.some((d) => d.split('/').pop()!.startsWith(`${name}_`)))) {
    const aptGet = (args: string[]) =>
      new Promise<{ rc: number; stderr: string }>((resolve) => {
        execFile('apt-get', args, { cwd: dir }, (error, _out, stderr) => resolve({ rc: error ? 1 : 0, stderr: String(stderr) }));
      });
    let r = await aptGet(['download', ...ANSIBLE_DEBS]);
    // The machine's package lists may be missing or stale: refresh them once and try again.
    if (r.rc !== 0) r = (await aptGet(['update', '-qq'])).rc === 0 ? await aptGet(['download', ...ANSIBLE_DEBS]) : r;
    if (r.rc !== 0) throw new Error(`apt-get download ${ANSIBLE_DEBS.join(' ')} failed: ${r.stderr}`);
    debs = await have();
  }
  return debs;
}

/**
 * Debian packages and every dependency the lab's base image lacks, as .debs cached once in the lab's cache folder
 * (`<cache>/<name>-debs`). The set is what `apt-get install` would add to the base (its dpkg status, its suite's
 * versions: the base is built without the security suite, so e.g. perl's libraries must match its perl-base), fetched
 * with `apt-get download` from the machine's Debian mirror as the base itself is.
 */
export async function debsForBase(name: string, packages: string[]): Promise<string[]> {
  const dir = join(CACHE_DIR, `${name}-debs`);
  await mkdir(dir, { recursive: true });
  const have = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.deb')).map((f) => join(dir, f));
  const debs = await have();
  if (packages.every((p) => debs.some((d) => d.split('/').pop()!.startsWith(`${p}_`)))) return debs;
  const base = await ensureBase();
  const aptGet = (args: string[]) =>
    new Promise<{ rc: number; stdout: string; stderr: string }>((resolve) => {
      execFile('apt-get', args, { cwd: dir }, (error, stdout, stderr) => resolve({ rc: error ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }));
    });
  const simulate = ['-s', '-o', `Dir::State::status=${join(base, 'var/lib/dpkg/status')}`, '-t', 'bookworm', '--no-install-recommends', 'install', ...packages];
  let plan = await aptGet(simulate);
  // The machine's package lists may be missing or stale: refresh them once and try again.
  if (plan.rc !== 0) plan = (await aptGet(['update', '-qq'])).rc === 0 ? await aptGet(simulate) : plan;
  if (plan.rc !== 0) throw new Error(`apt-get -s install ${packages.join(' ')} against the lab's base failed: ${plan.stderr}`);
  const wanted = [...plan.stdout.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)].map((m) => `${m[1]}=${m[2]}`);
  const r = await aptGet(['download', ...wanted]);
  if (r.rc !== 0) throw new Error(`apt-get download ${wanted.join(' ')} failed: ${r.stderr}`);
  return have();
}

/** Install .debs on a lab host with dpkg (test setup, not under test). */
export async function installDebs(lab: LabState, host: string, debs: string[]): Promise<void> {
  const target = lab.hosts.find((h) => h.name === host);
  if (!target) throw new Error(`no lab host ${host}`);
  for (const deb of debs) {
    const name = deb.split('/').pop()!;
    const data = await readFile(deb);
    const rc = await new Promise<number>((resolve, reject) => {
      const child = spawn('ssh', [...sshArgs(lab, target.address), `cat > /tmp/${name}`], { stdio: ['pipe', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
      child.stdin.end(data);
    });
    if (rc !== 0) throw new Error(`${host}: could not copy ${name}`);
  }
  const names = debs.map((d) => `/tmp/${d.split('/').pop()!}`);
  const r = await sshRun(lab, host, `dpkg -i ${names.join(' ')} >/dev/null && rm -f ${names.join(' ')}`);
  if (r.rc !== 0) throw new Error(`${host}: dpkg -i: ${r.stderr}`);
}

export const hasDpkgDev = (): boolean => existsSync('/usr/bin/dpkg-scanpackages');
