// An argument written empty in YAML (`mode:`) reaches a module as null; as in Ansible it means "not given".

export function omitNulls<A extends object>(args: A): A {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== null)) as A;
}
