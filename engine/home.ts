// Where kplay itself is installed (its package.json and shipped roles/), whether it runs from the TypeScript sources
// or from the bundle bin/kplay.js builds (which sets KPLAY_HOME, since a bundle's own location says nothing).

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KPLAY_HOME = process.env.KPLAY_HOME ?? resolve(fileURLToPath(import.meta.url), '../..');
