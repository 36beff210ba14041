#!/usr/bin/env bash
# Builds the .deb from a build folder with cpack and checks what an operator gets: the
# binary for the right architecture (ELF machine and Debian Architecture), the unit, the
# sysusers file, the default config marked as a conffile, maintainer scripts that create the
# user and never enable or start the service. Exits 77 (ctest: skipped) without dpkg-deb.
#
#   deb_test.sh BUILD_DIR DEB_ARCH ELF_MACHINE      e.g. build/dev amd64 X86-64
set -euo pipefail
build=$1 arch=$2 machine=$3
for tool in dpkg-deb cpack readelf; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$tmp"/out/depot-agent_*_"$arch".deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { ls -l "$tmp/out"; echo "FAIL: no depot-agent_*_$arch.deb"; exit 1; }
echo "== $(basename "$deb") ($(stat -c %s "$deb") bytes)"
dpkg-deb -I "$deb" | sed 's/^/   /'
dpkg-deb -c "$deb" | awk '{print "   " $1, $2, $6}'

contents=$(dpkg-deb -c "$deb")
has() { grep -qE " \./$1\$" <<<"$contents"; }
check "binary /usr/bin/depot-agent" has usr/bin/depot-agent
check "unit /usr/lib/systemd/system/depot-agent.service" has usr/lib/systemd/system/depot-agent.service
check "sysusers /usr/lib/sysusers.d/depot-agent.conf" has usr/lib/sysusers.d/depot-agent.conf
check "default config /etc/depot-agent/agent.json" has etc/depot-agent/agent.json
for hook in alarm-sms-smstools alarm-mail-msmtp alarm-gpio-buzzer; do
  check "example hook $hook, executable" bash -c \
    "grep -qE '^-rwxr-xr-x .* \./usr/share/doc/depot-agent/examples/hooks/$hook\$' <<<\"\$1\"" _ "$contents"
done
check "Architecture: $arch" test "$(dpkg-deb -f "$deb" Architecture)" = "$arch"

dpkg-deb -e "$deb" "$tmp/control"
check "agent.json is a conffile" grep -qx /etc/depot-agent/agent.json "$tmp/control/conffiles"
check "postinst creates the system user" grep -q 'systemd-sysusers depot-agent.conf' "$tmp/control/postinst"
check "postinst never enables or starts the service" bash -c \
  "! grep -v '^ *#' '$tmp/control/postinst' | grep -qE 'systemctl (enable|start)|deb-systemd-(helper enable|invoke start)'"
for script in postinst prerm postrm; do
  check "$script is executable and valid sh" bash -c "test -x '$tmp/control/$script' && sh -n '$tmp/control/$script'"
done

# Run postinst for a fresh install with the system commands it calls replaced by stubs that
# record their arguments (nothing on this machine is changed).
mkdir -p "$tmp/stub"
for cmd in systemd-sysusers adduser getent install systemctl; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n[ "%s" != getent ]\n' "$cmd" "$tmp/calls" "$cmd" \
    >"$tmp/stub/$cmd"
  chmod +x "$tmp/stub/$cmd"
done
: >"$tmp/calls"
check "postinst configure (fresh install) succeeds" \
  env PATH="$tmp/stub:/usr/bin:/bin" sh "$tmp/control/postinst" configure
sed 's/^/   postinst ran: /' "$tmp/calls"
check "postinst created the user with sysusers" grep -qx 'systemd-sysusers depot-agent.conf' "$tmp/calls"
check "postinst created the credential placeholders" \
  grep -q 'install -m 0600 -o root -g root /dev/null /etc/depot-agent/credentials/mqtt-password' "$tmp/calls"
check "postinst did not enable or start anything" bash -c "! grep -qE '^systemctl (enable|start|restart)' '$tmp/calls'"

dpkg-deb -x "$deb" "$tmp/root"
elf=$(readelf -h "$tmp/root/usr/bin/depot-agent" | sed -nE 's/^ *Machine: *//p')
echo "   ELF machine: $elf"
check "binary is built for $machine" grep -q "$machine" <<<"$elf"
check "binary is stripped" bash -c "! readelf -S '$tmp/root/usr/bin/depot-agent' | grep -q '\.symtab'"
# Every shared library the binary needs comes from a package in Depends (they are listed by
# hand in packaging/deb.cmake: this catches a new library, e.g. Paho, missing from the list).
depends=$(dpkg-deb -f "$deb" Depends)
for lib in $(readelf -d "$tmp/root/usr/bin/depot-agent" | sed -nE 's/.*Shared library: \[(.*)\]/\1/p'); do
  case "$lib" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|ld-linux*) pkg=libc6 ;;
    libstdc++.so.6) pkg=libstdc++6 ;;
    libgcc_s.so.1) pkg=libgcc-s1 ;;
    libsqlite3.so.0) pkg=libsqlite3-0 ;;
    libpaho-mqttpp3.so.1) pkg=libpaho-mqttpp3-1 ;;
    libpaho-mqtt3as.so.1|libpaho-mqtt3a.so.1|libpaho-mqtt3cs.so.1|libpaho-mqtt3c.so.1) pkg=libpaho-mqtt1.3 ;;
    libssl.so.3|libcrypto.so.3) pkg=libssl3 ;;
    libmodbus.so.5) pkg=libmodbus5 ;;
    libsodium.so.23) pkg=libsodium23 ;;
    *) pkg="(unknown: add $lib to this table and its package to Depends)" ;;
  esac
  check "Depends covers $lib ($pkg)" grep -qxF "$pkg" <<<"$(tr ',' '\n' <<<"$depends" | awk '{print $1}')"
done
# The secrets the shipped config names come from the unit's credentials (LoadCredential=, see
# docs/operations.md), not from files in /etc/depot-agent/ that the agent's user could read.
unitfile="$tmp/root/usr/lib/systemd/system/depot-agent.service"
for key in password_file tls.key; do
  path=$(python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))["mqtt"]
for k in sys.argv[2].split("."): v = v[k]
print(v)' "$tmp/root/etc/depot-agent/agent.json" "$key" 2>/dev/null || echo "(none)")
  name=${path#/run/credentials/depot-agent.service/}
  check "agent.json's mqtt.$key ($path) is a credential of the unit" \
    bash -c "[ '$name' != '$path' ] && grep -qx 'LoadCredential=$name:/etc/depot-agent/credentials/$name' '$unitfile'"
done
check "unit in the package is the one in the tree" cmp "$tmp/root/usr/lib/systemd/system/depot-agent.service" \
  "$(dirname "$0")/../../systemd/depot-agent.service"
exit $fail
