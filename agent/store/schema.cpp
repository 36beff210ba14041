#include "store/schema.hpp"

#include <array>

namespace depot::store {
namespace {

// ---------------------------------------------------------------------------------------
// SQL: every table the agent keeps. Append new migrations at the end; never edit old ones.
// ---------------------------------------------------------------------------------------
constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The catalog, as configured (origin 'config') or, later, as the cloud sent it ('cloud').
-- SKUs are never deleted (movements refer to them); a SKU gone from the config is inactive.
CREATE TABLE skus(
  sku             TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  unit            TEXT NOT NULL,
  zone            TEXT NOT NULL,
  policy          TEXT NOT NULL,
  daily_demand    REAL,
  daily_demand_sd REAL,
  origin          TEXT NOT NULL,
  active          INTEGER NOT NULL DEFAULT 1,
  updated_at      TEXT NOT NULL
);

-- Barcodes by key: GTINs in 14-digit form, internal codes as written.
CREATE TABLE barcodes(
  code_key TEXT PRIMARY KEY,
  code     TEXT NOT NULL,
  sku      TEXT NOT NULL REFERENCES skus(sku),
  pack_qty INTEGER NOT NULL CHECK (pack_qty > 0)
) WITHOUT ROWID;
CREATE INDEX barcodes_sku ON barcodes(sku);

-- The stock ledger: append-only. qty is the signed change to on hand; held_qty the signed
-- change to held. A count stores what was counted and its variance as qty.
CREATE TABLE movements(
  seq           INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  sku           TEXT NOT NULL REFERENCES skus(sku),
  kind          TEXT NOT NULL CHECK (kind IN
                  ('receive','pick','return','adjust','count','hold','release','writeoff')),
  qty           INTEGER NOT NULL,
  held_qty      INTEGER NOT NULL DEFAULT 0,
  counted       INTEGER,
  source        TEXT NOT NULL,
  lot           TEXT,
  expiry        TEXT,
  serial        TEXT,
  wall_time     TEXT NOT NULL,
  mono_ns       INTEGER NOT NULL,
  on_hand_after INTEGER NOT NULL,
  negative      INTEGER NOT NULL
);
CREATE INDEX movements_sku ON movements(sku, seq);
CREATE INDEX movements_time ON movements(wall_time);
CREATE TRIGGER movements_no_update BEFORE UPDATE ON movements
  BEGIN SELECT RAISE(ABORT, 'movements are append-only: post a correcting movement'); END;
CREATE TRIGGER movements_no_delete BEFORE DELETE ON movements
  BEGIN SELECT RAISE(ABORT, 'movements are append-only: post a correcting movement'); END;

-- The stock projection, maintained in the same transaction as each movement.
CREATE TABLE stock(
  sku        TEXT PRIMARY KEY REFERENCES skus(sku),
  on_hand    INTEGER NOT NULL,
  held       INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- The outbox: what the cloud has yet to acknowledge, per stream, in seq order. A record is
-- written in the same transaction as the change it reports. next_seq never goes back, so a
-- seq is never reused even after its record has been delivered and removed.
CREATE TABLE outbox_streams(
  stream   TEXT PRIMARY KEY,
  next_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE outbox(
  stream  TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  id      TEXT NOT NULL,
  ts      TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
)sql";

// v2: scan rejects (kept with their raw bytes, reported to the cloud), UNDO's link from a
// compensating movement to the one it reverses, and the flag for a serial picked twice.
constexpr std::string_view kV2 = R"sql(
ALTER TABLE movements ADD COLUMN reverses TEXT;
ALTER TABLE movements ADD COLUMN serial_repeat INTEGER NOT NULL DEFAULT 0;
CREATE INDEX movements_serial ON movements(sku, serial) WHERE serial IS NOT NULL;

-- Scans that changed nothing: undecodable, failed check digits, unknown barcodes, double
-- reads, invalid control codes. raw is escaped text (GS as \x1d). Append-only.
CREATE TABLE rejects(
  seq       INTEGER PRIMARY KEY,
  source    TEXT NOT NULL,
  raw       TEXT NOT NULL,
  reason    TEXT NOT NULL,
  wall_time TEXT NOT NULL,
  mono_ns   INTEGER NOT NULL
);
CREATE INDEX rejects_time ON rejects(wall_time);
CREATE TRIGGER rejects_no_update BEFORE UPDATE ON rejects
  BEGIN SELECT RAISE(ABORT, 'rejects are append-only'); END;
)sql";

// v3: cloud commands applied, by id, with the reply they got: the same command id sent twice
// is applied once (the second time the stored reply is sent again). There is no audit log
// table yet, so this is where applied commands are kept; each is also reported on the
// `audit` outbox stream in the same transaction.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE commands(
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  args       TEXT NOT NULL,
  reply      TEXT NOT NULL,
  applied_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER commands_no_update BEFORE UPDATE ON commands
  BEGIN SELECT RAISE(ABORT, 'applied commands are append-only'); END;
)sql";

// v4: cold chain (docs/coldchain.md, "What the agent stores"). Readings and their per-minute
// summaries (deleted only by retention, never updated); zone events and excursion records,
// quality holds, acknowledgement requests from the CLI/cloud to the daemon, the zone state the
// daemon publishes for `depot-agent zones`, and the hash-chained audit log.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE readings(
  seq                  INTEGER PRIMARY KEY,
  probe                TEXT NOT NULL,
  zone                 TEXT NOT NULL,
  wall_ms              INTEGER NOT NULL,
  mono_ns              INTEGER NOT NULL,
  celsius              REAL,
  quality              TEXT NOT NULL CHECK (quality IN ('good','implausible','crc_failed','no_data')),
  reason               TEXT,
  clock_unsynchronized INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX readings_time ON readings(wall_ms);
CREATE INDEX readings_zone_time ON readings(zone, wall_ms);
CREATE TRIGGER readings_no_update BEFORE UPDATE ON readings
  BEGIN SELECT RAISE(ABORT, 'readings are append-only'); END;

-- One row per probe and minute (good readings only in min/max/mean; all in count columns).
CREATE TABLE reading_minutes(
  probe        TEXT NOT NULL,
  minute_ms    INTEGER NOT NULL,
  zone         TEXT NOT NULL,
  min_c        REAL,
  max_c        REAL,
  mean_c       REAL,
  count        INTEGER NOT NULL,
  good         INTEGER NOT NULL,
  PRIMARY KEY (probe, minute_ms)
) WITHOUT ROWID;
CREATE INDEX reading_minutes_time ON reading_minutes(minute_ms);
CREATE TRIGGER reading_minutes_no_update BEFORE UPDATE ON reading_minutes
  BEGIN SELECT RAISE(ABORT, 'reading summaries are append-only'); END;

-- Zone events: warning, warning_cleared, alarm, alarm_repeat, cleared, probe_offline,
-- probe_online, acknowledged. Each is also an `alarms` outbox record, same transaction.
CREATE TABLE zone_events(
  seq                  INTEGER PRIMARY KEY,
  id                   TEXT NOT NULL UNIQUE,
  zone                 TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  side                 TEXT,
  celsius              REAL,
  probe                TEXT,
  wall_ms              INTEGER NOT NULL,
  mono_ns              INTEGER NOT NULL,
  clock_unsynchronized INTEGER NOT NULL DEFAULT 0,
  excursion            TEXT,
  cause                TEXT,
  repeat               INTEGER NOT NULL DEFAULT 0,
  who                  TEXT,
  comment              TEXT
);
CREATE INDEX zone_events_zone ON zone_events(zone, seq);
CREATE TRIGGER zone_events_no_update BEFORE UPDATE ON zone_events
  BEGIN SELECT RAISE(ABORT, 'zone events are append-only'); END;
CREATE TRIGGER zone_events_no_delete BEFORE DELETE ON zone_events
  BEGIN SELECT RAISE(ABORT, 'zone events are append-only'); END;

-- Closed excursions (open ones are in zone_state). `ended` is 'closed' or 'restart' (the
-- agent stopped while it was open: end is the last time the agent saw the zone).
CREATE TABLE excursions(
  id               TEXT PRIMARY KEY,
  zone             TEXT NOT NULL,
  side             TEXT NOT NULL,
  limit_c          REAL NOT NULL,
  start_wall_ms    INTEGER NOT NULL,
  end_wall_ms      INTEGER NOT NULL,
  duration_s       REAL NOT NULL,
  out_of_range_s   REAL NOT NULL,
  peak_c           REAL NOT NULL,
  peak_probe       TEXT,
  degree_minutes   REAL NOT NULL,
  alarmed          INTEGER NOT NULL,
  alarm_wall_ms    INTEGER,
  cause            TEXT,
  ack_who          TEXT,
  ack_comment      TEXT,
  ack_wall_ms      INTEGER,
  ended            TEXT NOT NULL,
  clock_unsynchronized INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX excursions_time ON excursions(start_wall_ms);
CREATE TRIGGER excursions_no_update BEFORE UPDATE ON excursions
  BEGIN SELECT RAISE(ABORT, 'excursion records are append-only'); END;
CREATE TRIGGER excursions_no_delete BEFORE DELETE ON excursions
  BEGIN SELECT RAISE(ABORT, 'excursion records are append-only'); END;

-- Quality holds: stock put on hold when a zone alarmed. released/written_off grow as the
-- hold is ended (each step is a ledger movement and an audit entry); never deleted.
CREATE TABLE holds(
  id           INTEGER PRIMARY KEY,
  sku          TEXT NOT NULL REFERENCES skus(sku),
  zone         TEXT NOT NULL,
  qty          INTEGER NOT NULL CHECK (qty > 0),
  excursion    TEXT NOT NULL,
  movement_id  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  released     INTEGER NOT NULL DEFAULT 0,
  written_off  INTEGER NOT NULL DEFAULT 0,
  closed_at    TEXT,
  CHECK (released >= 0 AND written_off >= 0 AND released + written_off <= qty)
);
CREATE INDEX holds_open ON holds(sku) WHERE closed_at IS NULL;
CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
  BEGIN SELECT RAISE(ABORT, 'holds are never deleted'); END;

-- Alarm acknowledgements asked for by the CLI or the cloud; the daemon applies them to its
-- zone monitor at its next tick and writes the outcome.
CREATE TABLE ack_requests(
  id           INTEGER PRIMARY KEY,
  zone         TEXT NOT NULL,
  who          TEXT NOT NULL,
  comment      TEXT NOT NULL,
  source       TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','applied','rejected')),
  result       TEXT,
  handled_at   TEXT
);
CREATE INDEX ack_requests_pending ON ack_requests(id) WHERE status = 'pending';

-- What the daemon last knew per zone (level, probes, open excursions, MKT) as JSON.
CREATE TABLE zone_state(
  zone       TEXT PRIMARY KEY,
  state      TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- The audit trail: each entry's hash is SHA-256 of its canonical text, which includes the
-- previous entry's hash (store/audit.hpp). Append-only.
CREATE TABLE audit_log(
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  who       TEXT NOT NULL,
  what      TEXT NOT NULL,
  why       TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// v5: delivery marks. After PUBACK the publisher moves a stream's acked_seq instead of deleting
// the records at once; delivered records are deleted later, when the publisher is idle.
constexpr std::string_view kV5 = R"sql(
ALTER TABLE outbox_streams ADD COLUMN acked_seq INTEGER NOT NULL DEFAULT 0;
)sql";

// v6: replenishment (docs/replenishment.md). The catalog's pin_demand flag (the fingerprint
// is dropped so the next apply_catalog writes it); proposals with every number behind them
// (an acknowledged proposal is an open order: on_order = ordered_qty - received_qty);
// receipts credited to orders, by movement (a receipt is applied once); daily demand
// buckets per SKU (picks and returns, UTC days) so a restart keeps demand history; campaigns
// set by the cloud; replenishment alarms (demand_surge, stockout_risk). `replenish_seq` in
// meta is the last movement seq folded into the buckets and orders.
constexpr std::string_view kV6 = R"sql(
ALTER TABLE skus ADD COLUMN pin_demand INTEGER NOT NULL DEFAULT 0;
DELETE FROM meta WHERE key = 'catalog_fingerprint';

CREATE TABLE proposals(
  id                  TEXT PRIMARY KEY,
  sku                 TEXT NOT NULL REFERENCES skus(sku),
  state               TEXT NOT NULL CHECK (state IN
                        ('proposed','acknowledged','received','cancelled')),
  reason              TEXT NOT NULL,
  urgent              INTEGER NOT NULL,
  supplier            TEXT NOT NULL,
  quantity            INTEGER NOT NULL CHECK (quantity > 0),
  created_ms          INTEGER NOT NULL,
  expected_arrival_ms INTEGER NOT NULL,
  order_number        TEXT,
  acknowledged_ms     INTEGER,
  ordered_qty         INTEGER,
  received_qty        INTEGER NOT NULL DEFAULT 0,
  closed_ms           INTEGER,
  cancel_reason       TEXT,
  position            INTEGER NOT NULL,
  reorder_point       REAL NOT NULL,
  safety_stock        REAL NOT NULL,
  daily_demand        REAL NOT NULL,
  daily_demand_sd     REAL NOT NULL,
  lead_time_days      REAL NOT NULL,
  lead_time_sd_days   REAL NOT NULL,
  surge_factor        REAL NOT NULL,
  campaign_factor     REAL NOT NULL,
  numbers             TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
CREATE INDEX proposals_sku ON proposals(sku, created_ms);
CREATE INDEX proposals_open ON proposals(sku) WHERE state IN ('proposed','acknowledged');

CREATE TABLE order_receipts(
  movement_id TEXT NOT NULL,
  proposal_id TEXT NOT NULL REFERENCES proposals(id),
  qty         INTEGER NOT NULL CHECK (qty > 0),
  PRIMARY KEY (movement_id, proposal_id)
) WITHOUT ROWID;

CREATE TABLE demand_days(
  sku      TEXT NOT NULL,
  day      INTEGER NOT NULL,
  picked   INTEGER NOT NULL,
  returned INTEGER NOT NULL,
  PRIMARY KEY (sku, day)
) WITHOUT ROWID;

CREATE TABLE campaigns(
  name     TEXT PRIMARY KEY,
  skus     TEXT NOT NULL,
  policy   TEXT NOT NULL,
  factor   REAL NOT NULL CHECK (factor >= 1),
  start_ms INTEGER NOT NULL,
  end_ms   INTEGER NOT NULL CHECK (end_ms > start_ms),
  set_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE replenish_alarms(
  id         TEXT PRIMARY KEY,
  sku        TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('demand_surge','stockout_risk')),
  raised_at  TEXT NOT NULL,
  cleared_at TEXT,
  details    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX replenish_alarms_active ON replenish_alarms(sku, kind) WHERE cleared_at IS NULL;
)sql";

// v7: each audit-trail entry remembers the seq of its `audit` stream record, so that
// `audit verify` can tell a trail shorter than what the broker acknowledged (store/audit.hpp).
constexpr std::string_view kV7 = R"sql(
ALTER TABLE audit_log ADD COLUMN stream_seq INTEGER;
)sql";

// v8: alarm records of a second type: `probe_failure` (a probe that gave no good reading for
// its offline_after_s; side 'none', no limit or peak), and acknowledgements given after an
// alarm record was closed (the record itself is append-only: the late acknowledgement is its
// own append-only row, joined by excursion id).
constexpr std::string_view kV8 = R"sql(
ALTER TABLE excursions ADD COLUMN type TEXT NOT NULL DEFAULT 'temperature';
ALTER TABLE excursions ADD COLUMN ack_root_cause TEXT;
CREATE TABLE late_acks(
  excursion   TEXT PRIMARY KEY,
  who         TEXT NOT NULL,
  comment     TEXT NOT NULL,
  root_cause  TEXT NOT NULL,
  wall_ms     INTEGER NOT NULL,
  source      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER late_acks_no_update BEFORE UPDATE ON late_acks
  BEGIN SELECT RAISE(ABORT, 'acknowledgements are append-only'); END;
CREATE TRIGGER late_acks_no_delete BEFORE DELETE ON late_acks
  BEGIN SELECT RAISE(ABORT, 'acknowledgements are append-only'); END;
ALTER TABLE ack_requests ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';
)sql";

// v9: alarm outputs (core/coldchain/escalation.hpp): every attempt to fire or reset an output
// for an alarm and its outcome (so `alarms` shows which levels fired), and the outputs'
// `output_failure` system alarms (raised at an output's first failure, cleared by its next
// success or at the next start).
constexpr std::string_view kV9 = R"sql(
CREATE TABLE output_log(
  id         INTEGER PRIMARY KEY,
  alarm      TEXT NOT NULL,
  zone       TEXT NOT NULL,
  alarm_type TEXT NOT NULL,
  output     TEXT NOT NULL,
  event      TEXT NOT NULL CHECK (event IN ('fire','reset')),
  level      INTEGER NOT NULL,
  repeat     INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  ok         INTEGER NOT NULL CHECK (ok IN (0,1)),
  reason     TEXT NOT NULL,
  wall_ms    INTEGER NOT NULL
);
CREATE INDEX output_log_alarm ON output_log(alarm);
CREATE TABLE output_failures(
  id          TEXT PRIMARY KEY,
  output      TEXT NOT NULL,
  reason      TEXT NOT NULL,
  raised_ms   INTEGER NOT NULL,
  cleared_ms  INTEGER,
  cleared_why TEXT,
  failures    INTEGER NOT NULL DEFAULT 1,
  last_reason TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX output_failures_open ON output_failures(output) WHERE cleared_ms IS NULL;
)sql";

// v10: humidity and door probes (docs/coldchain.md, "Humidity and doors"). A reading or minute
// summary says what it measured: 'temperature' (°C in celsius/min_c/...), 'humidity' (%RH in
// the same columns) or 'door' (1 open, 0 closed). Alarm records gain the types humidity and
// door_open (excursions.type is free text since v8).
constexpr std::string_view kV10 = R"sql(
ALTER TABLE readings ADD COLUMN quantity TEXT NOT NULL DEFAULT 'temperature';
ALTER TABLE reading_minutes ADD COLUMN quantity TEXT NOT NULL DEFAULT 'temperature';
)sql";

// v11: local accounts (docs/operations.md, "Accounts and signatures"): who may sign which
// action (role), the Argon2id hash of the password (libsodium's crypto_pwhash_str format), and
// the lockout counters. Accounts are disabled, never deleted: the audit trail names them.
constexpr std::string_view kV11 = R"sql(
CREATE TABLE accounts(
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  role            TEXT NOT NULL CHECK (role IN ('operator','quality','buyer','admin')),
  hash            TEXT NOT NULL,
  disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
  failures        INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,
  changed_at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
  BEGIN SELECT RAISE(ABORT, 'accounts are disabled, never deleted'); END;
)sql";

// v12: bearer tokens for machines reading the console's API (docs/api.md, "Bearer tokens"):
// only the SHA-256 of each token is kept (a token is 256 random bits: a fast hash is enough,
// and checking one costs microseconds on the event loop). Revoked, never deleted.
constexpr std::string_view kV12 = R"sql(
CREATE TABLE api_tokens(
  name        TEXT PRIMARY KEY,
  sha256      TEXT NOT NULL UNIQUE,
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
) WITHOUT ROWID;
CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
  BEGIN SELECT RAISE(ABORT, 'tokens are revoked, never deleted'); END;
)sql";

// v13: customer orders and their reservations (docs/replenishment.md, "Orders and
// reservations"). One row per order line (order, SKU): what was ordered, what is reserved
// from stock now, what is backordered (waits for stock), what picks with the order's id have
// taken. Stock keeps the SKU's totals beside on hand and held, in the same transactions;
// available = on_hand - held - reserved. A movement names the order it was picked for.
constexpr std::string_view kV13 = R"sql(
CREATE TABLE order_lines(
  order_id    TEXT NOT NULL,
  sku         TEXT NOT NULL REFERENCES skus(sku),
  channel     TEXT NOT NULL,
  qty         INTEGER NOT NULL CHECK (qty > 0),
  reserved    INTEGER NOT NULL CHECK (reserved >= 0),
  backordered INTEGER NOT NULL CHECK (backordered >= 0),
  picked      INTEGER NOT NULL DEFAULT 0 CHECK (picked >= 0),
  state       TEXT NOT NULL CHECK (state IN ('open','released','shipped')),
  seq         INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
CREATE INDEX order_lines_backordered ON order_lines(sku, seq)
  WHERE backordered > 0 AND state = 'open';
CREATE INDEX order_lines_created ON order_lines(created_at);
ALTER TABLE stock ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stock ADD COLUMN backordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE movements ADD COLUMN order_id TEXT;
ALTER TABLE movements ADD COLUMN reservation_taken INTEGER NOT NULL DEFAULT 0;
)sql";

// v14: what transfer sources (the parent or central warehouse) can spare per SKU, as the cloud
// last said (source.stock; docs/replenishment.md, "Where replenishment comes from").
constexpr std::string_view kV14 = R"sql(
CREATE TABLE source_stock(
  source     TEXT NOT NULL,
  sku        TEXT NOT NULL,
  qty        INTEGER NOT NULL CHECK (qty >= 0),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (source, sku)
) WITHOUT ROWID;
)sql";

// v15: lots and expiry (docs/replenishment.md, "Lots and expiry"). Stock per (SKU, lot) beside
// the SKU's total, in the same transactions (the unlotted remainder is the total minus the
// lots; a lot with nothing on hand or held has no row); first_seq orders lots by first receipt.
// Rebuilt here from the movements that named a lot, capped by the SKU's on hand (picks
// without a lot reduced no lot before v15: the newest lots are taken as the ones still on the
// shelf); held is not per lot before v15 (0). A movement keeps the lots the agent chose
// for it (`lots`, JSON: [{lot, expiry, qty, held_qty}]) so an UNDO reverses exactly those. A
// quality hold names its lot. Replenishment alarms gain `short_dated` (SQLite cannot change a
// CHECK: the table is copied).
constexpr std::string_view kV15 = R"sql(
CREATE TABLE lot_stock(
  sku        TEXT NOT NULL REFERENCES skus(sku),
  lot        TEXT NOT NULL,
  expiry     TEXT,
  on_hand    INTEGER NOT NULL,
  held       INTEGER NOT NULL,
  first_seq  INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (sku, lot)
) WITHOUT ROWID;
CREATE INDEX lot_stock_expiry ON lot_stock(expiry) WHERE expiry IS NOT NULL;
WITH g AS (
  SELECT sku, lot, MIN(expiry) AS expiry, SUM(qty) AS qty, MIN(seq) AS first_seq,
         MAX(seq) AS last_seq, MAX(wall_time) AS at
  FROM movements WHERE lot IS NOT NULL AND length(lot) BETWEEN 1 AND 20
    AND lot NOT GLOB '*[^!-~]*'
  GROUP BY sku, lot HAVING SUM(qty) > 0),
r AS (
  SELECT g.*, MAX(s.on_hand, 0) AS total,
         COALESCE(SUM(g.qty) OVER (PARTITION BY g.sku ORDER BY g.last_seq DESC
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
  FROM g JOIN stock s ON s.sku = g.sku)
INSERT INTO lot_stock(sku, lot, expiry, on_hand, held, first_seq, updated_at)
  SELECT sku, lot,
         CASE WHEN expiry GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN expiry END,
         MIN(qty, total - before), 0, first_seq, at
  FROM r WHERE total - before > 0;
ALTER TABLE movements ADD COLUMN lots TEXT;
ALTER TABLE holds ADD COLUMN lot TEXT;
CREATE TABLE replenish_alarms_v15(
  id         TEXT PRIMARY KEY,
  sku        TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('demand_surge','stockout_risk','short_dated')),
  raised_at  TEXT NOT NULL,
  cleared_at TEXT,
  details    TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO replenish_alarms_v15 SELECT id, sku, kind, raised_at, cleared_at, details
  FROM replenish_alarms;
DROP TABLE replenish_alarms;
ALTER TABLE replenish_alarms_v15 RENAME TO replenish_alarms;
CREATE INDEX replenish_alarms_active ON replenish_alarms(sku, kind) WHERE cleared_at IS NULL;
)sql";

// v16: the outbox's depth and size without reading its rows. Records removed before delivery
// (the disk budget's telemetry, a record too large for any message) leave holes in a stream's
// seqs above its delivery mark; `holes` counts them, so a stream's depth is next_seq - 1 -
// acked_seq - holes. `bytes` is the payload bytes of the stream's rows in the outbox, for the
// disk budget (store/outbox.hpp). Both counted once here, for the records already there.
constexpr std::string_view kV16 = R"sql(
ALTER TABLE outbox_streams ADD COLUMN holes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_streams ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE outbox_streams SET holes = next_seq - 1 - acked_seq -
  (SELECT count(*) FROM outbox o WHERE o.stream = outbox_streams.stream
     AND o.seq > outbox_streams.acked_seq),
  bytes = (SELECT coalesce(sum(length(CAST(payload AS BLOB))), 0) FROM outbox o
     WHERE o.stream = outbox_streams.stream);
)sql";

// v17: a proposal the agent withdrew (its need went away before anyone acknowledged it) is
// cancelled with `withdrawn` = 1: it holds no cancellation cool-down (docs/replenishment.md).
constexpr std::string_view kV17 = R"sql(
ALTER TABLE proposals ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<std::string_view, 17> kMigrations{kV1,  kV2,  kV3,  kV4,  kV5,  kV6,
                                                      kV7,  kV8,  kV9,  kV10, kV11, kV12,
                                                      kV13, kV14, kV15, kV16, kV17};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

}  // namespace depot::store
