// One direction of an Aurora 64B/66B ring link between two cores, at the user clock: the
// sender's tx stream (valid/ready) in, the receiver's rx (valid/payload, no ready) out.
//
//   * latency: clocks from a beat taken on tx to the beat shown on rx;
//   * bandwidth: at most `beats_per_clock` (<= 1) beats taken per clock (a credit accumulator),
//     plus, with probability `idle`, a clock on which tx is not ready (clock compensation);
//   * link-up: channel_up/lane_up rise `up_delay` clocks after reset; drop() takes the channel
//     down (tx not ready, nothing more delivered, channel_up low on both ends) and raises
//     hard_err for one clock.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "pins.h"

namespace dfx {

struct LinkEndPins {      // one end of a link, as the router sees it
    Pin tx_valid, tx_ready, tx_payload;
    Pin rx_valid, rx_payload;
    Pin channel_up, lane_up, hard_err, soft_err;
};

struct LinkTiming {
    int latency = 40;
    double beats_per_clock = 1.0;
    double idle = 0.0;
    uint64_t up_delay = 100;
    uint32_t seed = 1;
};

class LinkDirection {
public:
    LinkDirection(const LinkEndPins& from, const LinkEndPins& to, const LinkTiming& timing)
        : from_(from), to_(to), t_(timing), rng_(timing.seed) {
        bytes_ = from_.tx_payload.bytes();
    }

    void set_timing(const LinkTiming& timing) { t_ = timing; }
    void drop() { dropped_ = true; hard_err_pulse_ = true; }
    bool up() const { return !dropped_ && now_ >= t_.up_delay; }
    uint64_t beats = 0;

    // Before the rising edge of the user clock.
    void sample() {
        fire_ = from_.tx_valid.get() && from_.tx_ready.get();
        if (fire_) {
            Beat b{std::vector<uint8_t>(bytes_), now_ + t_.latency};
            from_.tx_payload.get_bytes(b.data.data());
            flight_.push_back(std::move(b));
            ++beats;
        }
    }

    // After the rising edge: drive the receiver's rx and both ends' status for the next clock.
    void update() {
        ++now_;
        if (fire_) credit_ -= 1.0;
        credit_ = std::min(credit_ + t_.beats_per_clock, 1.0);
        bool up_now = up();
        bool deliver = up_now && !flight_.empty() && flight_.front().at <= now_;
        to_.rx_valid.set(deliver);
        if (deliver) {
            to_.rx_payload.set_bytes(flight_.front().data.data());
            flight_.pop_front();
        }
        if (!up_now) flight_.clear();
        bool idle = t_.idle > 0 && uniform_(rng_) < t_.idle;
        from_.tx_ready.set(up_now && credit_ >= 1.0 && !idle);
        for (const LinkEndPins* end : {&from_, &to_}) {
            end->channel_up.set(up_now);
            end->lane_up.set(up_now ? ~uint64_t(0) : 0);
            end->hard_err.set(hard_err_pulse_);
            end->soft_err.set(0);
        }
        hard_err_pulse_ = false;
    }

private:
    struct Beat {
        std::vector<uint8_t> data;
        uint64_t at;
    };
    LinkEndPins from_, to_;
    LinkTiming t_;
    std::mt19937 rng_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    int bytes_;
    uint64_t now_ = 0;
    double credit_ = 1.0;
    bool fire_ = false, dropped_ = false, hard_err_pulse_ = false;
    std::deque<Beat> flight_;
};

}  // namespace dfx
