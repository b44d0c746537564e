# Sourced by deploy/test_image.sh and setup/check_fresh_machine.sh: podman as
# it works on these machines (no registry; crun refuses hybrid cgroups; the
# default ulimits need CAP_SYS_RESOURCE).

# podman_config DIR: writes DIR/containers.conf (runc, cgroupfs, ulimits
# within the machine's) and exports CONTAINERS_CONF, which touches no system
# file.
podman_config() {
  local nofile=$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))
  cat >"$1/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=16384:16384"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_CONF="$1/containers.conf"
}

# bookworm_image DIR: makes the debian:bookworm image with debootstrap from
# the mirror apt uses, in DIR, unless it exists; sets made_base=1 when it made
# it (so that the caller removes it).
bookworm_image() {
  podman image exists debian:bookworm && return 0
  local mirror
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  debootstrap --variant=minbase bookworm "$1/rootfs" "$mirror" >"$1/debootstrap.log"
  tar -C "$1/rootfs" -c . | podman import - debian:bookworm >/dev/null
  rm -rf "$1/rootfs"
  made_base=1
}
