// Where apt keeps what the package modules read and plan against: one place for apt, apt_repository and the rest.

export const SOURCES_LIST = '/etc/apt/sources.list';
export const SOURCES_DIR = '/etc/apt/sources.list.d';
/** Touched by every successful `apt-get update`: its mtime is the cache's age (cache_valid_time). */
export const UPDATE_STAMP = '/var/lib/apt/periodic/update-success-stamp';
