// set_fact: set variables on the host for the rest of the run (any argument name is a fact name).

import { defineModule } from './contract.ts';

type SetFactArgs = Record<string, unknown> & { cacheable?: boolean };

export default defineModule<SetFactArgs>({
  name: 'set_fact',
  controllerOnly: true,
  spec: {
    anyArgs: true,
    args: { cacheable: { type: 'bool', default: false, description: 'Accepted for Ansible compatibility; no fact cache here.' } },
  },
  async plan(args) {
    const facts = Object.fromEntries(Object.entries(args).filter(([key]) => key !== 'cacheable'));
    return { changed: false, facts, result: { ansible_facts: facts } };
  },
});
