#!/usr/bin/env python3
"""The system suite: the shipped .deb and systemd unit on a real Debian 12 VM (qemu, no
network). See docs/operations.md, "System suite".

  system_test.py --deb PKG.deb --out DIR CASE [--long]

CASE is one of:
  service     dpkg -i on a clean system (user, folders, conffile, credentials), start through
              Type=notify, reload applies a changed config, journald priorities, stop;
              the sandbox (systemd-analyze security, the stdin FIFO under /run/depot-agent,
              no EPERM in the journal); the watchdog kills a stopped agent and systemd restarts it;
              then, in the same boot: TLS to mosquitto in the guest with LoadCredential=
              credentials, an MQTT probe (case_tls_link); a uinput HID scanner, its grab, unplug
              and replug (case_hid_scanner); stop publishes the offline status
              (case_stop_offline)
  power-cut   scans flow (the CLI, each confirmed one recorded by the host) while the host
              SIGKILLs qemu at a random moment; after each reboot the database is intact,
              every confirmed scan is there, the outbox seq has no gap, the agent came up by
              itself. 5 cuts (--long: 20). Prints bytes written to the disk per scan.
  upgrade     the previous release's .deb (packaging/previous-release, --prev-deb) configured,
              edited and used, then this .deb over it: database, edited conffile and
              credentials kept, service back; apt purge removes what the package created only.
  arm64       the arm64 .deb on an arm64 image (qemu-system-aarch64 -M virt -cpu cortex-a53,
              TCG): in one boot the service case without the serial port and the HID scanner
              (the virt board has one UART; uinput is the amd64 case's), the TLS link, stop
              publishes offline, the watchdog; then one power cut and its checks.

Each run leaves the serial logs, the journal and the database in DIR/CASE; a failure says so.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vm import VM, VMError, copy_disk, make_data_disk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = "/etc/depot-agent/agent.json"
DB = "/var/lib/depot-agent/depot.db"
AS_AGENT = "setpriv --reuid=depot-agent --regid=depot-agent --init-groups --"
FIFO = "/run/depot-agent/scans"

BASE_CONFIG = {
    "site": "vm-site",
    "gateway": "gw-1",
    "database": DB,
    "log_level": "info",
    "catalog": [
        {"sku": "VM-1", "name": "VM item", "unit": "each", "barcodes": ["4006381333931"]},
    ],
    "scanners": [{"id": "fifo", "driver": "stdin", "role": "receive", "path": FIFO,
                  "double_read_ms": 0},
                 {"id": "tty", "driver": "serial", "role": "receive", "path": "/dev/ttyS1",
                  "baud": 9600, "terminator": "cr", "double_read_ms": 0}],
}

failures = []


def step(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def expect(cond, msg, detail=""):
    if cond:
        print(f"ok   {msg}", flush=True)
    else:
        print(f"FAIL {msg}" + (f"\n{detail}" if detail else ""), flush=True)
        failures.append(msg)


def put_file(vm, path, text, mode="0644"):
    import base64
    b = base64.b64encode(text.encode()).decode()
    vm.check(f"echo {b} | base64 -d > {path} && chmod {mode} {path}")


def sql(vm, query):
    return vm.check(f"{AS_AGENT} sqlite3 -batch {DB} {shq(query)}").strip()


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def collect(vm, outdir, tag):
    """Journal and database of the running guest into outdir (best effort)."""
    try:
        rc, out = vm.run("journalctl --no-pager -o short-precise", timeout=120)
        with open(os.path.join(outdir, f"{tag}.journal.txt"), "w") as f:
            f.write(out)
        import base64
        rc, out = vm.run(f"[ -f {DB} ] && {AS_AGENT} sqlite3 {DB} '.backup /tmp/copy.db' "
                         f"&& base64 -w0 /tmp/copy.db", timeout=120)
        if rc == 0:
            with open(os.path.join(outdir, f"{tag}.depot.db"), "wb") as f:
                f.write(base64.b64decode(out))
    except (VMError, OSError, ValueError) as e:
        print(f"note: could not collect the journal/database: {e}")


def boot(vm):
    step(f"booting {vm.name} (boot {vm.boots + 1})")
    secs = vm.start()
    step(f"guest up in {secs:.0f} s ({vm.accel if vm.accel != 'tcg-only' else 'tcg'})")


def install(vm):
    vm.check("mkdir -p /mnt/in && mount -o ro /dev/vdb /mnt/in")
    out = vm.check("dpkg -i /mnt/in/depot-agent.deb 2>&1", timeout=300)
    print("   " + out.strip().replace("\n", "\n   "))


def wait_active(vm, timeout=180):
    return vm.wait_for("[ \"$(systemctl is-active depot-agent)\" = active ]", timeout,
                       "depot-agent to be active")


def main_pid(vm):
    return int(vm.check("systemctl show -p MainPID --value depot-agent").strip())


# --------------------------------------------------------------------------------------------
def case_service(vm, out):
    install(vm)
    arm64 = vm.arch == "arm64"
    # -- 1. what the package created
    expect(vm.run("getent passwd depot-agent")[0] == 0, "dpkg -i created the user depot-agent")
    shell = vm.check("getent passwd depot-agent | cut -d: -f7").strip()
    expect(shell in ("/usr/sbin/nologin", "/bin/false"), f"the user has no login shell ({shell})")
    expect(vm.run("test -d /etc/depot-agent/credentials")[0] == 0, "/etc/depot-agent/credentials exists")
    modes = vm.check("stat -c '%a %U %n' /etc/depot-agent/credentials/*")
    names = sorted(l.rsplit("/", 1)[-1] for l in modes.strip().splitlines())
    expect(all(l.startswith("600 root") for l in modes.strip().splitlines()) and
           names == ["audit-key", "mqtt-client-key", "mqtt-password"],
           "credential placeholders (audit-key, mqtt-client-key, mqtt-password) are root-owned 0600",
           modes)
    conff = vm.check("dpkg-query -W -f='${Conffiles}' depot-agent")
    expect("/etc/depot-agent/agent.json" in conff, "agent.json is a conffile", conff)
    expect(vm.run("systemctl is-enabled depot-agent")[1].strip() == "disabled",
           "installing did not enable the service")
    expect(vm.run("systemctl is-active depot-agent")[1].strip() == "inactive",
           "installing did not start the service")

    # -- start through Type=notify
    put_file(vm, CONF, json.dumps(BASE_CONFIG, indent=1))
    t0 = time.monotonic()
    rc, txt = vm.run("systemctl start depot-agent", timeout=180)
    expect(rc == 0, f"systemctl start depot-agent returned ({time.monotonic() - t0:.1f} s)", txt)
    show = vm.check("systemctl show -p Type -p ActiveState -p SubState -p StatusText depot-agent")
    expect("Type=notify" in show and "ActiveState=active" in show and "SubState=running" in show,
           "active (running) with Type=notify", show)
    jr = vm.check("journalctl -u depot-agent -o cat --no-pager")
    ready_i, started_i = jr.find("ready: database"), jr.find("Started depot-agent")
    expect(0 <= ready_i < started_i, "systemd saw READY only after the agent logged 'ready:'", jr)

    # -- the stdin FIFO the docs name works under the sandbox
    expect(vm.run(f"test -p {FIFO}")[0] == 0, f"the agent created the FIFO {FIFO}",
           vm.run(f"ls -la /run/depot-agent; journalctl -u depot-agent -o cat | tail -20")[1])
    vm.run(f"timeout 10 sh -c 'echo 4006381333931 > {FIFO}'")
    try:
        vm.wait_for(f"[ \"$({AS_AGENT} sqlite3 {DB} \"select count(*) from movements where source='fifo'\")\" = 1 ]",
                    60, "the FIFO scan in the ledger")
        expect(True, "a scan written to the FIFO became a movement")
    except VMError as e:
        expect(False, "a scan written to the FIFO became a movement", str(e))

    # -- a serial scanner on a real UART (qemu's second serial port, fed by the host; the arm64
    # virt board has only the console's)
    if not arm64:
        try:
            vm.serial_scan(b"4006381333931\r")
            vm.wait_for(f"[ \"$({AS_AGENT} sqlite3 {DB} \"select count(*) from movements where source='tty'\")\" = 1 ]",
                        60, "the serial scan in the ledger")
            expect(True, "a scan on the serial port /dev/ttyS1 became a movement (DeviceAllow, dialout)")
        except VMError as e:
            expect(False, "a scan on the serial port /dev/ttyS1 became a movement",
                   str(e) + vm.run("journalctl -u depot-agent -o cat | tail -20")[1])

    # -- reload applies a changed config (a new SKU, debug logging)
    cfg = json.loads(json.dumps(BASE_CONFIG))
    cfg["catalog"].append({"sku": "VM-2", "name": "VM item 2", "unit": "each",
                           "barcodes": ["4006381333948"]})
    put_file(vm, CONF, json.dumps(cfg, indent=1))
    pid = main_pid(vm)
    rc, txt = vm.run("systemctl reload depot-agent", timeout=120)
    expect(rc == 0 and main_pid(vm) == pid, "systemctl reload returned, same process", txt)
    # (ExecReload= only sends SIGHUP: the agent reads the file on a thread, then applies it)
    try:
        vm.wait_for("journalctl -u depot-agent -o cat --no-pager | grep -q 'reloaded .*: 2 SKUs'",
                    60, "the reload applied")
    except VMError:
        pass  # the expectation below says what the journal has
    jr = vm.check("journalctl -u depot-agent -o cat --no-pager")
    expect("2 SKUs" in jr and "reloaded" in jr, "the journal says the reload read 2 SKUs", jr[-2000:])
    vm.run(f"timeout 10 sh -c 'echo 4006381333948 > {FIFO}'")
    try:
        vm.wait_for(f"[ \"$({AS_AGENT} sqlite3 {DB} \"select count(*) from movements where sku='VM-2'\")\" = 1 ]",
                    60, "a movement of the SKU added by the reload")
        expect(True, "the SKU added by the reload takes scans")
    except VMError as e:
        expect(False, "the SKU added by the reload takes scans", str(e))

    # -- an invalid config on reload: a warning (or error), the running config is kept
    put_file(vm, CONF, json.dumps(dict(cfg, durabilty={})))
    vm.run("systemctl reload depot-agent", timeout=120)
    try:
        vm.wait_for("journalctl -u depot-agent -p warning -o cat --no-pager | grep -q durabilty",
                    60, "the refused reload logged")
    except VMError:
        pass  # the expectations below say what the journal has
    expect(vm.run("systemctl is-active depot-agent")[1].strip() == "active",
           "an invalid config on reload keeps the agent running")
    warn = vm.check("journalctl -u depot-agent -p warning -o cat --no-pager")
    info = vm.check("journalctl -u depot-agent -p info -o cat --no-pager")
    expect("durabilty" in warn, "journalctl -p warning shows the reload's warning", warn)
    expect("ready: database" in info and "ready: database" not in warn and "starting" not in warn,
           "journalctl -p warning leaves out the agent's info lines", warn)
    put_file(vm, CONF, json.dumps(cfg, indent=1))
    vm.check("systemctl reload depot-agent", timeout=120)
    vm.wait_for("[ \"$(journalctl -u depot-agent -o cat --no-pager | grep -c 'reloaded .*: 2 SKUs')\" -ge 2 ]",
                60, "the good config applied again")

    # -- the sandbox we ship
    sec = vm.check("systemd-analyze security depot-agent --no-pager 2>&1 | tail -n 3")
    level = None
    for line in sec.splitlines():
        if "Overall exposure level" in line:
            level = float(line.split(":")[1].split()[0])
    print("   " + sec.strip().replace("\n", "\n   "))
    expect(level is not None and level <= 2.0, f"systemd-analyze security: exposure {level} <= 2.0")
    # EPERM from the syscall filter shows up as the agent's messages naming the error;
    # a filter that kills would be an audit record type=1326 (SECCOMP) from the kernel.
    denials = vm.run("journalctl -b --no-pager -o cat | grep -iE "
                     "'operation not permitted|\\bEPERM\\b|type=1326|seccomp.*(denied|kill)'")[1]
    expect(denials.strip() == "", "no EPERM or seccomp denial in the journal", denials)

    # -- stop
    rc, txt = vm.run("systemctl stop depot-agent", timeout=120)
    show = vm.check("systemctl show -p ActiveState -p Result depot-agent")
    expect(rc == 0 and "ActiveState=inactive" in show and "Result=success" in show,
           "systemctl stop: inactive, Result=success", show + txt)
    jr = vm.check("journalctl -u depot-agent -o cat --no-pager | tail -n 5")
    expect("stopped" in jr, "the agent logged 'stopped'", jr)

    # -- 2. watchdog: a stopped (SIGSTOP) agent is killed and restarted
    vm.check("mkdir -p /etc/systemd/system/depot-agent.service.d && printf "
             "'[Service]\\nWatchdogSec=5s\\nRestartSec=1s\\n' "
             ">/etc/systemd/system/depot-agent.service.d/watchdog.conf && systemctl daemon-reload")
    vm.check("systemctl start depot-agent", timeout=180)
    before = sql(vm, "select count(*) from movements")
    pid = main_pid(vm)
    t0 = time.monotonic()
    vm.check(f"kill -STOP {pid}")
    try:
        vm.wait_for(f"p=$(systemctl show -p MainPID --value depot-agent); "
                    f"[ \"$p\" != 0 ] && [ \"$p\" != {pid} ] && "
                    f"[ \"$(systemctl is-active depot-agent)\" = active ]", 90,
                    "a new agent process after the watchdog")
        expect(True, f"the watchdog killed the stopped agent and systemd restarted it "
                     f"({time.monotonic() - t0:.0f} s, WatchdogSec=5s)")
    except VMError as e:
        expect(False, "the watchdog killed the stopped agent and systemd restarted it", str(e))
    jr = vm.check("journalctl -u depot-agent -o cat --no-pager")
    expect("Watchdog timeout" in jr, "the journal says: Watchdog timeout", jr[-1500:])
    expect("Scheduled restart job" in jr or "restart counter" in jr,
           "the journal says systemd restarted it")
    expect(sql(vm, "select count(*) from movements") == before, "the restart lost no movement")
    expect(sql(vm, "pragma integrity_check") == "ok", "integrity_check ok after the watchdog kill")
    vm.check("rm -r /etc/systemd/system/depot-agent.service.d && systemctl daemon-reload")


# --------------------------------------------------------------------------------------------
# The cloud link, credentials, probes and a HID scanner under the shipped unit (the service
# boot goes on with these after case_service). The guest runs mosquitto: TLS with client
# certificates and passwords on 8883 (the agent's link), plain on 127.0.0.1:1883 (an MQTT
# temperature probe, and the test's own subscriber, which plays the cloud).
HID_NAME = "Depot VM Scanner"
HID_LINK = "/dev/input/depot-scanner"
STATUS_TOPIC = "depot/v1/vm-site/gw-1/status"
CREDS = "/run/credentials/depot-agent.service"
SUB = "/mnt/in/bin/mqttsub tcp://127.0.0.1:1883"


def stage_devices(stage, arch):
    """Host side, before the boot: the guest helpers (tests/system/helpers, compiled here: the
    guest has no compiler; for arm64 by the cross compiler against libpaho-mqtt-dev:arm64) and
    a test CA with the broker's and the gateway's certificates."""
    cc = "aarch64-linux-gnu-gcc" if arch == "arm64" else "cc"
    bindir = os.path.join(stage, "bin")
    os.makedirs(bindir)
    src = os.path.join(HERE, "helpers")
    for name, libs in (("vmhid", []), ("mqttsub", ["-lpaho-mqtt3cs"])):
        subprocess.run([cc, "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                        os.path.join(bindir, name), os.path.join(src, f"{name}.c"), *libs],
                       check=True)
    tls = os.path.join(stage, "tls")
    os.makedirs(tls)

    def ossl(*a):
        subprocess.run(["openssl", *a], check=True, cwd=tls, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=depot vm test CA")
    for name, cn, san in (("server", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1"),
                          ("gw", "vm-site-gw-1", "DNS:vm-site-gw-1")):
        with open(os.path.join(tls, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-extfile", f"{name}.ext")


def bg(vm, cmd, out):
    """Starts cmd in the guest in the background (its own session, output to the file out)."""
    vm.check(f"setsid -f bash -c {shq(cmd)} >{out} 2>&1 </dev/null")


def no_denials(vm, when):
    # EPERM from the syscall filter shows up as the agent's messages naming the error; a filter
    # that kills would be an audit record type=1326 (SECCOMP) from the kernel.
    denials = vm.run("journalctl -b --no-pager -o cat | grep -iE "
                     "'operation not permitted|\\bEPERM\\b|type=1326|seccomp.*(denied|kill)'")[1]
    expect(denials.strip() == "", f"no EPERM or seccomp denial in the journal ({when})", denials)


def journal_count(vm, text):
    return int(vm.run(f"journalctl -u depot-agent -o cat --no-pager | grep -cF {shq(text)}")[1]
               .strip() or 0)


def setup_broker(vm):
    # mmdebstrap's minbase system has no /etc/hosts (a real gateway has one): without it
    # "localhost" does not resolve (hosts: files dns, no DNS in the guest).
    vm.check("[ -s /etc/hosts ] || printf '127.0.0.1 localhost\\n::1 localhost\\n' >/etc/hosts")
    vm.check("install -d -o mosquitto /etc/mosquitto/certs && cd /mnt/in/tls && "
             "install -m 0644 ca.pem server.pem /etc/mosquitto/certs/ && "
             "install -m 0600 -o mosquitto server.key /etc/mosquitto/certs/ && "
             "mosquitto_passwd -c -b /etc/mosquitto/passwd vm-site-gw-1 vm-broker-pass && "
             "chown mosquitto /etc/mosquitto/passwd && chmod 0600 /etc/mosquitto/passwd")
    put_file(vm, "/etc/mosquitto/conf.d/depot-vmtest.conf", "\n".join([
        "per_listener_settings true",
        "log_type all",
        "listener 8883",
        "cafile /etc/mosquitto/certs/ca.pem",
        "certfile /etc/mosquitto/certs/server.pem",
        "keyfile /etc/mosquitto/certs/server.key",
        "require_certificate true",
        "allow_anonymous false",
        "password_file /etc/mosquitto/passwd",
        "listener 1883 127.0.0.1",
        "allow_anonymous true", ""]))
    vm.check("systemctl start mosquitto", timeout=120)
    vm.wait_for(f"{SUB} '$SYS/broker/version' 5 version", 60, "mosquitto to answer on 1883")


def devices_config():
    cfg = json.loads(json.dumps(BASE_CONFIG))
    cfg["catalog"].append({"sku": "VM-2", "name": "VM item 2", "unit": "each",
                           "barcodes": ["4006381333948"]})
    cfg["mqtt"] = {"host": "localhost", "port": 8883,
                   "tls": {"ca": "/etc/depot-agent/mqtt-ca.pem", "cert": "/etc/depot-agent/gw.pem",
                           "key": f"{CREDS}/mqtt-client-key"},
                   "username": "vm-site-gw-1", "password_file": f"{CREDS}/mqtt-password",
                   "backoff_max_s": 5}
    cfg["scanners"].append({"id": "hid", "driver": "evdev", "role": "receive", "path": HID_LINK,
                            "grab": True, "reopen_max_s": 2, "double_read_ms": 0})
    cfg["zones"] = [{"id": "cold-1", "min_c": 2, "max_c": 8}]
    cfg["sensors"] = [{"id": "vm-probe", "zone": "cold-1", "driver": "mqtt", "read_interval_s": 5,
                       "mqtt": {"broker": "tcp://127.0.0.1:1883", "topic": "sensors/vm-probe"}}]
    return cfg


def case_tls_link(vm):
    """Item 2: TLS to the broker with the credentials systemd hands over (LoadCredential=),
    an MQTT probe, the database; no EPERM."""
    step("cloud link over TLS with LoadCredential= credentials, an MQTT probe")
    setup_broker(vm)
    vm.check("cd /mnt/in/tls && install -m 0644 ca.pem /etc/depot-agent/mqtt-ca.pem && "
             "install -m 0644 gw.pem /etc/depot-agent/gw.pem && "
             # The operator's credential files (root, 0600): only systemd can read them.
             "install -m 0600 gw.key /etc/depot-agent/credentials/mqtt-client-key && "
             "echo vm-broker-pass >/etc/depot-agent/credentials/mqtt-password && "
             "head -c 32 /dev/urandom | base64 >/etc/depot-agent/credentials/audit-key")
    expect(vm.run(f"{AS_AGENT} cat /etc/depot-agent/credentials/mqtt-password")[0] != 0,
           "the agent's user cannot read the credential files itself")
    # A temperature probe publishing retained (the probe driver subscribes at start).
    vm.check(f"/mnt/in/bin/mqttsub --pub tcp://127.0.0.1:1883 sensors/vm-probe "
             f"'{{\"temperature_c\": 4.5}}'")
    put_file(vm, CONF, json.dumps(devices_config(), indent=1))
    # The install steps (docs/operations.md) run check by hand before the first start, when the
    # credentials in /run/credentials/depot-agent.service/ do not exist yet.
    vm.check("systemctl stop depot-agent", timeout=120)
    rc, txt = vm.run(f"ls /run/credentials/; depot-agent check -c {CONF}")
    expect(rc == 0 and "is a systemd credential" in txt,
           "depot-agent check by hand passes, noting the credentials it cannot see yet", txt)
    bg(vm, f"{SUB} 'depot/v1/vm-site/gw-1/#' 120 TLS-LOT-1", "/tmp/sub-tls.out")
    vm.wait_for("grep -q subscribed /tmp/sub-tls.out", 30, "the subscriber")
    rc, txt = vm.run("systemctl restart depot-agent", timeout=180)
    expect(rc == 0, "the agent starts with the mqtt section, an evdev scanner (its device "
           + ("absent on arm64: it waits for it" if vm.arch == "arm64" else "made later")
           + ") and a probe", txt +
           vm.run("journalctl -u depot-agent -o cat --no-pager | tail -n 20")[1])
    try:
        vm.wait_for("systemctl show -p StatusText --value depot-agent | grep -q 'cloud connected'",
                    90, "STATUS= cloud connected")
        expect(True, "the link reached the broker over TLS (STATUS= ...; cloud connected)")
    except VMError as e:
        expect(False, "the link reached the broker over TLS (STATUS= ...; cloud connected)",
               str(e) + vm.run("journalctl -u depot-agent -o cat --no-pager | tail -n 20; "
                               "tail -n 20 /var/log/mosquitto/mosquitto.log")[1])
    # The credentials came from $CREDENTIALS_DIRECTORY: the client key and the password are
    # only readable there (the broker refuses a client without both).
    env = vm.run("cat /proc/$(systemctl show -p MainPID --value depot-agent)/environ | tr '\\0' '\\n'"
                 " | grep CREDENTIALS_DIRECTORY")[1].strip()
    expect(env == f"CREDENTIALS_DIRECTORY={CREDS}", f"the agent runs with {env}")
    put_file(vm, "/tmp/tls-scan", "]C10104006381333931\x1d10TLS-LOT-1\n")
    vm.run(f"timeout 10 sh -c 'cat /tmp/tls-scan > {FIFO}'")
    try:
        vm.wait_for("grep -q 'movements.*TLS-LOT-1' /tmp/sub-tls.out", 90,
                    "the scan's movement at the subscriber")
        expect(True, "a scan's movement reached a subscriber through the broker")
    except VMError as e:
        expect(False, "a scan's movement reached a subscriber through the broker",
               str(e) + vm.run("cat /tmp/sub-tls.out; journalctl -u depot-agent -o cat | tail")[1])
    sub = vm.run("cat /tmp/sub-tls.out")[1]
    rc, late = vm.run(f"{SUB} {STATUS_TOPIC} 10 '\"state\":\"online\"'")
    expect(rc == 0 and f"r=1 {STATUS_TOPIC}" in late and '"state":"online"' in late,
           "the retained status says online", late)
    expect('"keyed":true' in sub, "the audit trail is keyed with the audit-key credential "
           "(an audit record with \"keyed\":true)", sub[-1500:])
    try:
        vm.wait_for(f"[ $({AS_AGENT} sqlite3 {DB} \"select count(*) from readings where "
                    f"probe='vm-probe' and quality='good' and celsius=4.5\") -ge 1 ]", 60,
                    "a good reading of the MQTT probe")
        expect(True, "the MQTT probe's reading is in the database")
    except VMError as e:
        expect(False, "the MQTT probe's reading is in the database", str(e))
    no_denials(vm, "TLS link, credentials, probe")


def hid(vm, line):
    vm.check(f"printf '%s\\n' {shq(line)} >/tmp/hidctl")


def plug(vm):
    bg(vm, f"/mnt/in/bin/vmhid keyboard {shq(HID_NAME)} /tmp/hidctl", "/tmp/hid.out")
    vm.wait_for(f"[ -e {HID_LINK} ]", 30, f"udev's link {HID_LINK}")


def hid_count(vm, table, where="1"):
    return int(sql(vm, f"select count(*) from {table} where source='hid' and {where}"))


def hid_scan(vm, line, tries=3):
    """Types one scan and waits for its movement. A busy guest under TCG can fall behind the
    typing: the kernel then drops events (SYN_DROPPED) and the agent rejects the scan, as it
    must; the scan is typed again like an operator would. Returns how often it was retyped."""
    dropped = "reason like '%SYN_DROPPED%'"
    for attempt in range(tries):
        m0, r0 = hid_count(vm, "movements"), hid_count(vm, "rejects", dropped)
        hid(vm, line)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if hid_count(vm, "movements") > m0:
                return attempt
            if hid_count(vm, "rejects", dropped) > r0:
                print(f"   note: events dropped while typing {line!r}: rejected, typed again")
                break
            time.sleep(1)
        else:
            raise VMError(f"no movement and no reject for the typed scan {line!r}; journal:\n" +
                          vm.run("journalctl -u depot-agent -o cat | tail -n 15")[1])
    raise VMError(f"the scan {line!r} lost events {tries} times")


def case_hid_scanner(vm):
    """Item 4: a uinput keyboard types GS1 scans; the agent grabs it and the scans become
    movements; unplugged and plugged again, the agent reattaches."""
    step("a HID scanner: a uinput keyboard in the guest")
    # A scanner without a USB serial number has no /dev/input/by-id link: a udev rule names it.
    put_file(vm, "/etc/udev/rules.d/70-depot-scanner.rules",
             f'SUBSYSTEM=="input", KERNEL=="event*", ATTRS{{name}}=="{HID_NAME}", '
             f'SYMLINK+="input/depot-scanner"\n')
    vm.check("modprobe uinput && udevadm control --reload && rm -f /tmp/hidctl && "
             "mkfifo /tmp/hidctl")
    opened = f"scanner hid: opened {HID_LINK} (grabbed)"
    n0 = journal_count(vm, opened)
    plug(vm)
    try:
        vm.wait_for(f"[ $(journalctl -u depot-agent -o cat | grep -cF {shq(opened)}) -gt {n0} ]",
                    30, "the agent to open and grab the scanner")
        expect(True, "the agent opened the uinput keyboard and grabbed it")
    except VMError as e:
        expect(False, "the agent opened the uinput keyboard and grabbed it", str(e))
    # A second reader and the console see nothing while the agent holds the grab.
    vm.run("stty -F /dev/tty1 sane 2>/dev/null; true")
    bg(vm, f"/mnt/in/bin/vmhid listen {HID_LINK} 12", "/tmp/listen.out")
    bg(vm, "timeout 12 cat /dev/tty1", "/tmp/tty1.out")
    time.sleep(2)
    retyped = 0
    try:
        retyped += hid_scan(vm, "]C101040063813339311727123110HID-LOT-7")
        retyped += hid_scan(vm, "]d2020400638133393110HID-LOT-8\x1d3712")
    except VMError as e:
        print(f"   {e}")
    rows = sql(vm, "select lot, expiry, qty, kind from movements where source='hid' order by seq")
    expect(rows.splitlines() == ["HID-LOT-7|2027-12-31|1|receive", "HID-LOT-8||12|receive"],
           "the typed GS1 scans became movements (AIM ]C1 with expiry and lot; ]d2 with a GS "
           "(Ctrl+]) before AI (37): 12 units)", rows)
    vm.wait_for("grep -q presses= /tmp/listen.out", 30, "the second reader")
    listen = vm.check("cat /tmp/listen.out").strip()
    expect(listen == "presses=0 grab=busy",
           "EVIOCGRAB: a second reader of the device gets no key presses and the grab is busy",
           listen)
    vm.run("sleep 1")  # cat /dev/tty1 ran as long as the reader
    tty = vm.run("cat /tmp/tty1.out")[1]
    expect(tty.strip() == "", "nothing typed reached the console tty1", tty)

    # Unplug: the device goes away; the agent says so and waits for it.
    gone = f"{HID_LINK} unplugged or closed"
    hid(vm, "QUIT")
    vm.wait_for(f"[ ! -e {HID_LINK} ]", 30, "the device to be gone")
    try:
        vm.wait_for(f"journalctl -u depot-agent -o cat | grep -qF {shq(gone)}", 30,
                    "the agent to notice the unplug")
        expect(True, "the agent noticed the unplug")
    except VMError as e:
        expect(False, "the agent noticed the unplug", str(e))
    expect(vm.run("systemctl is-active depot-agent")[1].strip() == "active",
           "the agent keeps running without its scanner")
    n1 = journal_count(vm, opened)
    plug(vm)
    try:
        vm.wait_for(f"[ $(journalctl -u depot-agent -o cat | grep -cF {shq(opened)}) -gt {n1} ]",
                    30, "the agent to reattach")
        expect(True, "plugged in again, the agent reattached and grabbed it")
    except VMError as e:
        expect(False, "plugged in again, the agent reattached and grabbed it", str(e))
    try:
        retyped += hid_scan(vm, "]C10104006381333931")
        expect(True, "a scan after the replug became a movement")
    except VMError as e:
        expect(False, "a scan after the replug became a movement", str(e))
    print(f"   scans typed again after dropped events: {retyped}")

    # The control: with the agent stopped (no grab), the same reader and the console do see
    # the keys, so the zero above was the grab.
    vm.check("systemctl stop depot-agent", timeout=120)
    bg(vm, f"/mnt/in/bin/vmhid listen {HID_LINK} 8", "/tmp/listen.out")
    bg(vm, "timeout 8 cat /dev/tty1", "/tmp/tty1.out")
    time.sleep(2)
    hid(vm, "]C10104006381333931")
    vm.wait_for("grep -q presses= /tmp/listen.out", 30, "the second reader")
    vm.run("sleep 1")
    listen = vm.check("cat /tmp/listen.out").strip()
    tty = vm.run("cat /tmp/tty1.out")[1]
    expect(listen.startswith("presses=") and listen != "presses=0 grab=free" and
           listen.endswith("grab=free"), "control, agent stopped: the reader sees the key presses",
           listen)
    expect("]C10104006381333931" in tty,
           "control, agent stopped: the scan typed into the console tty1", tty)
    hid(vm, "QUIT")
    no_denials(vm, "HID scanner")


def case_stop_offline(vm):
    """Item 1: systemctl stop publishes the offline status (retained), by the agent itself
    before a clean disconnect (not the broker's last will)."""
    step("systemctl stop publishes the offline status")
    vm.check("systemctl start depot-agent", timeout=180)
    vm.wait_for("systemctl show -p StatusText --value depot-agent | grep -q 'cloud connected'",
                90, "STATUS= cloud connected")
    # The retained status may still be the offline one of the last stop until the new
    # connection's online status is in: wait for that first.
    vm.wait_for(f"{SUB} {STATUS_TOPIC} 5 '\"state\":\"online\"'", 60, "the online status")
    vm.check(": >/var/log/mosquitto/mosquitto.log")
    bg(vm, f"{SUB} {STATUS_TOPIC} 60 '\"state\":\"offline\"'", "/tmp/sub-stop.out")
    vm.wait_for("grep -q '\"state\":\"online\"' /tmp/sub-stop.out", 30,
                "the retained online status")
    rc, txt = vm.run("systemctl stop depot-agent", timeout=120)
    expect(rc == 0, "systemctl stop returned", txt)
    try:
        vm.wait_for("grep -q '^r=0 .*\"state\":\"offline\"' /tmp/sub-stop.out", 20,
                    "the offline status")
        expect(True, "a subscriber saw the gateway go offline when the service stopped")
    except VMError as e:
        expect(False, "a subscriber saw the gateway go offline when the service stopped",
               str(e) + vm.run("cat /tmp/sub-stop.out")[1])
    rc, late = vm.run(f"{SUB} {STATUS_TOPIC} 10 '\"state\":\"offline\"'")
    expect(rc == 0 and f"r=1 {STATUS_TOPIC}" in late and '"state":"offline"' in late,
           "a subscriber arriving later gets {\"state\":\"offline\"} retained", late)
    # A clean stop says so (the last will, set at connect, says "clean":false) and when.
    out = vm.run("cat /tmp/sub-stop.out")[1]
    expect(re.search(r'"clean":true', out) is not None and re.search(r'"ts":"20', out) is not None,
           "the offline status of a clean stop says \"clean\":true with a timestamp", out)
    # The agent's own retained PUBLISH of it, then its DISCONNECT: not the broker's last will.
    log = vm.run("cat /var/log/mosquitto/mosquitto.log")[1]
    bye = log.find("Received DISCONNECT from vm-site-gw-1")
    pub = log.rfind("Received PUBLISH from vm-site-gw-1 (d0, q1, r1, ", 0, max(bye, 0))
    expect(0 <= pub < bye and re.search(re.escape(f"'{STATUS_TOPIC}', ... (") + r"\d+ bytes\)\)",
                                        log[pub:bye]) is not None,
           "the broker got the agent's retained offline PUBLISH, then a clean DISCONNECT "
           "(the agent said it, not the broker's last will)", log[-3000:])


# --------------------------------------------------------------------------------------------
def scan_cmd(sid):
    return (f"{AS_AGENT} depot-agent scan -c {CONF} --kind receive --code 4006381333931 "
            f"--id {sid}")


def write_sectors(vm):
    return int(vm.check("cat /sys/block/vda/stat").split()[6])


def case_power_cut(vm, out, cuts, installed=False, n=40):
    """Item 5 (n warm-up scans measure the bytes per scan). installed: the package is in
    already and the ledger may hold movements from before (the arm64 case)."""
    if not installed:
        install(vm)
    earlier = set(sql(vm, "select id from movements").split()) if installed else set()
    cfg = json.loads(json.dumps(BASE_CONFIG))
    cfg["scanners"] = []
    if installed and vm.run("test -s /etc/depot-agent/credentials/audit-key")[0] == 0:
        # The audit trail is keyed by now (case_tls_link gave the service its audit-key
        # credential), so a scan run by hand needs the key too, as an operator's would: a
        # copy its user can read, named by audit_key_file (docs/operations.md, Credentials).
        vm.check("install -m 0600 -o depot-agent -g depot-agent "
                 "/etc/depot-agent/credentials/audit-key /etc/depot-agent/cli-audit-key")
        cfg["audit_key_file"] = "/etc/depot-agent/cli-audit-key"
    put_file(vm, CONF, json.dumps(cfg, indent=1))
    vm.check("systemctl enable depot-agent && systemctl restart depot-agent", timeout=180)
    wait_active(vm)

    # Bytes written to the virtual disk per committed scan (the CLI path: open, commit, close).
    s0 = write_sectors(vm)
    t0 = time.monotonic()
    for i in range(n):
        vm.check(scan_cmd(f"warm-{i}"))
    dt = time.monotonic() - t0
    vm.check("sync")
    s1 = write_sectors(vm)
    per = (s1 - s0) * 512 / n
    print(f"MEASURE bytes written to /dev/vda per committed scan (CLI, synchronous=full): "
          f"{per:.0f} ({n} scans, {dt / n * 1000:.0f} ms each under {vm.accel})", flush=True)
    confirmed = {f"warm-{i}" for i in range(n)} | earlier
    maybe = set()
    rnd = random.Random(int(os.environ.get("DEPOT_VM_SEED", time.time())))
    for cut in range(1, cuts + 1):
        delay = rnd.uniform(3.0, 12.0)
        pid = vm.proc.pid
        timer = threading.Timer(delay, lambda: os.kill(pid, 9))
        step(f"cut {cut}/{cuts}: scans flow, SIGKILL qemu (pid {pid}) in {delay:.1f} s")
        timer.start()
        i = 0
        try:
            while True:
                sid = f"cut{cut}-{i}"
                maybe.add(sid)
                rc, txt = vm.run(scan_cmd(sid), timeout=60)
                if rc != 0:
                    raise RuntimeError(f"scan {sid} failed: {txt}")
                confirmed.add(sid)
                maybe.discard(sid)
                i += 1
        except VMError:
            pass
        timer.join()
        vm.proc.wait(timeout=30)
        vm.kill()
        step(f"cut {cut}: {i} scans confirmed in this round; rebooting")
        boot(vm)
        try:
            wait_active(vm, 180)
            expect(True, f"cut {cut}: the agent came up by itself after the reboot")
        except VMError as e:
            expect(False, f"cut {cut}: the agent came up by itself after the reboot", str(e))
        expect(sql(vm, "pragma integrity_check") == "ok", f"cut {cut}: PRAGMA integrity_check ok")
        ids = set(sql(vm, "select id from movements").split())
        lost = confirmed - ids
        expect(not lost, f"cut {cut}: all {len(confirmed)} confirmed scans are in the ledger",
               f"missing: {sorted(lost)[:20]}")
        extra = ids - confirmed - maybe
        expect(not extra, f"cut {cut}: no movement that was not sent", f"{sorted(extra)[:20]}")
        # A scan the host resent cannot be booked twice: the guest's database refuses a second
        # row with a booked id (tried, not assumed; the failed insert changes nothing).
        cols = "id, sku, kind, qty, source, wall_time, mono_ns, on_hand_after, negative"
        rc, txt = vm.run(f"{AS_AGENT} sqlite3 -cmd '.timeout 5000' {DB} "
                         f"\"insert into movements({cols}) select {cols} from movements limit 1\"")
        expect(rc != 0 and "UNIQUE constraint failed: movements.id" in txt,
               f"cut {cut}: no duplicate movement (a second row with a booked id is refused)",
               f"exit {rc}: {txt}")
        gaps = sql(vm, "select s.stream, count(o.seq), min(o.seq), max(o.seq), s.next_seq "
                       "from outbox_streams s left join outbox o on o.stream = s.stream "
                       "group by s.stream")
        ok = True
        for row in gaps.splitlines():
            stream, cnt, lo, hi, nxt = row.split("|")
            if cnt != "0" and (int(hi) - int(lo) + 1 != int(cnt) or int(nxt) != int(hi) + 1):
                ok = False
        expect(ok and gaps != "", f"cut {cut}: outbox seq gap-free in every stream", gaps)
        # What made it in is now known: the uncertain scan is confirmed if it is there.
        confirmed |= (maybe & ids)
        maybe.clear()
        print(f"   ledger {len(ids)} movements; outbox stream|count|min|max|next_seq: "
              f"{gaps.replace(chr(10), '; ')}")


# --------------------------------------------------------------------------------------------
def case_upgrade(vm, out):
    """Item 6: the previous released .deb (packaging/previous-release), configured and used,
    then the .deb of this commit over it; then apt purge."""
    vm.check("mkdir -p /mnt/in && mount -o ro /dev/vdb /mnt/in")
    old = vm.check("dpkg-deb -f /mnt/in/depot-agent-prev.deb Version").strip()
    new = vm.check("dpkg-deb -f /mnt/in/depot-agent.deb Version").strip()
    step(f"installing the previous release ({old})")
    vm.check("dpkg -i /mnt/in/depot-agent-prev.deb 2>&1", timeout=300)
    cfg = json.loads(json.dumps(BASE_CONFIG))
    cfg["scanners"] = []
    cfg["log_level"] = "debug"  # an admin's edit of the conffile
    edited = json.dumps(cfg, indent=1) + "\n"
    put_file(vm, CONF, edited)
    put_file(vm, "/etc/depot-agent/credentials/mqtt-password", "s3cret-of-the-admin\n", "0600")
    # Something of the admin's beside the package's files: purge must leave it.
    vm.check("mkdir -p /etc/depot-agent/local && echo keep > /etc/depot-agent/local/note "
             "&& echo keep > /var/lib/depot-agent-notes.txt")
    vm.check("systemctl enable --now depot-agent", timeout=180)
    wait_active(vm)
    for i in range(5):
        vm.check(scan_cmd(f"old-{i}"))
    before = sql(vm, "select id from movements order by id")
    ver_before = sql(vm, "pragma user_version")
    step(f"upgrading to {new} over {old} (dpkg -i, service running)")
    rc, txt = vm.run("dpkg -i --force-confold /mnt/in/depot-agent.deb 2>&1 </dev/null",
                     timeout=300)
    expect(rc == 0, f"dpkg -i of this commit's package over {old} succeeded", txt)
    expect(vm.check("dpkg-query -W -f='${Version} ${Status}' depot-agent").strip() ==
           f"{new} install ok installed", "the new version is installed")
    try:
        wait_active(vm, 120)
        expect(True, "the service runs again after the upgrade (postinst restarted it)")
    except VMError as e:
        expect(False, "the service runs again after the upgrade", str(e))
    expect(vm.check(f"cat {CONF}") == edited, "the edited conffile was kept")
    expect(vm.check("cat /etc/depot-agent/credentials/mqtt-password") == "s3cret-of-the-admin\n",
           "the credential mqtt-password was kept")
    expect(vm.run("test -f /etc/depot-agent/credentials/audit-key")[0] == 0,
           "the upgrade added the new credential placeholder audit-key")
    expect(sql(vm, "pragma integrity_check") == "ok", "integrity_check ok after the upgrade")
    expect(sql(vm, "select id from movements order by id") == before,
           "the movements from before the upgrade are all there")
    print(f"   schema user_version {ver_before} -> {sql(vm, 'pragma user_version')}")
    vm.check(scan_cmd("new-0"))
    expect("new-0" in sql(vm, "select id from movements"), "the upgraded agent takes scans")

    # -- apt purge: what the package created goes; the admin's own files stay.
    rc, txt = vm.run("apt-get purge -y depot-agent 2>&1 </dev/null", timeout=300)
    expect(rc == 0, "apt-get purge depot-agent succeeded", txt)
    expect(vm.run("systemctl is-active depot-agent")[1].strip() != "active",
           "the service is stopped")
    gone = ["/usr/bin/depot-agent", "/usr/lib/systemd/system/depot-agent.service",
            "/usr/lib/sysusers.d/depot-agent.conf", CONF,
            "/etc/depot-agent/credentials/mqtt-password",
            "/etc/depot-agent/credentials/mqtt-client-key",
            "/etc/depot-agent/credentials/audit-key",
            "/etc/systemd/system/multi-user.target.wants/depot-agent.service"]
    left = vm.run("ls -d " + " ".join(gone) + " 2>/dev/null")[1].strip()
    expect(left == "", "purge removed the binary, unit, sysusers entry, conffile, credentials "
                       "and the enablement link", left)
    kept = ["/etc/depot-agent/local/note", "/var/lib/depot-agent-notes.txt", DB]
    missing = vm.run("for f in " + " ".join(kept) + "; do [ -e $f ] || echo $f; done")[1].strip()
    expect(missing == "", "purge kept the admin's files and the stock database "
                          "(docs/operations.md: the database is never deleted)", missing)
    print("   after purge: " + vm.run("ls -laR /etc/depot-agent /var/lib/depot-agent 2>&1; "
                                      "getent passwd depot-agent")[1].strip()
          .replace("\n", "\n   "))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["service", "power-cut", "upgrade", "arm64"])
    ap.add_argument("--prev-deb", help="upgrade: the previous release's .deb")
    ap.add_argument("--deb", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--long", action="store_true")
    args = ap.parse_args()

    outdir = os.path.abspath(os.path.join(args.out, args.case))
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    arch = "arm64" if args.case == "arm64" else "amd64"
    if arch == "arm64":  # the virt board has no second UART for the serial scanner
        BASE_CONFIG["scanners"] = [s for s in BASE_CONFIG["scanners"] if s["driver"] != "serial"]
    step(f"image: tests/system/image.sh {arch}")
    try:  # a first arm64 build takes ~10 minutes under qemu-user; bounded below ctest's limit
        built = subprocess.run([os.path.join(HERE, "image.sh"), arch], stdout=subprocess.PIPE,
                               text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        print(f"FAILED {args.case}: tests/system/image.sh {arch} did not finish in 1200 s")
        return 1
    if built.returncode == 77:
        if os.environ.get("DEPOT_SYSTEM_REQUIRED") == "1":
            print(f"FAILED {args.case}: the {arch} image cannot be built on this machine (image.sh "
                  f"says why above) and scripts/test requires the system suite (--no-system "
                  f"skips it)")
            return 1
        print(f"SKIP: the {arch} image cannot be built on this machine (image.sh says why above)")
        return 77
    built.check_returncode()
    image = built.stdout.strip().splitlines()[-1]
    disk = os.path.join(outdir, "rootfs.img")
    copy_disk(os.path.join(image, "rootfs.img"), disk)
    stage = os.path.join(outdir, "in")
    os.makedirs(stage)
    shutil.copy(args.deb, os.path.join(stage, "depot-agent.deb"))
    if args.case in ("service", "arm64"):
        stage_devices(stage, arch)
    if args.prev_deb:
        shutil.copy(args.prev_deb, os.path.join(stage, "depot-agent-prev.deb"))
    data = os.path.join(outdir, "in.img")
    make_data_disk(stage, data)

    vm = VM(image, disk, outdir, args.case, data_disk=data, arch=arch)
    t0 = time.monotonic()
    error = None
    try:
        boot(vm)
        if args.case == "service":
            case_service(vm, outdir)
            case_tls_link(vm)
            case_hid_scanner(vm)
            case_stop_offline(vm)
        elif args.case == "upgrade":
            case_upgrade(vm, outdir)
        elif args.case == "arm64":
            case_service(vm, outdir)
            case_tls_link(vm)
            case_stop_offline(vm)
            case_power_cut(vm, outdir, 1, installed=True, n=10)
        else:
            case_power_cut(vm, outdir, 20 if args.long else 5)
    except (VMError, RuntimeError, subprocess.SubprocessError, ValueError) as e:
        error = f"{type(e).__name__}: {e}"
        print(f"FAIL {error}", flush=True)
    finally:
        if vm.sock is not None:
            collect(vm, outdir, args.case)
            vm.poweroff(timeout=60)
        vm.kill()
        for f in (disk, data):  # the logs stay, the big images go
            if os.path.exists(f) and not (failures or error):
                os.unlink(f)
    step(f"{args.case}: {time.monotonic() - t0:.0f} s")
    if failures or error:
        print(f"FAILED {args.case}: {len(failures)} check(s) failed{'; ' + error if error else ''}."
              f"\nSerial logs, journal and database: {outdir}")
        return 1
    print(f"PASSED {args.case}. Logs: {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
