// kplay's public API for a user's own module (`import { defineModule } from 'kplay/module'`): the module contract,
// the connection it plans through, and the helpers a module needs. Nothing else of engine/ is public.

export { defineModule, ModuleError } from './modules/contract.ts';
export type { ArgSpec, ArgType, FileDiff, FileEffect, Module, ModuleContext, ModuleSpec, Plan } from './modules/contract.ts';
export type { BecomeOptions, Connection, ExecOptions, ExecResult, FileStat, PutOptions, StatOptions } from './connection/connection.ts';
export { shellQuote } from './core/shell.ts';
