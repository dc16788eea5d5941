# Shared by the setup scripts: install Debian packages (once per run).

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: please install $* (e.g. sudo apt-get install -y $*)" >&2
    exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# A Python virtualenv at $1 (python3-venv installed if missing).
make_venv() {
  mkdir -p "$(dirname "$1")"
  python3 -m venv "$1" || { apt_install python3-venv; python3 -m venv "$1"; }
}
