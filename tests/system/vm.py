"""Host side of the system suite: boots the Debian 12 test VM under qemu and runs commands in
it over a virtio serial port (the guest has no network: -nic none).

The guest runs tests/system/guest/depot-vmtest-driver, which reads "ID BASE64(script)" lines
from the port depot.test and answers "R ID EXIT_CODE BASE64(output)". Files go in on a second
virtio disk (/dev/vdb, an ext4 image made with mkfs.ext4 -d, mounted read-only at /mnt/in).

Every wait has a timeout; qemu is stopped by its PID only.
"""

import base64
import os
import shutil
import signal
import socket
import subprocess
import time


class VMError(Exception):
    pass


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK) and os.environ.get("DEPOT_VM_KVM", "1") == "1"


class VM:
    def __init__(self, image_dir, disk, logdir, name, data_disk=None, arch="amd64"):
        self.arch = arch
        self.image_dir = image_dir
        self.disk = disk
        self.logdir = logdir
        self.name = name
        self.data_disk = data_disk
        self.proc = None
        self.sock = None
        self.buf = b""
        self.next_id = 1
        self.boots = 0
        self.accel = "tcg"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, boot_timeout=300):
        self.boots += 1
        tag = f"{self.name}-boot{self.boots}"
        self.serial_log = os.path.join(self.logdir, f"{tag}.serial.log")
        sock_path = self.sock_path = os.path.join(self.logdir, f"{tag}.sock")
        self.scan_sock_path = os.path.join(self.logdir, f"{tag}.scan.sock")
        self.scan_sock = None
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        if self.arch == "arm64":
            # arm64 under emulation on any host (TCG): the virt board with the Cortex-A53 of
            # many gateways, direct kernel boot (no firmware). It has one UART (the console),
            # so no serial scanner port; two vCPUs (multi-threaded TCG) halve the boot.
            accel = ["-accel", "tcg,thread=multi"]
            machine = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a53", *accel,
                       "-smp", "2"]
            console, append_more = "ttyAMA0", ""
        else:
            accel = ["-accel", "kvm", "-cpu", "max"] if (kvm_usable() and self.accel != "tcg-only") \
                else ["-accel", "tcg"]
            machine = ["qemu-system-x86_64", *accel, "-smp", "1"]
            console, append_more = "ttyS0", " tsc=reliable"
        cmd = ["nice", "-n", "5", *machine,
               "-m", "1024", "-nic", "none", "-display", "none",
               "-no-reboot",
               "-kernel", os.path.join(self.image_dir, "vmlinuz"),
               "-initrd", os.path.join(self.image_dir, "initrd.img"),
               "-append", f"root=/dev/vda rw console={console} panic=-1 systemd.show_status=0"
                          f" net.ifnames=0{append_more}",
               "-drive", f"file={self.disk},format=raw,if=virtio,cache=writeback",
               "-serial", f"file:{self.serial_log}"]
        if self.arch != "arm64":
            # ttyS1: a serial barcode scanner, fed by the host (serial_scan).
            cmd += ["-chardev", f"socket,id=scan,path={self.scan_sock_path},server=on,wait=off",
                    "-serial", "chardev:scan"]
        cmd += ["-device", "virtio-serial-pci",
                "-chardev", f"socket,id=test,path={sock_path},server=on,wait=off",
                "-device", "virtserialport,chardev=test,name=depot.test"]
        if self.data_disk:
            cmd += ["-drive", f"file={self.data_disk},format=raw,if=virtio,readonly=on"]
        self.qemu_log = open(os.path.join(self.logdir, f"{tag}.qemu.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()
        deadline = time.monotonic() + 20
        while not os.path.exists(sock_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._fail_start(f"qemu did not open {sock_path}")
            time.sleep(0.1)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)
        self.buf = b""
        # Ping until the driver answers (it starts early in the boot).
        deadline = time.monotonic() + boot_timeout
        while True:
            if self.proc.poll() is not None:
                self._fail_start("qemu exited during boot")
            if time.monotonic() > deadline:
                if accel[1] == "kvm":
                    # A KVM guest that hangs after the BIOS (seen with qemu 7.2): fall back.
                    self.kill()
                    self.accel = "tcg-only"
                    self.boots -= 1
                    return self.start(boot_timeout)
                self._fail_start(f"no answer from the guest driver within {boot_timeout} s")
            try:
                rc, out = self.run("true", timeout=3)
                if rc == 0:
                    break
            except VMError:
                pass
        self.boot_seconds = time.monotonic() - self.started_at
        return self.boot_seconds

    def _fail_start(self, why):
        self.kill()
        raise VMError(f"{why}; serial log: {self.serial_log}")

    def kill(self):
        """SIGKILL qemu (a power cut for the guest), by PID."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        if self.sock:
            self.sock.close()
            self.sock = None
        if getattr(self, "scan_sock", None):
            self.scan_sock.close()
            self.scan_sock = None
        for f in (getattr(self, "sock_path", None), getattr(self, "scan_sock_path", None)):
            if f and os.path.exists(f):
                os.unlink(f)

    def poweroff(self, timeout=120):
        try:
            self._send(self.next_id, "systemctl poweroff")
        except (VMError, OSError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def serial_scan(self, data):
        """Bytes into the guest's /dev/ttyS1, as a serial scanner sends them."""
        if self.scan_sock is None:
            self.scan_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.scan_sock.connect(self.scan_sock_path)
        self.scan_sock.sendall(data)

    # -- commands --------------------------------------------------------------------------
    def _send(self, cid, script):
        line = f"{cid} {base64.b64encode(script.encode()).decode()}\n".encode()
        try:
            self.sock.sendall(line)
        except OSError as e:
            raise VMError(f"send failed: {e}")

    def run(self, script, timeout=120):
        """Runs a bash script in the guest as root; returns (exit code, output)."""
        if self.sock is None:
            raise VMError("not connected")
        cid = self.next_id
        self.next_id += 1
        self._send(cid, script)
        deadline = time.monotonic() + timeout
        while True:
            nl = self.buf.find(b"\n")
            while nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                parts = line.split(b" ")
                if len(parts) >= 3 and parts[0] == b"R" and parts[1] == str(cid).encode():
                    out = base64.b64decode(parts[3]) if len(parts) > 3 else b""
                    return int(parts[2]), out.decode(errors="replace")
                nl = self.buf.find(b"\n")
            left = deadline - time.monotonic()
            if left <= 0:
                raise VMError(f"timeout after {timeout} s waiting for: {script[:80]!r}")
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise VMError("qemu exited")
                continue
            except OSError as e:
                raise VMError(f"receive failed: {e}")
            if not data:
                raise VMError("the guest channel closed")
            self.buf += data

    def check(self, script, timeout=120):
        rc, out = self.run(script, timeout)
        if rc != 0:
            raise VMError(f"exit {rc} from {script!r}:\n{out}")
        return out

    def wait_for(self, script, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.run(script, timeout=max(5, timeout))
            if rc == 0:
                return out
            if time.monotonic() > deadline:
                raise VMError(f"timeout after {timeout} s waiting for {what}; last output:\n{out}")
            time.sleep(1)


def make_data_disk(src_dir, path):
    """An ext4 image holding src_dir, made without mounting (mkfs.ext4 -d)."""
    size = 64 * 1024 * 1024 + sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src_dir) for f in fs) * 2
    with open(path, "wb") as f:
        f.truncate(size)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "depot-in", "-d", src_dir, path], check=True)


def copy_disk(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
