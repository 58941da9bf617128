// template: render a file from the controller (templates/ of the role, or beside the playbook) with the host's
// variables, then place it exactly as copy does: Jinja with Ansible's settings, or EJS for a `.ejs` file. Result
// `checksum` is the sha256 of the rendered text.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { renderTemplate } from '../vars/template.ts';
import { decodeKeepingBytes, encodeKeepingBytes } from '../core/raw-text.ts';
import { defineModule } from './contract.ts';
import { omitNulls } from '../core/given.ts';
import { placeFile, type PlaceFileArgs } from './place-file.ts';

interface TemplateArgs extends PlaceFileArgs {
  src: string;
}

export default defineModule<TemplateArgs>({
  name: 'template',
  spec: {
    args: {
      src: { type: 'path', required: true, description: 'A Jinja file (.j2), or EJS (.ejs): templates/ of the role, or beside the playbook.' },
      dest: { type: 'path', required: true },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
      backup: { type: 'bool', default: false, description: 'Keep the old file as dest.<timestamp>~ (result backup_file).' },
      force: { type: 'bool', default: true, description: 'false: only write when dest does not exist.' },
      validate: { type: 'str', description: 'Check the new file before it replaces dest: a command with %s for its path.' },
    },
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    const src = ctx.findFile(args.src, 'templates');
    // A template that is not UTF-8 (Latin-1, say) keeps its bytes through rendering, as Ansible's does.
    const { text: source, raw } = decodeKeepingBytes(await readFile(src));
    let text: string;
    if (src.endsWith('.ejs')) {
      // Ansible's template_* variables over the host's own (a prototype link: the host's are not copied or read).
      const vars = Object.assign(Object.create(ctx.vars) as Record<string, unknown>, {
        template_path: src,
        template_destpath: args.dest,
        template_host: ctx.hostName,
      });
      text = renderTemplate(source, src, vars);
    } else {
      text = ctx.renderTemplate(source, src, { template_destpath: args.dest });
    }
    // A dest that is a directory (or a link to one) gets the template's own name, as in Ansible.
    return placeFile({ ...args, content: raw ? encodeKeepingBytes(text) : Buffer.from(text), nameInDir: basename(args.src), result: { src } }, ctx);
  },
});
