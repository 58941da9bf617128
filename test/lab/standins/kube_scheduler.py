# kube-scheduler stand-in: the flags of its version and its --config file (an apiVersion that version decodes,
# clientConnection.kubeconfig with a valid CA and client pair) checked as the real one checks them; then it keeps
# talking to the apiserver and serves /healthz (and /livez, /readyz from 1.31) on its secure port (10259).

from standin_lib import *  # noqa: F401,F403  build: inlined

PROGRAM = 'kube-scheduler'
KIND = 'KubeSchedulerConfiguration'
HEALTH_LIVEZ_READYZ_FROM = '1.31'  # ports.kube-scheduler.health in k8s-flags.json


def read_config(path):
    doc = read_yaml_file(path, '--config')
    if not isinstance(doc, dict):
        die('couldn\'t decode %s: not a %s' % (path, KIND))
    api, kind = doc.get('apiVersion'), doc.get('kind')
    accepted = FACTS['schedulerConfigApis']
    if kind != KIND or api not in accepted:
        die('no kind "%s" is registered for version "%s" in scheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme/scheme.go:30"'
            % (kind, api))
    if accepted[api]:
        log('%s' % accepted[api], 'W')
    return doc


def main():
    flags = kube_main_flags(sys.argv[1:], PROGRAM)
    flags_only_exit(PROGRAM)
    workdir = private_workdir(PROGRAM)
    if flags.get('config'):
        config = read_config(flags.get('config'))
        path = (config.get('clientConnection') or {}).get('kubeconfig')
        what = 'clientConnection.kubeconfig'
    else:
        path, what = flags.get('kubeconfig'), '--kubeconfig'
    if not path:
        die('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable')
    kubeconfig = load_kubeconfig(path, what, workdir)
    for name in ('authentication-kubeconfig', 'authorization-kubeconfig'):
        if flags.get(name):
            load_kubeconfig(flags.get(name), '--' + name, private_workdir(PROGRAM))
    link = ApiserverLink(kubeconfig, PROGRAM)
    link.run()
    paths = ['/healthz'] + (['/livez', '/readyz'] if at_least(FACTS['version'], HEALTH_LIVEZ_READYZ_FROM) else [])
    serve_component(flags, PROGRAM, link, paths)
    wait_forever()


if __name__ == '__main__':
    main()
