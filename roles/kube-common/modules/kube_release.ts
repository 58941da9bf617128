// kube_release: checks that the roles know kube_version and sets what depends on it besides flags: the apiVersions
// of the scheduler's and the encryption config files.

import { ModuleError, defineModule } from 'kplay/module';
import { FlagError, checkSupported, configApi, loadFlagTable, minorOf } from '../lib/flag-table.ts';

export default defineModule<{ version: string }>({
  name: 'kube_release',
  controllerOnly: true,
  spec: { args: { version: { type: 'str', required: true, description: 'The Kubernetes release, e.g. 1.30.2.' } } },
  async plan(args) {
    try {
      const table = loadFlagTable();
      checkSupported(table, args.version);
      const [major, minor] = minorOf(args.version);
      const scheduler = configApi(table, 'KubeSchedulerConfiguration', args.version);
      const encryption = configApi(table, 'EncryptionConfiguration', args.version);
      const facts = {
        kube_release: {
          minor: `${major}.${minor}`,
          scheduler_config: { apiVersion: scheduler.apiVersion, kind: scheduler.kind },
          encryption_config: { apiVersion: encryption.apiVersion, kind: encryption.kind },
        },
      };
      return { changed: false, msg: `Kubernetes ${args.version}: ${scheduler.apiVersion}`, result: facts.kube_release, facts };
    } catch (error) {
      if (error instanceof FlagError) throw new ModuleError(error.message);
      throw error;
    }
  },
});
