// --tags / --skip-tags with Ansible's special tags: always, never, tagged, untagged, all.

export interface TagSelection {
  tags: string[];
  skipTags: string[];
}

export function selectedByTags(taskTags: readonly string[], selection: TagSelection): boolean {
  const has = (t: string): boolean => taskTags.includes(t);
  const requested = selection.tags.length > 0 ? selection.tags : ['all'];
  const matches = (list: readonly string[]): boolean =>
    list.some((t) =>
      t === 'all' ? !has('never') : t === 'tagged' ? taskTags.length > 0 : t === 'untagged' ? taskTags.length === 0 : has(t),
    );
  if (selection.skipTags.length > 0 && matches(selection.skipTags)) return false;
  if (has('always') && !selection.skipTags.includes('always')) return true;
  if (has('never') && !requested.some((t) => t !== 'all' && has(t))) return false;
  return matches(requested);
}
