// The cloud link's inbound queue (base/inbound_queue.hpp) of its messages.
#pragma once

#include "base/inbound_queue.hpp"
#include "sync/mqtt_link_types.hpp"

namespace depot::sync {

using InboundQueue = depot::InboundQueue<Inbound>;

}  // namespace depot::sync
