#!/usr/bin/env python3
"""The footprint scenario's config (bench/footprint.sh, bench/hot-code.sh).

A catalog of N SKUs, each with a valid EAN-13 unit barcode and a case of 12, under the
`steady` policy; 100 simulated probes in 10 cold zones, read every second.

    footprint_config.py N OUT [--mqtt-port P] [--scanner-port P]

--mqtt-port: a cloud link to a local broker on that port (plain MQTT); --scanner-port: a TCP
scanner on 127.0.0.1 at that port, receiving what it reads.
"""
import argparse
import json


def gtin(body):  # appends the GS1 check digit: weights 3, 1, 3, ... from the right
    s = sum(int(c) * (3 if (len(body) - 1 - i) % 2 == 0 else 1) for i, c in enumerate(body))
    return body + str((10 - s % 10) % 10)


def unit_barcode(i):
    return gtin(f"200{i:09d}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skus", type=int)
    ap.add_argument("out")
    ap.add_argument("--mqtt-port", type=int)
    ap.add_argument("--scanner-port", type=int)
    a = ap.parse_args()
    cat = [{"sku": f"SKU-{i:05d}", "name": f"Item {i}", "unit": "each",
            "barcodes": [unit_barcode(i)], "policy": "steady", "daily_demand": 5,
            "zone": f"cold-{i % 10}" if i % 4 == 0 else "ambient",
            "cases": [{"barcode": gtin(f"1201{i:09d}"), "qty": 12}]} for i in range(a.skus)]
    zones = [{"id": f"cold-{z}", "min_c": 2, "max_c": 8} for z in range(10)]
    sensors = [{"id": f"probe-{p:03d}", "zone": f"cold-{p % 10}", "driver": "sim",
                "read_interval_s": 1, "sim": {"profile": "constant", "base_c": 5}}
               for p in range(100)]
    policies = {"steady": {"lead_time_days": 7, "review_period_days": 7, "safety_days": 5,
                           "suppliers": [{"id": "main", "lead_time_days": 7,
                                          "unit_price": 1.0}]}}
    c = {"site": "bench-site", "gateway": "gw-1", "database": "bench.db", "log_level": "info",
         "catalog": cat, "zones": zones, "sensors": sensors, "policies": policies}
    if a.mqtt_port:
        c["mqtt"] = {"host": "127.0.0.1", "port": a.mqtt_port, "client_id": "gw-1"}
    if a.scanner_port:
        c["scanners"] = [{"id": "dock-1", "driver": "tcp", "role": "receive",
                          "listen": "127.0.0.1", "port": a.scanner_port}]
    with open(a.out, "w") as f:
        json.dump(c, f)


if __name__ == "__main__":
    main()
