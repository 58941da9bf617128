// One scope of variables per host and task, merged in Ansible's precedence order (lowest first; later wins, whole
// values replace, no deep merge):
//   1. role defaults (defaults/main.yml; a dependency's below the role that needs it)
//   2. inventory: group `all` < parent groups < child groups < host (inventory file < group_vars/ host_vars/ beside
//      the inventory < beside the playbook)
//   3. gathered facts (ansible_facts and the ansible_* names)
//   4. play `vars`, then play `vars_files`
//   5. role vars (vars/main.yml)
//   6. block vars, then task vars (inner wins)
//   7. set_fact and registered results
//   8. role parameters and include_role/include_tasks parameters
//   9. extra vars (`-e`): always win
// Magic variables (inventory_hostname, groups, group_names, hostvars, play_hosts, ...) are set by kplay and cannot be
// overridden.

export interface VarLayers {
  roleDefaults: Record<string, unknown>[];
  inventory: Record<string, unknown>;
  facts: Record<string, unknown>;
  playVars: Record<string, unknown>;
  playVarsFiles: Record<string, unknown>;
  roleVars: Record<string, unknown>[];
  taskVars: Record<string, unknown>;
  hostFacts: Record<string, unknown>;
  params: Record<string, unknown>[];
  extraVars: Record<string, unknown>;
  magic: Record<string, unknown>;
}

export function mergeLayers(layers: VarLayers): Record<string, unknown> {
  return Object.assign(
    {},
    ...layers.roleDefaults,
    layers.inventory,
    layers.facts,
    layers.playVars,
    layers.playVarsFiles,
    ...layers.roleVars,
    layers.taskVars,
    layers.hostFacts,
    ...layers.params,
    layers.extraVars,
    layers.magic,
  ) as Record<string, unknown>;
}
