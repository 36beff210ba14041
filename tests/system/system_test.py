#!/usr/bin/env python3
"""The system suite: the shipped .deb and systemd unit on a real Debian 12 VM (qemu, no
network). See docs/operations.md, "System suite".

  system_test.py --deb PKG.deb --out DIR CASE [--long]

CASE is one of:
  service     dpkg -i on a clean system (user, folders, conffile, credentials), start through
              Type=notify, reload applies a changed config, journald priorities, stop;
              the sandbox (systemd-analyze security, the stdin FIFO under /run/depot-agent,
              no EPERM in the journal); the watchdog kills a stopped agent and systemd restarts it
  power-cut   scans flow (the CLI, each confirmed one recorded by the host) while the host
              SIGKILLs qemu at a random moment; after each reboot the database is intact,
              every confirmed scan is there, the outbox seq has no gap, the agent came up by
              itself. 5 cuts (--long: 20). Prints bytes written to the disk per scan.
  upgrade     the previous release's .deb (packaging/previous-release, --prev-deb) configured,
              edited and used, then this .deb over it: database, edited conffile and
              credentials kept, service back; apt purge removes what the package created only.

Each run leaves the serial logs, the journal and the database in DIR/CASE; a failure says so.
"""

import argparse
import json
import os
import random
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

    # -- a serial scanner on a real UART (qemu's second serial port, fed by the host)
    vm.serial_scan(b"4006381333931\r")
    try:
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
    time.sleep(2)
    expect(vm.run("systemctl is-active depot-agent")[1].strip() == "active",
           "an invalid config on reload keeps the agent running")
    warn = vm.check("journalctl -u depot-agent -p warning -o cat --no-pager")
    info = vm.check("journalctl -u depot-agent -p info -o cat --no-pager")
    expect("durabilty" in warn, "journalctl -p warning shows the reload's warning", warn)
    expect("ready: database" in info and "ready: database" not in warn and "starting" not in warn,
           "journalctl -p warning leaves out the agent's info lines", warn)
    put_file(vm, CONF, json.dumps(cfg, indent=1))
    vm.check("systemctl reload depot-agent", timeout=120)

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
def scan_cmd(sid):
    return (f"{AS_AGENT} depot-agent scan -c {CONF} --kind receive --code 4006381333931 "
            f"--id {sid}")


def write_sectors(vm):
    return int(vm.check("cat /sys/block/vda/stat").split()[6])


def case_power_cut(vm, out, cuts):
    install(vm)
    cfg = json.loads(json.dumps(BASE_CONFIG))
    cfg["scanners"] = []
    put_file(vm, CONF, json.dumps(cfg, indent=1))
    vm.check("systemctl enable --now depot-agent", timeout=180)
    wait_active(vm)

    # Bytes written to the virtual disk per committed scan (the CLI path: open, commit, close).
    n = 40
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
    confirmed = {f"warm-{i}" for i in range(n)}
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
        dup = sql(vm, "select count(*) - count(distinct id) from movements")
        expect(dup == "0", f"cut {cut}: no duplicate movement")
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
    ap.add_argument("case", choices=["service", "power-cut", "upgrade"])
    ap.add_argument("--prev-deb", help="upgrade: the previous release's .deb")
    ap.add_argument("--deb", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--long", action="store_true")
    args = ap.parse_args()

    outdir = os.path.abspath(os.path.join(args.out, args.case))
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    step("image: tests/system/image.sh")
    image = subprocess.run([os.path.join(HERE, "image.sh")], check=True, stdout=subprocess.PIPE,
                           text=True).stdout.strip().splitlines()[-1]
    disk = os.path.join(outdir, "rootfs.img")
    copy_disk(os.path.join(image, "rootfs.img"), disk)
    stage = os.path.join(outdir, "in")
    os.makedirs(stage)
    shutil.copy(args.deb, os.path.join(stage, "depot-agent.deb"))
    if args.prev_deb:
        shutil.copy(args.prev_deb, os.path.join(stage, "depot-agent-prev.deb"))
    data = os.path.join(outdir, "in.img")
    make_data_disk(stage, data)

    vm = VM(image, disk, outdir, args.case, data_disk=data)
    t0 = time.monotonic()
    error = None
    try:
        boot(vm)
        if args.case == "service":
            case_service(vm, outdir)
        elif args.case == "upgrade":
            case_upgrade(vm, outdir)
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
