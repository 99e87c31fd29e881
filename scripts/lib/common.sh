# Shared shell helpers for scripts/up, scripts/test and bench: install what is missing (Debian),
# install npm dependencies, build. Sourced, not run.

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# ensure_debian_pkg COMMAND PACKAGE: installs PACKAGE when COMMAND is missing (root only).
ensure_debian_pkg() {
  local cmd=$1 pkg=$2
  if command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $pkg (Debian package) for $cmd"
    if [ -z "${APT_UPDATED:-}" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  else
    log "missing $cmd: install it with: sudo apt-get install -y $pkg"
    exit 1
  fi
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1; then log "missing node: install Node.js 20 or newer"; exit 1; fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then log "Node.js $major is too old: need 20 or newer"; exit 1; fi
}

ssh2_binding_ok() {
  node -e "process.exit(require('ssh2/lib/protocol/crypto.js').bindingAvailable ? 0 : 1)"
}

# npm ci when node_modules is missing or older than the lock file.
ensure_npm_deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # The relay refuses to start without ssh2's native crypto binding (pure JS is 2-6x slower). It is
  # compiled at install; without a C++ toolchain that fails silently (ssh2's installer exits 0).
  if ! ssh2_binding_ok; then
    log "ssh2's native crypto binding is missing: rebuilding it"
    ensure_debian_pkg g++ g++
    ensure_debian_pkg make make
    ensure_debian_pkg python3 python3
    npm rebuild ssh2 --loglevel=error
    if ! ssh2_binding_ok; then
      log "ssh2's native crypto binding still does not build: see npm rebuild ssh2 --foreground-scripts"
      exit 1
    fi
  fi
  apply_dependency_patches
}

# Small patches to installed dependencies (patches/*.patch, unified diffs against the repo root,
# applied with patch -p1 after every install; patches/README.md says what each does and why).
# A patch already in place is left alone; one that no longer fits stops here: the dependency changed.
# test/relay/dependency-patches.test.ts checks that each one is in place.
apply_dependency_patches() {
  local p
  for p in patches/*.patch; do
    [ -e "$p" ] || continue
    if patch -p1 -R --dry-run -s -f <"$p" >/dev/null 2>&1; then continue; fi
    ensure_debian_pkg patch patch
    log "applying $p"
    if ! patch -p1 -N -s -f <"$p"; then
      log "$p does not apply: the patched dependency changed version; update or drop the patch"
      exit 1
    fi
  done
}

build() {
  npm run --silent build
  touch dist/.build-stamp
}

# Builds only when a source, the lock or a tsconfig is newer than the last build: a start with
# nothing changed skips tsc entirely.
build_if_stale() {
  if [ -f dist/.build-stamp ] && [ -z "$(find shared queues workers api relay appliance ticketing scripts bench \
      package-lock.json tsconfig.json tsconfig.build.json -newer dist/.build-stamp \
      \( -name '*.ts' -o -name '*.json' -o -name '*.html' -o -name '*.css' -o -name '*.js' \) -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  log "building (sources changed since the last build)"
  build
}
