// Jinja speed: a 200-task play on 50 hosts, each task with a `when:`, three templated arguments and a name,
// evaluated as the runner will (one Jinja per run, one scope per host and task). Prints µs per expression.

import { Jinja } from '../engine/jinja/index.ts';

const HOSTS = 50;
const TASKS = 200;
const jinja = new Jinja();
const values = [
  '{{ app_dir }}/conf/{{ item_name }}.conf',
  '{{ users | map(attribute="name") | join(",") }}',
  '{{ port | int + 1 }}',
  'install {{ packages | length }} packages on {{ inventory_hostname }}',
];
const conditions = ['enabled | bool', "'web' in group_names", 'version is version("1.20", ">=")', 'extra is not defined or extra'];
let evaluations = 0;
const start = process.hrtime.bigint();
for (let h = 0; h < HOSTS; h++) {
  const hostVars = {
    inventory_hostname: `host${h}`,
    group_names: h % 2 ? ['web'] : ['db'],
    app_dir: '/opt/app',
    item_name: 'site',
    users: [{ name: 'a' }, { name: 'b' }],
    port: '8080',
    packages: ['nginx', 'curl'],
    enabled: 'yes',
    version: '1.24.1',
    derived: '{{ app_dir }}/data',
  };
  for (let i = 0; i < TASKS; i++) {
    const scope = jinja.createScope(hostVars);
    jinja.conditionsHold([conditions[i % conditions.length]], scope);
    for (const v of values) jinja.renderValue(v, scope);
    jinja.renderValue('{{ derived }}', scope);
    evaluations += 6;
  }
}
const us = Number(process.hrtime.bigint() - start) / 1000;
console.log(`${evaluations} evaluations in ${(us / 1000).toFixed(0)} ms: ${(us / evaluations).toFixed(2)} µs per expression (cold cache included)`);
