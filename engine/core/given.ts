// An argument written empty in YAML (`mode:`) is null, and null means "not given", as in Ansible: the argument
// checker leaves it out (so its default applies) and modules called directly treat it the same.

/** A value that counts as given: neither undefined nor null. */
export function isGiven<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

/** `args` without the entries that are not given. */
export function omitNulls<A extends object>(args: A): A {
  const given: Record<string, unknown> = {};
  for (const key in args) if (Object.hasOwn(args, key) && isGiven(args[key])) given[key] = args[key];
  return given as A;
}
