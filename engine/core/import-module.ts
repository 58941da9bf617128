// import() of an ES module chosen at run time: a user's module or filter plugin, the TypeScript loader. In the bundle
// the loader's import() does it (bin/load-bundle.js sets globalThis.kplayImport): on Node 20 a script compiled from
// V8's code cache has lost its own import() ("A dynamic import callback was not specified").

type Importer = (specifier: string) => Promise<unknown>;

const fromLoader = (globalThis as { kplayImport?: Importer }).kplayImport;

export const importModule: Importer = fromLoader ?? ((specifier) => import(specifier));

let tsLoader: Promise<void> | undefined;

/**
 * The TypeScript loader (tsx), registered once per process for a user's `.ts` modules and filter plugins, and only
 * when one is met (it costs start-up); not again when kplay itself runs from its sources through it.
 */
export function typescriptLoader(): Promise<void> {
  tsLoader ??= (importModule('tsx/esm/api') as Promise<typeof import('tsx/esm/api')>).then(({ register }) => {
    if (!process.env.KPLAY_TS_LOADED) register();
  });
  return tsLoader;
}
