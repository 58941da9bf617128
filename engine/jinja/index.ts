// kplay's Jinja: Ansible's expression and template language. What the runner uses; everything else is internal.

export { Jinja, Scope, TemplateError, OMIT, type JinjaOptions, type ScopeOptions, type UserFilter, type UserTest } from './jinja.ts';
export { loadPlugins, type Plugins } from './plugins.ts';
export { markUnsafe, containsUnsafe, toPlain, UnsafeText, PyFloat, LazyMap } from './values.ts';
export { pyToJson } from './serialize.ts';
export type { VariableSource } from './interpret.ts';
export type { TextAt } from './parse.ts';
