// The modules that ship with kplay, by the short name tasks use (`ansible.builtin.` prefixes are stripped by the registry).

import type { Module } from './contract.ts';
import apt from './apt.ts';
import aptRepository from './apt_repository.ts';
import assemble from './assemble.ts';
import assertModule from './assert.ts';
import authorizedKey from './authorized_key.ts';
import blockinfile from './blockinfile.ts';
import command from './command.ts';
import copy from './copy.ts';
import cron from './cron.ts';
import deb822Repository from './deb822_repository.ts';
import debug from './debug.ts';
import bootstrapToken from './bootstrap_token.ts';
import encryptionConfig from './encryption_config.ts';
import fail from './fail.ts';
import fetch from './fetch.ts';
import file from './file.ts';
import find from './find.ts';
import getUrl from './get_url.ts';
import getent from './getent.ts';
import group from './group.ts';
import hostname from './hostname.ts';
import includeVars from './include_vars.ts';
import iniFile from './ini_file.ts';
import kubeconfig from './kubeconfig.ts';
import kubectlApply from './kubectl_apply.ts';
import lineinfile from './lineinfile.ts';
import modprobe from './modprobe.ts';
import packageModule from './package.ts';
import packageFacts from './package_facts.ts';
import pause from './pause.ts';
import asyncStatus from './async_status.ts';
import pkiCa from './pki_ca.ts';
import pkiCert from './pki_cert.ts';
import pkiClusterFacts from './pki_cluster_facts.ts';
import pkiKeypair from './pki_keypair.ts';
import reboot from './reboot.ts';
import replace from './replace.ts';
import serviceFacts from './service_facts.ts';
import setFact from './set_fact.ts';
import setup from './setup.ts';
import shell from './shell.ts';
import slurp from './slurp.ts';
import stat from './stat.ts';
import sysctl from './sysctl.ts';
import systemd from './systemd.ts';
import tempfile from './tempfile.ts';
import template from './template.ts';
import unarchive from './unarchive.ts';
import uri from './uri.ts';
import user from './user.ts';
import waitFor from './wait_for.ts';

const modules = [
  assertModule, command, copy, debug, fail, file, getUrl, setFact, setup, shell, stat, template, waitFor, // ansible.builtin
  apt, aptRepository, deb822Repository, packageModule, packageFacts, // ansible.builtin: packages
  asyncStatus, authorizedKey, cron, getent, group, hostname, includeVars, modprobe, pause, reboot, serviceFacts, sysctl, uri, user, // system modules
  assemble, blockinfile, fetch, find, iniFile, lineinfile, replace, slurp, tempfile, unarchive, // ansible.builtin files (ini_file is community.general's)
  bootstrapToken, encryptionConfig, kubeconfig, kubectlApply, pkiCa, pkiCert, pkiClusterFacts, pkiKeypair, systemd, // kplay's own
] as Module[];

export const builtinModules: Record<string, Module> = Object.fromEntries(modules.map((m) => [m.name, m]));
