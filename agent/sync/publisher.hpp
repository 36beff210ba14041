// Drains the outbox to the broker. Each message is one stream's envelope of consecutive
// records in seq order (at most `batch_records` records and `batch_bytes` bytes), published
// at QoS 1 with at most `max_inflight` messages unacknowledged. A stream's delivery mark
// (store/outbox: acked_seq) moves only past records whose messages the broker acknowledged
// (PUBACK), all of them, in order. After a reconnect or a restart every stream is sent again
// from its mark, so nothing is missed and a duplicate is only ever a resend of the same
// (stream, seq). Delivered records are deleted in small chunks while the publisher is idle. Streams take turns by priority
// (sync/schedule.hpp) under a records-per-second drain rate; the outbox's disk budget is
// enforced every few seconds (store/outbox.hpp).
// Thread-safety: lives on the daemon's loop thread, like the Database it reads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"
#include "sync/envelope.hpp"
#include "sync/schedule.hpp"

namespace depot::sync {

struct PublisherOptions {
  std::string site, gateway;
  std::string incarnation;  // the database's, carried in every envelope (store/outbox.hpp)
  std::int64_t max_inflight = 16;
  std::int64_t batch_records = 200;
  std::int64_t batch_bytes = 64 * 1024;
  std::int64_t drain_per_s = 0;  // 0 = unlimited
  std::int64_t budget_bytes = 256LL << 20;
  std::chrono::milliseconds poll{100};            // how often to look for new records
  std::chrono::milliseconds budget_every{10000};  // how often to check the disk budget
  // How often, at most, the rejects' and readings' bytes are measured again for the budget (on
  // a thread, only while the file is over it); also never sooner than 60 x the last
  // measurement took, so a large readings table costs at most 1/60 of a core's time and disk.
  std::chrono::milliseconds sizing_every{60000};
  std::chrono::milliseconds removal_delay{20};    // acknowledgements are saved together
  std::int64_t compact_chunk = 2000;  // delivered records deleted per poll while idle
  std::int64_t keep_delivered_s = 0;  // delivered records younger than this are kept (replay)
};

class Publisher {
 public:
  using Done = std::function<void(bool ok, const std::string& error)>;
  // Publishes one message at QoS 1; `done` runs on the loop at PUBACK or failure.
  using Send = std::function<Status(const std::string& topic, std::string payload, Done)>;

  struct Counters {
    std::uint64_t messages = 0, records = 0, acked_records = 0, failed = 0, resent_from = 0;
    std::uint64_t undeliverable = 0;  // records given up: larger than any message allowed
    std::int64_t last_ack_mono_ns = 0;  // when the last PUBACK came (mono_now_ns); 0 = never
  };

  Publisher(boost::asio::io_context& io, store::Database& db, PublisherOptions options, Send send,
            std::function<std::int64_t()> mono_now_ns, std::function<std::string()> wall_now,
            std::function<std::string()> new_id);
  ~Publisher();  // stops and joins the sizing thread
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void start();    // the poll and budget timers
  void stop();     // cancels the timers
  void online();   // the link is up: send every stream from its oldest record
  void offline();  // the link is down: what was in flight will be sent again
  void poke();     // new records may be waiting
  // The largest message payload the broker takes on this connection (mqtt.max_packet_bytes,
  // or the MQTT 5 CONNACK's Maximum Packet Size when smaller, less the packet's own bytes).
  // Messages are cut at the smaller of it and `batch_bytes`; a record that alone is larger is
  // given up with a data_loss record (store::outbox_drop_undeliverable), never resent forever.
  // Never below kMinPayloadLimit (core/mqtt_config.hpp), so that a data_loss record is never
  // itself given up.
  void set_payload_limit(std::size_t bytes) {
    payload_limit_ = std::max(bytes, static_cast<std::size_t>(kMinPayloadLimit));
  }
  // True when nothing is in flight, every acknowledgement is saved, and no record is waiting
  // (as of the last look at the outbox). Delivered records may still await compaction.
  bool drained();
  const Counters& counters() const { return counters_; }
  // The last budget check left the outbox (with rejects and readings) over its disk budget.
  bool over_budget() const { return over_budget_; }

 private:
  // Sends while the window has room. kOutbox first reads every stream's last seq and delivery
  // mark; kKnown goes on from those last read (after a PUBACK, once per message), unless this
  // connection has written since.
  enum class Look { kOutbox, kKnown };
  void pump(Look look = Look::kOutbox);
  void acked(std::uint64_t epoch, std::uint64_t serial, const store::SeqRange& range, bool ok,
             const std::string& why);
  void save_marks();
  void compact();
  void arm_poll();
  void arm_budget();
  void failed(const std::string& what, const Error& e);
  // The rejects' and readings' bytes for the budget: the last figure the sizing thread
  // measured (store::rejects_readings_bytes on a connection of its own, never on the loop),
  // starting a new measurement when that one is due; 0 until the first is in.
  Expected<std::int64_t> rejects_readings();
  void works(const std::string& what);
  // Keeps over_budget_ and says so in the log (once, then every kOverBudgetRepeat).
  void note_over_budget(const store::BudgetOutcome& r);
  static constexpr std::chrono::nanoseconds kOverBudgetRepeat = std::chrono::minutes(10);

  boost::asio::io_context& io_;
  store::Database& db_;
  PublisherOptions o_;
  Send send_;
  std::function<std::int64_t()> mono_now_ns_;
  std::function<std::string()> wall_now_, new_id_;
  Topics topics_;
  DrainOrder order_;
  DrainRate rate_;
  boost::asio::steady_timer poll_, budget_, removal_;
  // A message in flight on this connection, per stream in send order.
  struct Sent {
    std::uint64_t serial = 0;  // which send (sends_): a resend has the same seqs, not the serial
    std::int64_t first_seq = 0, last_seq = 0;
    bool acked = false;
  };
  std::map<std::string, std::int64_t> sent_upto_;  // per stream, this connection
  std::map<std::string, std::int64_t> last_seq_;   // per stream, as last read
  std::map<std::string, std::deque<Sent>> window_;  // per stream, this connection
  std::map<std::string, std::int64_t> marks_;       // delivery marks not yet saved
  std::int64_t unsaved_acks_ = 0;
  bool over_budget_ = false;
  std::int64_t over_budget_said_ns_ = 0;  // mono_now_ns_() when "still over" was last logged
  bool backlog_ = false;  // the last pump left records unsent (window full or rate limit)
  bool removal_posted_ = false;  // a removal is scheduled (timer or posted)
  bool removal_now_ = false;     // ...and it is the posted, immediate one
  bool online_ = false;
  bool running_ = false;
  std::int64_t inflight_ = 0;
  std::uint64_t epoch_ = 0;
  std::uint64_t sends_ = 0;  // messages handed to send_, ever
  std::int64_t changes_seen_ = -1;  // db_.total_changes() at the last look at the outbox
  std::int64_t rate_wait_until_ns_ = 0;
  std::size_t payload_limit_ = SIZE_MAX;
  Counters counters_;
  std::map<std::string, std::uint64_t> failing_;  // writes failing now: repeats since logged
  std::thread sizer_;
  std::atomic<bool> sizer_busy_{false}, sizer_cancel_{false};
  std::atomic<std::int64_t> sized_bytes_{0}, sizing_took_ns_{0};
  std::atomic<bool> sizing_failed_{false};
  std::string sizing_error_;  // written by the thread before sizing_failed_, read after it
  std::int64_t sized_at_ns_ = -1;  // mono_now_ns_() when the last measurement began
};

}  // namespace depot::sync
