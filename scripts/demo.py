#!/usr/bin/env python3
"""The demo's director: runs depot-agent on config/demo.json the way a front warehouse would
live through one compressed hour, and shows on the terminal what happens.

Called by scripts/demo (which installs what is needed and builds the release binary):

    scripts/demo.py --agent BUILD/depot-agent [--duration 60] [--offline] [--keep]

It starts, in a scratch folder, a local mosquitto on a free loopback port (the stand-in
cloud), a subscriber that records every message the cloud side receives, and the agent on a
copy of config/demo.json pointed at that broker. Then:
  * a normal trading hour: picks of several SKUs at the pack station's network scanner (TCP),
    goods in at the dock scanner (a named pipe);
  * a live-stream surge on one SKU: the platform's orders arrive first (the stand-in cloud
    sends each as an `order.reserve` command: reservations cut available stock, and order
    intake alone raises the surge before the packers start), then its pick rate jumps
    tenfold; when the stream ends the cloud ships most of the orders (`order.ship`);
  * the freezer's probe (the sim driver, scripted in demo.json) drifts out of range and
    back: the excursion becomes an alarm after the zone's delay, the freezer's stock goes on
    quality hold, the alarm clears; before that the freezer's second probe (by the door) drops
    out for a few seconds: a probe_failure alarm, cleared when it is back, and acknowledged
    after it ended together with the temperature alarm; the alarm outputs (config/demo.json
    `outputs` and `escalation`, exec hooks that write build's scratch hooks.log) fire level 1
    (the stack light) at once and level 2 (the QA phone) 6 s later, until the acknowledgement;
every two seconds a status line (scans/s, the surging SKU's position against its reorder
point, the freezer's temperature and state, messages received by topic), then the proposals
with the numbers behind them, the holds, the alarms, the freezer's report for an auditor
(build/demo/report-freezer-1.html, by `depot-agent report`) and what the cloud received. With
--offline the broker comes up only halfway through: the outbox fills, then drains.
Every process it starts is stopped by PID; it says where the database and the logs are.
"""
import argparse
import collections
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BOLD, DIM, RED, GREEN, YELLOW, RESET = "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = RED = GREEN = YELLOW = RESET = ""

SURGE_SKU = "LIPTINT-07"
SURGE_EAN = "4006381333931"
# A normal hour at the pack station, compressed: a few picks of each SKU (few enough that no SKU
# looks like a surge against its daily demand). The freezer's matcha is picked only until its
# zone alarms: stock on quality hold is not picked.
NORMAL_PICKS = ["5012345678900", "96385074", "4006381333931"]
MATCHA_EAN = "5012345678900"


def fmt_rate(x):
    """A rate as an operator reads it: 1.6666666666666667 -> 1.67."""
    return f"{x:.2f}" if isinstance(x, (int, float)) else str(x)


def step(text):
    print(f"\n{BOLD}== {text}{RESET}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Demo:
    def __init__(self, args):
        self.args = args
        self.agent = os.path.abspath(args.agent)
        self.work = tempfile.mkdtemp(prefix="depot-demo.")
        self.cfg = os.path.join(self.work, "agent.json")
        self.log = os.path.join(self.work, "agent.log")
        self.cloud_log = os.path.join(self.work, "cloud.log")
        self.procs = {}  # name -> Popen, stopped by PID at the end
        self.port = free_port()
        self.scan_port = free_port()
        self.console_port = free_port()
        self.console_checks = {}
        self.received = collections.Counter()
        self.received_lock = threading.Lock()
        self.cloud_records = collections.defaultdict(list)
        self.scans_sent = 0
        self.units = 0
        self.orders = []          # order ids the stand-in cloud sent (order.reserve)
        self.orders_lock = threading.Lock()
        self.freezer_alarmed = False
        self.alarm_at = None      # when the freezer's temperature alarm was first seen
        self.acked = False
        self.hooks_log = os.path.join(self.work, "hooks.log")
        self.hook_lines = []      # what the alarm outputs (exec hooks) were called with
        self.probe_failures = set()
        self.report_file = None
        self.t0 = time.monotonic()

    # -- processes ---------------------------------------------------------------------------
    def start_broker(self):
        conf = os.path.join(self.work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence false\nlog_dest file {self.work}/mosquitto.log\n")
            if os.geteuid() == 0:
                f.write("user root\n")
        self.procs["mosquitto"] = subprocess.Popen(
            ["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        if not wait_port(self.port, 10):
            raise SystemExit("mosquitto did not start: see " + self.work + "/mosquitto.log")
        # The cloud side: every message under depot/v1/, one line each (topic, payload).
        sub = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-v", "-q", "1",
             "-i", "demo-cloud", "-c", "-t", "depot/v1/#"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs["cloud subscriber"] = sub
        threading.Thread(target=self.read_cloud, args=(sub,), daemon=True).start()

    def read_cloud(self, sub):
        with open(self.cloud_log, "a") as out:
            for line in sub.stdout:
                out.write(line)
                topic, _, payload = line.rstrip("\n").partition(" ")
                name = topic.split("/", 4)[-1] if topic.count("/") >= 4 else topic
                try:
                    body = json.loads(payload)
                except ValueError:
                    body = None
                with self.received_lock:
                    n = len(body.get("records", [])) if isinstance(body, dict) else 0
                    self.received[name] += max(n, 1)
                    if isinstance(body, dict) and name in ("alarms", "reorders"):
                        self.cloud_records[name].extend(body.get("records", []))

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def write_config(self):
        with open(os.path.join(self.args.root, "config", "demo.json")) as f:
            cfg = json.load(f)
        # The stand-in cloud; reconnect at most 2 s apart so --offline shows the drain promptly.
        cfg["mqtt"] = dict(cfg.get("mqtt", {}), host="127.0.0.1", port=self.port,
                           backoff_min_s=1, backoff_max_s=2)
        for s in cfg.get("scanners", []):
            if s.get("driver") == "tcp":
                s["port"] = self.scan_port
        # The console (metrics and health for the fleet), on loopback.
        cfg["console"] = {"listen": f"127.0.0.1:{self.console_port}"}
        # The alarm outputs: this tree's stand-in hook, writing into the scratch folder.
        hook = os.path.join(self.args.root, "scripts", "demo-alarm-hook")
        for o in cfg.get("outputs", []):
            if "exec" in o:
                o["exec"]["command"] = [hook, self.hooks_log]
        self.site, self.gateway = cfg["site"], cfg["gateway"]
        with open(self.cfg, "w") as f:
            json.dump(cfg, f, indent=2)
        return cfg

    def start_agent(self):
        logf = open(self.log, "w")
        self.procs["depot-agent"] = subprocess.Popen(
            [self.agent, "run", "-c", self.cfg], stdout=logf, stderr=subprocess.STDOUT)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            with open(self.log) as f:
                if "ready:" in f.read():
                    return
            if self.procs["depot-agent"].poll() is not None:
                break
            time.sleep(0.1)
        print(open(self.log).read())
        raise SystemExit("the agent did not become ready (log above)")

    def cli(self, *argv, check=False):
        r = subprocess.run([self.agent, *argv, "-c", self.cfg], capture_output=True, text=True)
        if check and r.returncode != 0:
            print(r.stdout + r.stderr)
        return r

    def cli_json(self, *argv):
        r = self.cli(*argv, "--json")
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def outbox_waiting(self):
        """Records in the outbox not yet delivered (read-only, beside the running agent)."""
        try:
            con = sqlite3.connect(f"file:{self.work}/demo.db?mode=ro", uri=True, timeout=1)
            n = con.execute("SELECT count(*) FROM outbox o JOIN outbox_streams s ON "
                            "s.stream = o.stream WHERE o.seq > s.acked_seq").fetchone()[0]
            con.close()
            return n
        except sqlite3.Error:
            return "?"

    # -- scanners ------------------------------------------------------------------------------
    def scan_feeder(self, stop):
        """Picks at the pack station: one every 1.5 s, then the live stream's surge: packers
        scan the control code QTY 8 and then the item, 2.5 times a second (20 units/s)."""
        sock = socket.create_connection(("127.0.0.1", self.scan_port))
        i = 0
        while not stop.is_set():
            t = time.monotonic() - self.t0
            if self.surge_start <= t < self.surge_end:
                sock.sendall(f"DA:QTY:8\n{SURGE_EAN}\n".encode())
                self.scans_sent += 2
                self.units += 8
                time.sleep(0.4)
                continue
            code = NORMAL_PICKS[i % len(NORMAL_PICKS)]
            i += 1
            if code == MATCHA_EAN and self.freezer_alarmed:
                continue
            sock.sendall((code + "\n").encode())
            self.scans_sent += 1
            self.units += 1
            time.sleep(1.5)
        sock.close()

    def command(self, name, cmd_id, args):
        """The stand-in cloud sends one command (QoS 1); False while the broker is down."""
        body = json.dumps({"id": cmd_id, "args": args})
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                            "-i", "demo-desk-" + cmd_id, "-t",
                            f"depot/v1/{self.site}/{self.gateway}/cmd/{name}", "-m", body],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        return r.returncode == 0

    def order_feeder(self, stop):
        """The live stream's orders, as the platform takes them: from a few seconds before the
        packers start until the stream ends, an order of 1-3 lip tints every 0.5 s."""
        i = 0
        while not stop.is_set():
            t = time.monotonic() - self.t0
            if t >= self.surge_end:
                break
            if t >= self.orders_start:
                i += 1
                oid = f"LS-1111-{i:04d}"
                if self.command("order.reserve", f"ord-{i}",
                                {"order_id": oid, "channel": "live:room-42",
                                 "lines": [{"sku": SURGE_SKU, "qty": 1 + i % 3}]}):
                    with self.orders_lock:
                        self.orders.append(oid)
            time.sleep(0.5)

    def dock(self, *codes):
        with open(os.path.join(self.work, "dock-1.pipe"), "w") as p:
            for c in codes:
                p.write(c + "\n")

    # -- the show -------------------------------------------------------------------------------
    def status_line(self, last):
        t = time.monotonic() - self.t0
        stock = self.cli_json("stock", "--sku", SURGE_SKU) or []
        row = stock[0] if isinstance(stock, list) and stock else {}
        zones = self.cli_json("zones") or []
        freezer = next((z for z in zones if isinstance(z, dict) and z.get("zone") == "freezer-1"), {})
        with self.received_lock:
            got = ", ".join(f"{k} {v}" for k, v in sorted(self.received.items()) if k != "status")
        rate = (self.units - last[0]) / max(t - last[1], 1e-3)
        last[:] = [self.units, t]
        pos, rop = row.get("position"), row.get("reorder_point")
        reserved = row.get("reserved")
        if isinstance(rop, (int, float)):
            rop = round(rop)
        mark = f"{RED}SURGE{RESET}" if row.get("surge") else "     "
        temp = (freezer.get("temperature") or {}).get("high_c")
        if isinstance(temp, float):
            temp = round(temp, 1)
        level = freezer.get("level") or "?"
        opened = [x for x in freezer.get("open_excursions") or [] if isinstance(x, dict)]
        failures = [x for x in opened if x.get("alarm_type") == "probe_failure"]
        for x in failures:
            if x.get("probe") not in self.probe_failures:
                self.probe_failures.add(x.get("probe"))
                print(f"       {RED}PROBE FAILURE{RESET} {x.get('probe')}: no good reading since "
                      f"{x.get('start')} (a dead probe is an alarm, never 'normal')", flush=True)
        temp_alarm = any(x.get("alarm_type", "temperature") == "temperature" and x.get("alarmed")
                         for x in opened)
        first_alarm = temp_alarm and not self.freezer_alarmed
        if temp_alarm:
            self.freezer_alarmed = True
            if self.alarm_at is None:
                self.alarm_at = t
        colour = RED if level == "alarm" else YELLOW if level == "warning" else GREEN
        print(f"{DIM}{t:5.1f}s{RESET} picks/s {rate:5.1f} | {SURGE_SKU} position "
              f"{pos if pos is not None else '?':>5} vs reorder point "
              f"{rop if rop is not None else '?':>5} {mark} reserved "
              f"{reserved if reserved is not None else '?':>4} | freezer-1 "
              f"{temp if temp is not None else '?':>6} °C {colour}{level:<7}{RESET} | outbox "
              f"{self.outbox_waiting():>4} | cloud got: {got or 'nothing yet'}", flush=True)
        if first_alarm:
            holds = self.cli_json("holds", "--open") or []
            for h in holds if isinstance(holds, list) else []:
                lot = f" lot {h['lot']}" if h.get("lot") else ""
                print(f"       {RED}quality hold{RESET} {h.get('id')}: {h.get('qty')} x {h.get('sku')}"
                      f"{lot} (zone {h.get('zone')}) leaves available stock", flush=True)
        # The alarm outputs: level 1 (the stack light) at once, level 2 (the QA phone) 6 s later
        # while nobody has acknowledged; the acknowledgement resets them.
        try:
            with open(self.hooks_log) as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        for line in lines[len(self.hook_lines):]:
            print(f"       {RED}ALARM OUTPUT{RESET} {line}", flush=True)
        self.hook_lines = lines
        level2 = any(" fire level 2 " in x for x in lines)
        if self.alarm_at is not None and not self.acked and (level2 or t - self.alarm_at > 14):
            self.acked = True
            r = self.cli("alarms", "ack", "freezer-1", "--who", "qa.lin",
                         "--comment", "door of freezer-1 found ajar; closed at 14:32")
            print("       $ depot-agent alarms ack freezer-1 --who qa.lin ...: "
                  + (r.stdout.strip() or r.stderr.strip()), flush=True)

    def run(self):
        a = self.args
        self.surge_start = a.duration * 0.25
        self.surge_end = a.duration * 0.6
        self.orders_start = a.duration * 0.15  # orders come before the picks do
        step(f"scratch folder {self.work}")
        self.write_config()
        if not a.offline:
            step(f"the stand-in cloud: mosquitto on 127.0.0.1:{self.port}, subscribed to depot/v1/#")
            self.start_broker()
        r = self.cli("check")
        print(r.stdout.strip() or r.stderr.strip())
        if r.returncode != 0:
            raise SystemExit("config/demo.json does not pass depot-agent check")
        step("starting depot-agent run (log: " + self.log + ")")
        self.start_agent()
        print(f"   console: http://127.0.0.1:{self.console_port}/  "
              f"(/metrics for Prometheus, /healthz for the fleet's health checks)")
        self.t0 = time.monotonic()
        # A second, older lot of matcha expires in 3 days (site time): short-dated, picked first.
        soon = time.strftime("%y%m%d", time.gmtime(time.time() + 3 * 86400))  # the demo site is UTC
        step("goods in at the dock (named pipe): GS1-128 pallet labels, 40 cases of lip tint "
             "and 5 + 2 cases of matcha ice cream in two lots for the freezer")
        self.dock("]C10214006381333938" + "3740\x1d10LT2611",
                  "]C10215012345678907375\x1d10MA2611\x1d17270531",
                  "]C10215012345678907372\x1d10MA2610\x1d17" + soon,
                  "DA:QTY:30", "INT-VC-001")
        time.sleep(0.5)
        print(self.cli("stock").stdout, end="")
        step("stock per lot (depot-agent stock --lots): picks without a lot take the first "
             "expiry first (FEFO); MA2610 is short-dated")
        print(self.cli("stock", "--lots").stdout, end="")
        step(f"trading: picks at the pack station (TCP); from {self.orders_start:.0f} s a live "
             f"stream's orders for {SURGE_SKU} arrive from the cloud (order.reserve, 2 a second), "
             f"at {self.surge_start:.0f} s the packers follow at 20 picks/s (QTY 8 scans) until "
             f"{self.surge_end:.0f} s; meanwhile the freezer probe drifts warm")
        stop = threading.Event()
        feeder = threading.Thread(target=self.scan_feeder, args=(stop,), daemon=True)
        feeder.start()
        orders = threading.Thread(target=self.order_feeder, args=(stop,), daemon=True)
        orders.start()
        shipped = False
        last = [0, 0.0]
        broker_up_at = a.duration * 0.5 if a.offline else None
        while time.monotonic() - self.t0 < a.duration:
            if broker_up_at is not None and time.monotonic() - self.t0 >= broker_up_at:
                step(f"the link comes back: mosquitto up on 127.0.0.1:{self.port}; the outbox drains")
                self.start_broker()
                broker_up_at = None
            self.status_line(last)
            if not shipped and time.monotonic() - self.t0 >= self.surge_end + 2:
                shipped = True
                self.ship_orders()
            time.sleep(2)
        stop.set()
        feeder.join()
        orders.join()
        time.sleep(1)
        self.report()

    def ship_orders(self):
        """The stream is over: the cloud ships all but the last five orders (order.ship); what
        they still reserve is available again (the packers' scans carried no order id)."""
        with self.orders_lock:
            to_ship = self.orders[:-5]
        for n, oid in enumerate(to_ship):
            self.command("order.ship", f"ship-{n}", {"order_id": oid})
        print(f"       the stream is over: {len(to_ship)} of {len(self.orders)} orders shipped "
              f"(order.ship); the last 5 stay reserved", flush=True)

    def console(self):
        """What an operator's monitoring sees: /healthz and a few /metrics lines."""
        import urllib.error
        import urllib.request
        base = f"http://127.0.0.1:{self.console_port}"
        step(f"the console at {base}: health and metrics (curl {base}/healthz)")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                code, body = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read().decode()
        except OSError as e:
            code, body = 0, str(e)
        self.console_checks["healthz"] = code
        print(f"   GET /healthz -> {code} {body[:300]}")
        try:
            with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
                metrics = r.read().decode()
        except OSError as e:
            metrics = ""
            print(f"   GET /metrics failed: {e}")
        shown = [l for l in metrics.splitlines()
                 if l.startswith(("depot_outbox_depth", "depot_mqtt_connected", "depot_scans_total",
                                  "depot_alarms_open", "depot_zone_level"))]
        self.console_checks["metrics"] = any(l.startswith("depot_outbox_depth{") for l in shown)
        for l in shown[:14]:
            print(f"   {l}")

    def check(self):
        """What must have happened, for ctest (--check)."""
        failed = []
        reorders = self.cli_json("reorders") or []
        if not any(r.get("sku") == SURGE_SKU and r.get("urgent") for r in reorders):
            failed.append(f"no urgent proposal for {SURGE_SKU}")
        if not self.orders:
            failed.append("the stand-in cloud sent no order")
        open_orders = self.cli_json("orders") or []
        if not self.args.offline and len(open_orders) != min(5, len(self.orders)):
            failed.append(f"{len(open_orders)} orders open, expected the last 5 (the rest shipped)")
        if not self.freezer_alarmed:
            failed.append("freezer-1 never reached alarm")
        if not self.probe_failures:
            failed.append("the freezer's door probe never raised probe_failure")
        if not any(" fire level 2 " in x for x in self.hook_lines):
            failed.append("the freezer's alarm never escalated to its second level (hooks.log)")
        holds = self.cli_json("holds") or []
        if not holds:
            failed.append("no quality hold")
        elif not any(h.get("lot") for h in holds):
            failed.append("no quality hold names a lot (the freezer's matcha is in lots)")
        lots = self.cli_json("stock", "--lots") or []
        if not any(l.get("lot") == "MA2610" and l.get("short_dated") for l in lots):
            failed.append("stock --lots does not show lot MA2610 as short-dated")
        try:
            con = sqlite3.connect(f"file:{self.work}/demo.db?mode=ro", uri=True, timeout=1)
            n = con.execute("SELECT count(*) FROM replenish_alarms WHERE kind = 'short_dated'"
                            " AND details LIKE '%MA2610%'").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if not n:
            failed.append("no short_dated alarm for lot MA2610")
        if not self.report_file or "freezer-1" not in open(self.report_file).read():
            failed.append("depot-agent report wrote no report of freezer-1")
        with self.received_lock:
            for topic in ("movements", "reorders", "alarms", "telemetry", "orders"):
                if not self.received.get(topic):
                    failed.append(f"the cloud received nothing on {topic}")
        # The agent keeps recording (telemetry, repeats) while this runs, so a record may be in
        # flight at any instant: the outbox must drain to empty within 15 s, not at one glance.
        waiting = self.outbox_waiting()
        deadline = time.monotonic() + 15
        while waiting != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            waiting = self.outbox_waiting()
        if waiting != 0:
            failed.append(f"{waiting} records still waiting in the outbox after 15 s")
        if self.console_checks.get("healthz") not in (200, 503):
            failed.append(f"the console's /healthz did not answer ({self.console_checks.get('healthz')})")
        if not self.console_checks.get("metrics"):
            failed.append("the console's /metrics had no depot_outbox_depth")
        return failed

    def report(self):
        step("customer orders still open (depot-agent orders)")
        print(self.cli("orders").stdout, end="")
        surges = [r for r in self.cloud_records.get("alarms", [])
                  if r.get("alarm") == "demand_surge" and r.get("state") == "raised"]
        for r in surges[:1]:
            d = r.get("details") or {}
            print(f"   demand_surge on {r.get('sku')} was raised from {d.get('signal')}: "
                  f"{d.get('window_units')} units in {d.get('window_minutes')} min "
                  f"against {fmt_rate(d.get('expected_per_hour'))}/h expected")
        step("reorder proposals (depot-agent reorders)")
        print(self.cli("reorders").stdout, end="")
        step("cold chain (depot-agent zones, alarms, holds)")
        for c in (("zones",), ("alarms",), ("holds",)):
            print(f"$ depot-agent {' '.join(c)}")
            print(self.cli(*c).stdout, end="")
        unacked = [x for x in self.cli_json("alarms") or []
                   if isinstance(x, dict) and x.get("acknowledged") is None]
        if unacked:
            step("alarms that ended before anyone acknowledged them stay on the list: "
                 "acknowledged now, with a root cause")
            r = self.cli("alarms", "ack", "freezer-1", "--who", "qa.lin", "--comment",
                         "door probe cable reseated", "--root-cause",
                         "connector loose after cleaning; added to the weekly check")
            print("$ depot-agent alarms ack freezer-1 --who qa.lin --root-cause ...: "
                  + (r.stdout.strip() or r.stderr.strip()))
        step("stock after the hour (depot-agent stock)")
        print(self.cli("stock").stdout, end="")
        step("the quality manager releases the freezer hold after checking the product")
        holds = self.cli_json("holds", "--open") or []
        for h in holds if isinstance(holds, list) else []:
            hid = h.get("id")
            if hid is not None and h.get("remaining", 0) > 0:
                r = self.cli("holds", "release", str(hid), "--who", "qa.lin",
                             "--why", "core temperature checked: -19.5 C, product fine")
                print(r.stdout.strip() or r.stderr.strip())
        step("the audit trail is intact (depot-agent audit verify)")
        print(self.cli("audit", "verify").stdout, end="")
        step("the freezer's report for an auditor (depot-agent report: one HTML file, "
             "open it in a browser or print it)")
        out_dir = os.path.join(self.args.root, "build", "demo")
        os.makedirs(out_dir, exist_ok=True)
        self.report_file = os.path.join(out_dir, "report-freezer-1.html")
        since = f"{int(time.monotonic() - self.t0) + 5}s"  # the demo's own run
        r = self.cli("report", "--zone", "freezer-1", "--from", since, "--to", "now",
                     "--out", self.report_file)
        print(r.stdout.strip() or r.stderr.strip())
        if r.returncode != 0:
            self.report_file = None
        time.sleep(1.5)
        self.console()
        step("what the cloud received, by topic (records; full log: " + self.cloud_log + ")")
        with self.received_lock:
            for k, v in sorted(self.received.items()):
                print(f"   {k:<24} {v}")
        print(f"   (the agent took {self.units} units of picks in {self.scans_sent} scans from the pack station)")
        print(f"   still waiting in the outbox: {self.outbox_waiting()}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agent", required=True)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--offline", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless the story happened (a surge proposal, an alarm, a hold, "
                        "and the cloud received movements, reorders and alarms): for ctest")
    p.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = p.parse_args()
    if args.duration < 20:
        p.error("--duration must be at least 20 seconds")
    demo = Demo(args)
    failed = []
    try:
        demo.run()
        if args.check:
            failed = demo.check()
    finally:
        for name in ("depot-agent", "cloud subscriber", "mosquitto"):
            demo.stop(name)
        print(f"\ndatabase: {demo.work}/demo.db   agent log: {demo.log}   cloud log: {demo.cloud_log}")
        if not args.keep:
            shutil.rmtree(demo.work, ignore_errors=True)
            print("(scratch folder removed; run scripts/demo --keep to keep it)")
    if failed:
        print("demo check FAILED: " + "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
