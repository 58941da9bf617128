// user: a local account, made with useradd, changed with usermod, removed with userdel, with the flags Ansible's
// user module passes on Linux (so both leave the same /etc/passwd, group and shadow entries).
//
// Reads /etc/passwd, /etc/group and /etc/shadow at once (accounts.ts); plans the one command that closes the gap;
// its effects rewrite those files as the command would, so later tasks of a --check run see the user.

import { shellQuote } from '../core/shell.ts';
import type { FileEffect, Plan } from './contract.ts';
import { ModuleError, defineModule, type ModuleContext } from './contract.ts';
import { findGroup, freeId, groupLine, passwdLine, readAccounts, withLine, type Accounts, type GroupEntry, type PasswdEntry } from './accounts.ts';
import { asBecome } from './file-attrs.ts';

interface UserArgs {
  name: string;
  state: 'present' | 'absent';
  uid?: number;
  non_unique: boolean;
  group?: string;
  groups?: string[];
  append: boolean;
  shell?: string;
  home?: string;
  create_home: boolean;
  move_home: boolean;
  skeleton?: string;
  system: boolean;
  password?: string;
  update_password: 'always' | 'on_create';
  comment?: string;
  remove: boolean;
  force: boolean;
  expires?: number;
  generate_ssh_key: boolean;
  ssh_key_bits: number;
  ssh_key_type: string;
  ssh_key_file?: string;
  ssh_key_comment?: string;
  ssh_key_passphrase?: string;
}

// Debian's defaults (/etc/login.defs, /etc/default/useradd), for what --check predicts a new account gets.
const UID_MIN = 1000;
const UID_MAX = 60000;
const SYS_MAX = 999;
const SYS_MIN = 100;
const DEFAULT_GROUP = 100;

const q = (words: string[]): string => words.map(shellQuote).join(' ');

/** The expires argument as shadow's days since the epoch ('' for never). */
const expiresDays = (expires: number): string => (expires < 0 ? '' : String(Math.floor(expires / 86400)));
const expiresDate = (expires: number): string => (expires < 0 ? '' : new Date(Math.floor(expires) * 1000).toISOString().slice(0, 10));

function groupsOf(acc: Accounts, user: PasswdEntry): string[] {
  return acc.groups.filter((g) => g.gid !== user.gid && g.members.includes(user.name)).map((g) => g.name);
}

function resolveGroups(acc: Accounts, wanted: string[]): string[] {
  return wanted.map((ref) => {
    const g = findGroup(acc.groups, ref);
    if (!g) throw new ModuleError(`Group ${ref} does not exist`);
    return g.name;
  });
}

export default defineModule<UserArgs>({
  name: 'user',
  spec: {
    args: {
      name: { type: 'str', required: true, aliases: ['user'] },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      uid: { type: 'int' },
      non_unique: { type: 'bool', default: false, description: 'Allow a uid another user has (-o).' },
      group: { type: 'str', description: 'The primary group (name or gid); it must exist.' },
      groups: { type: 'list', elements: 'str', description: 'Supplementary groups; [] or "" removes all (unless append).' },
      append: { type: 'bool', default: false, description: 'Add to `groups` without leaving the others.' },
      shell: { type: 'str' },
      home: { type: 'path' },
      create_home: { type: 'bool', default: true, aliases: ['createhome'] },
      move_home: { type: 'bool', default: false, description: 'With a new `home`, move the old one there.' },
      skeleton: { type: 'path', description: 'Folder copied into a new home (default /etc/skel).' },
      system: { type: 'bool', default: false, description: 'A system account (uid below 1000), on creation only.' },
      password: { type: 'str', noLog: true, description: 'A crypt(3) hash, as in /etc/shadow (not the clear text).' },
      update_password: { type: 'str', default: 'always', choices: ['always', 'on_create'] },
      comment: { type: 'str', description: 'The GECOS field.' },
      remove: { type: 'bool', default: false, description: 'With state=absent: remove the home and mail spool too.' },
      force: { type: 'bool', default: false, description: 'With state=absent: remove even if logged in.' },
      expires: { type: 'float', description: 'Account expiry, seconds since the epoch; negative: never.' },
      generate_ssh_key: { type: 'bool', default: false, description: 'Make an SSH key pair for the user unless one exists.' },
      ssh_key_bits: { type: 'int', default: 0, description: "Key size (0: ssh-keygen's default for the type)." },
      ssh_key_type: { type: 'str', default: 'rsa' },
      ssh_key_file: { type: 'path', description: 'Default .ssh/id_<type> in the home (relative paths are from the home).' },
      ssh_key_comment: { type: 'str', description: 'Default "ansible-generated on <hostname>".' },
      ssh_key_passphrase: { type: 'str', noLog: true },
    },
  },
  async plan(args, ctx) {
    const acc = await readAccounts(ctx);
    const current = acc.passwd.find((u) => u.name === args.name);
    const base = { name: args.name, state: args.state };

    if (args.state === 'absent') {
      const result = { ...base, force: args.force, remove: args.remove };
      if (!current) return { changed: false, result };
      const cmd = ['userdel', ...(args.force ? ['-f'] : []), ...(args.remove ? ['-r'] : []), args.name];
      // userdel also removes the user's own group when no one else is in it (USERGROUPS_ENAB).
      const own = acc.groups.find((g) => g.name === args.name && g.gid === current.gid && g.members.length === 0);
      let groupText = own ? withLine(acc.groupText, own.name, null) : acc.groupText;
      for (const g of acc.groups.filter((x) => x.members.includes(args.name) && x !== own)) {
        groupText = withLine(groupText, g.name, groupLine({ ...g, members: g.members.filter((m) => m !== args.name) }));
      }
      const effects: FileEffect[] = [
        { path: '/etc/passwd', state: 'file', content: Buffer.from(withLine(acc.passwdText, args.name, null)) },
        { path: '/etc/group', state: 'file', content: Buffer.from(groupText) },
        { path: '/etc/shadow', state: 'file', content: Buffer.from(withLine(acc.shadowText, args.name, null)) },
        ...(args.remove && current.home ? [{ path: current.home, state: 'absent' as const }] : []),
      ];
      return { changed: true, msg: `remove user ${args.name}`, result, effects, apply: () => run(ctx, cmd) };
    }

    const primary = args.group != null ? findGroup(acc.groups, args.group) : undefined;
    if (args.group != null && !primary) throw new ModuleError(`Group ${args.group} does not exist`);
    const groups = args.groups != null ? resolveGroups(acc, args.groups) : undefined;
    const plan = !current ? planCreate(args, ctx, acc, primary, groups) : await planModify(args, ctx, acc, current, primary, groups);
    return args.generate_ssh_key ? withSshKey(plan, args, ctx, current) : plan;
  },
});

/** generate_ssh_key: the key pair is made after the account exists (the same apply), only when its file is missing. */
async function withSshKey(plan: Plan, args: UserArgs, ctx: ModuleContext, current: PasswdEntry | undefined): Promise<Plan> {
  const result = plan.result as Record<string, unknown>;
  const home = String(result.home);
  const file = args.ssh_key_file ?? `.ssh/id_${args.ssh_key_type}`;
  const keyFile = file.startsWith('/') ? file : `${home.replace(/\/$/, '')}/${file}`;
  const become = asBecome(ctx.become);
  const report = `ssh-keygen -l -f ${shellQuote(`${keyFile}.pub`)} && echo @@pub && cat ${shellQuote(`${keyFile}.pub`)}`;
  const parse = (stdout: string): Record<string, unknown> => {
    const [fingerprint = '', pub = ''] = stdout.split('@@pub\n');
    return { ssh_key_file: keyFile, ssh_fingerprint: fingerprint.trim(), ssh_public_key: pub.trim() };
  };
  if (current && (await ctx.conn.stat(keyFile, become)).exists) {
    const r = await ctx.conn.exec(report, become);
    return { ...plan, result: { ...result, ...(r.rc === 0 ? parse(r.stdout) : { ssh_key_file: keyFile }) } };
  }
  const dir = shellQuote(keyFile.replace(/\/[^/]*$/, ''));
  const comment = args.ssh_key_comment ?? 'ansible-generated on $(hostname)';
  const keygen =
    `mkdir -p -m 700 -- ${dir} && u=$(id -u ${shellQuote(args.name)}) && g=$(id -g ${shellQuote(args.name)}) && chown "$u:$g" ${dir} && ` +
    `ssh-keygen -q -t ${shellQuote(args.ssh_key_type)}${args.ssh_key_bits > 0 ? ` -b ${args.ssh_key_bits}` : ''} ` +
    `-C "${comment.replace(/["\\`]/g, '\\$&')}" -f ${shellQuote(keyFile)} -N ${shellQuote(args.ssh_key_passphrase ?? '')} </dev/null >/dev/null && ` +
    `chown "$u:$g" ${shellQuote(keyFile)} ${shellQuote(`${keyFile}.pub`)} && ${report}`;
  const apply = plan.apply;
  return {
    ...plan,
    changed: true,
    msg: [plan.changed ? plan.msg : '', `ssh key ${keyFile}`].filter(Boolean).join(', '),
    result: { ...result, ssh_key_file: keyFile },
    effects: [...(plan.effects ?? []), { path: keyFile, state: 'file', mode: 0o600 }, { path: `${keyFile}.pub`, state: 'file', mode: 0o644 }],
    apply: async () => {
      if (plan.changed && apply) await apply();
      const r = await ctx.conn.exec(keygen, become);
      if (r.rc !== 0) throw new ModuleError(`ssh-keygen failed (rc ${r.rc}): ${(r.stderr || r.stdout).trim()}`);
      return parse(r.stdout);
    },
  };
}

function resultOf(args: UserArgs, user: PasswdEntry, groups: string[] | undefined): Record<string, unknown> {
  return {
    name: user.name,
    state: 'present',
    uid: user.uid,
    group: user.gid,
    ...(groups !== undefined ? { groups: groups.join(',') } : {}),
    comment: user.gecos,
    home: user.home,
    shell: user.shell,
    system: args.system,
    create_home: args.create_home,
    move_home: args.move_home,
    append: args.append,
    ...(args.password != null ? { password: 'NOT_LOGGING_PASSWORD' } : {}),
  };
}

function planCreate(args: UserArgs, ctx: ModuleContext, acc: Accounts, primary: GroupEntry | undefined, groups: string[] | undefined): Plan {
  const cmd = ['useradd'];
  if (args.uid != null) cmd.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
  const ownGroupExists = acc.groups.some((g) => g.name === args.name);
  if (primary) cmd.push('-g', args.group!);
  else if (ownGroupExists) cmd.push('-N'); // as Ansible: a group of that name exists, so useradd must not make one
  if (groups && groups.length > 0) cmd.push('-G', groups.join(','));
  if (args.comment != null) cmd.push('-c', args.comment);
  if (args.home != null) cmd.push('-d', args.home);
  if (args.shell != null) cmd.push('-s', args.shell);
  if (args.expires != null) cmd.push('-e', expiresDate(args.expires));
  if (args.password != null) cmd.push('-p', args.password);
  if (args.create_home) cmd.push('-m', ...(args.skeleton != null ? ['-k', args.skeleton] : []));
  else cmd.push('-M');
  if (args.system) cmd.push('-r');
  cmd.push(args.name);

  // What useradd would write, so later tasks of a --check run find the user, its group and its home.
  const usedUids = new Set(acc.passwd.map((u) => u.uid));
  const usedGids = new Set(acc.groups.map((g) => g.gid));
  const uid = args.uid ?? (args.system ? freeId(usedUids, SYS_MAX, SYS_MIN) : freeId(usedUids, UID_MIN, UID_MAX));
  let groupText = acc.groupText;
  let gid = primary?.gid ?? DEFAULT_GROUP;
  if (!primary && !ownGroupExists) {
    gid = usedGids.has(uid) ? (args.system ? freeId(usedGids, SYS_MAX, SYS_MIN) : freeId(usedGids, UID_MIN, UID_MAX)) : uid;
    groupText = withLine(groupText, args.name, groupLine({ name: args.name, password: 'x', gid, members: [] }));
  }
  for (const name of groups ?? []) {
    const g = findGroup(acc.groups, name)!;
    groupText = withLine(groupText, g.name, groupLine({ ...g, members: [...g.members, args.name] }));
  }
  const user: PasswdEntry = {
    name: args.name, password: 'x', uid, gid, gecos: args.comment ?? '', home: args.home ?? `/home/${args.name}`, shell: args.shell ?? '/bin/sh',
  };
  const shadowLine = [args.name, args.password ?? '!', String(Math.floor(Date.now() / 86400000)), '0', '99999', '7', '', args.expires != null ? expiresDays(args.expires) : '', ''].join(':');
  const effects: FileEffect[] = [
    { path: '/etc/passwd', state: 'file', content: Buffer.from(withLine(acc.passwdText, args.name, passwdLine(user))) },
    { path: '/etc/group', state: 'file', content: Buffer.from(groupText) },
    { path: '/etc/shadow', state: 'file', content: Buffer.from(withLine(acc.shadowText, args.name, shadowLine)) },
    ...(args.create_home ? [{ path: user.home, state: 'directory' as const, owner: args.name, mode: 0o700 }] : []),
  ];
  // A home whose parent is missing: useradd cannot make it, Ansible makes the parent first.
  const pre = args.create_home && args.home != null ? `mkdir -p -- ${shellQuote(args.home.replace(/\/[^/]*\/?$/, '') || '/')} && ` : '';
  return {
    changed: true,
    msg: `create user ${args.name}`,
    result: resultOf(args, user, groups),
    effects,
    apply: () => run(ctx, cmd, pre),
  };
}

async function planModify(args: UserArgs, ctx: ModuleContext, acc: Accounts, current: PasswdEntry, primary: GroupEntry | undefined, groups: string[] | undefined): Promise<Plan> {
  const cmd: string[] = [];
  const after: PasswdEntry = { ...current };
  const shadow = acc.shadow.get(args.name) ?? [];
  if (args.uid != null && args.uid !== current.uid) {
    cmd.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
    after.uid = args.uid;
  }
  if (primary && primary.gid !== current.gid) {
    cmd.push('-g', args.group!);
    after.gid = primary.gid;
  }
  const have = groupsOf(acc, current);
  let groupsAfter = have;
  if (groups !== undefined) {
    const missing = groups.filter((g) => !have.includes(g));
    const extra = have.filter((g) => !groups.includes(g));
    if (args.append ? missing.length > 0 : missing.length + extra.length > 0) {
      if (args.append) cmd.push('-a');
      cmd.push('-G', groups.join(','));
      groupsAfter = args.append ? [...have, ...missing] : groups;
    }
  }
  if (args.comment != null && args.comment !== current.gecos) {
    cmd.push('-c', args.comment);
    after.gecos = args.comment;
  }
  if (args.home != null && args.home !== current.home) {
    cmd.push('-d', args.home, ...(args.move_home ? ['-m'] : []));
    after.home = args.home;
  }
  if (args.shell != null && args.shell !== current.shell) {
    cmd.push('-s', args.shell);
    after.shell = args.shell;
  }
  const shadowAfter = [...shadow];
  if (args.password != null && args.update_password === 'always' && args.password !== shadow[1]) {
    cmd.push('-p', args.password);
    shadowAfter[1] = args.password;
  }
  if (args.expires != null && expiresDays(args.expires) !== (shadow[7] ?? '')) {
    cmd.push('-e', expiresDate(args.expires));
    shadowAfter[7] = expiresDays(args.expires);
  }
  // A missing home is made when create_home says so (as Ansible does for an existing user).
  const homeMissing = args.create_home && !(args.move_home && after.home !== current.home) &&
    !(await ctx.conn.stat(after.home, { follow: true, ...asBecome(ctx.become) })).exists;

  const result = resultOf(args, after, groups !== undefined ? groupsAfter : undefined);
  if (cmd.length === 0 && !homeMissing) return { changed: false, result };
  let groupText = acc.groupText;
  for (const g of acc.groups) {
    const member = g.members.includes(args.name);
    const wanted = groupsAfter.includes(g.name);
    if (member !== wanted) groupText = withLine(groupText, g.name, groupLine({ ...g, members: wanted ? [...g.members, args.name] : g.members.filter((m) => m !== args.name) }));
  }
  const effects: FileEffect[] = [
    { path: '/etc/passwd', state: 'file', content: Buffer.from(withLine(acc.passwdText, args.name, passwdLine(after))) },
    { path: '/etc/group', state: 'file', content: Buffer.from(groupText) },
    { path: '/etc/shadow', state: 'file', content: Buffer.from(withLine(acc.shadowText, args.name, shadowAfter.join(':'))) },
    ...(homeMissing || (args.move_home && after.home !== current.home) ? [{ path: after.home, state: 'directory' as const, owner: args.name, mode: 0o700 }] : []),
  ];
  const steps: string[] = [];
  if (cmd.length > 0) steps.push(q(['usermod', ...cmd, args.name]));
  if (homeMissing) {
    const home = shellQuote(after.home);
    const skel = shellQuote(args.skeleton ?? '/etc/skel');
    const umask = "$(sed -n 's/^UMASK[[:space:]]*\\([0-7]*\\).*/\\1/p' /etc/login.defs 2>/dev/null | head -1)";
    steps.push(
      `{ if [ -d ${skel} ]; then mkdir -p -- "$(dirname ${home})" && cp -a -- ${skel} ${home}; else mkdir -p -- ${home}; fi; } && ` +
        `u=${umask}; [ -z "$u" ] || chmod "$(printf '%o' $(( 0777 & ~0$u )))" ${home}; chown -R ${after.uid}:${after.gid} ${home}`,
    );
  }
  return {
    changed: true,
    msg: cmd.length > 0 ? `usermod ${args.name}` : `create home ${after.home}`,
    result,
    effects,
    apply: () => runScript(ctx, steps.join(' && ')),
  };
}

async function run(ctx: ModuleContext, cmd: string[], pre = ''): Promise<void> {
  await runScript(ctx, pre + q(cmd));
}

async function runScript(ctx: ModuleContext, script: string): Promise<void> {
  const r = await ctx.conn.exec(script, asBecome(ctx.become));
  if (r.rc !== 0) {
    // The command holds the password hash: say only which program failed.
    throw new ModuleError(`${script.split(' ')[0]} failed (rc ${r.rc}): ${(r.stderr || r.stdout).trim()}`, { rc: r.rc, stderr: r.stderr });
  }
}
