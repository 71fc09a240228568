// AXI4 subordinate memory model for the whole-core Verilator simulation: one HBM pseudo-channel
// or the DDR port.
//
// Timing (all in clocks of the port's clock):
//   * read: an accepted AR burst's first beat is offered `read_latency` clocks later; beats of
//     all bursts leave in order, at most `beats_per_clock` per clock (a credit accumulator: 1.0 =
//     one 512-bit beat per clock, HBM; less for DDR-like bandwidth);
//   * write: W beats are accepted at the same rate; a burst's B response is offered
//     `write_latency` clocks after its last beat;
//   * reads and writes share the port's beats: when a W beat waits while read data flows, the
//     two alternate beat by beat (round robin). Serving reads first instead would hold a store
//     for as long as a weight stream reads the channel -- thousands of clocks -- which the HBM
//     controller's reorder queue age limit (PG276: the most newer commands that may pass a
//     pending one) does not allow. The read/write bus turnaround is not modelled;
//   * optional random stalls: each clock, with probability `stall`, the model neither accepts nor
//     offers anything on any channel (a refresh, a bank conflict);
//   * fault injection: an access touching [fault_lo, fault_hi) answers `fault_resp` (SLVERR=2 or
//     DECERR=3) for the whole burst and, for a write, leaves memory unchanged; an access past the
//     end of the memory answers DECERR.
// Protocol: INCR bursts only (the DMA issues nothing else; anything else is counted in
// `protocol_errors`), arsize/awsize must be the full data width.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "pins.h"

namespace dfx {

struct AxiPins {
    Pin arvalid, arready, araddr, arid, arlen, arsize, arburst;
    Pin rvalid, rready, rdata, rid, rresp, rlast;
    Pin awvalid, awready, awaddr, awid, awlen, awsize, awburst;
    Pin wvalid, wready, wdata, wstrb, wlast;
    Pin bvalid, bready, bid, bresp;
};

struct AxiTiming {
    int read_latency = 200;
    int write_latency = 50;
    double beats_per_clock = 1.0;
    double stall = 0.0;
    uint64_t fault_lo = 0, fault_hi = 0;  // empty range: no fault
    int fault_resp = 2;
    uint32_t seed = 1;
};

class AxiMemory {
public:
    AxiMemory(const AxiPins& pins, size_t bytes, const AxiTiming& timing)
        : p_(pins), mem_(bytes, 0), t_(timing), rng_(timing.seed) {
        beat_bytes_ = p_.rdata.bytes();
    }

    std::vector<uint8_t>& memory() { return mem_; }
    void set_timing(const AxiTiming& timing) { t_ = timing; }
    const AxiTiming& timing() const { return t_; }

    // Statistics.
    uint64_t read_beats = 0, write_beats = 0, protocol_errors = 0, error_responses = 0;

    // Before the rising edge: which handshakes happen at it (the DUT's outputs have settled).
    void sample() {
        ar_fire_ = p_.arvalid.get() && p_.arready.get();
        r_fire_ = p_.rvalid.get() && p_.rready.get();
        aw_fire_ = p_.awvalid.get() && p_.awready.get();
        w_fire_ = p_.wvalid.get() && p_.wready.get();
        b_fire_ = p_.bvalid.get() && p_.bready.get();
        w_waiting_ = p_.wvalid.get() && !p_.wready.get();
        if (ar_fire_) {
            Burst b{p_.araddr.get(), uint32_t(p_.arid.get()), int(p_.arlen.get()) + 1,
                    now_ + t_.read_latency, 0};
            check_burst(b, p_.arsize.get(), p_.arburst.get());
            reads_.push_back(b);
        }
        if (aw_fire_) {
            Burst b{p_.awaddr.get(), uint32_t(p_.awid.get()), int(p_.awlen.get()) + 1, 0, 0};
            check_burst(b, p_.awsize.get(), p_.awburst.get());
            writes_.push_back(b);
        }
        if (w_fire_) {
            std::vector<uint8_t> data(beat_bytes_), strb((beat_bytes_ + 7) / 8);
            p_.wdata.get_bytes(data.data());
            p_.wstrb.get_bytes(strb.data());
            wdata_.push_back({std::move(data), std::move(strb), bool(p_.wlast.get())});
        }
    }

    // After the rising edge: update the state and drive the model's outputs for the next clock.
    void update() {
        ++now_;
        if (r_fire_) {
            Burst& b = reads_.front();
            ++b.done;
            ++read_beats;
            if (b.done == b.beats) reads_.pop_front();
            r_offered_ = false;
        }
        if (b_fire_) {
            responses_.pop_front();
            b_offered_ = false;
        }
        if (w_fire_) {
            credit_ -= 1.0;
            write_turn_ = false;  // the next contended beat goes to the reads
        }
        absorb_writes();
        bool stalled = t_.stall > 0 && uniform_(rng_) < t_.stall;
        credit_ = std::min(credit_ + t_.beats_per_clock, 2.0);
        // Read data: keep an offered beat until it is taken (AXI: valid must not drop). A W beat
        // that waited while the last contended beat went to the reads takes this beat instead.
        bool yield_to_write = w_waiting_ && write_turn_;
        if (!r_offered_ && !stalled && !reads_.empty() && reads_.front().ready_at <= now_ &&
            credit_ >= 1.0 && !yield_to_write) {
            Burst& b = reads_.front();
            uint64_t addr = b.addr + uint64_t(b.done) * beat_bytes_;
            std::vector<uint8_t> beat(beat_bytes_, 0);
            int resp = response(b.addr, b.beats);
            if (resp == 0) std::copy(mem_.begin() + addr, mem_.begin() + addr + beat_bytes_,
                                     beat.begin());
            else ++error_responses;
            p_.rdata.set_bytes(beat.data());
            p_.rid.set(b.id);
            p_.rresp.set(resp);
            p_.rlast.set(b.done + 1 == b.beats);
            r_offered_ = true;
            credit_ -= 1.0;
            write_turn_ = true;
        }
        p_.rvalid.set(r_offered_);
        if (!b_offered_ && !stalled && !responses_.empty() && responses_.front().ready_at <= now_) {
            p_.bid.set(responses_.front().id);
            p_.bresp.set(responses_.front().resp);
            b_offered_ = true;
        }
        p_.bvalid.set(b_offered_);
        p_.arready.set(!stalled);
        p_.awready.set(!stalled);
        p_.wready.set(!stalled && credit_ >= 1.0 && wdata_.size() < 64);
    }

    bool idle() const { return reads_.empty() && writes_.empty() && responses_.empty() &&
                               wdata_.empty(); }

private:
    struct Burst {
        uint64_t addr;
        uint32_t id;
        int beats;
        uint64_t ready_at;
        int done;
    };
    struct WBeat {
        std::vector<uint8_t> data, strb;
        bool last;
    };
    struct Response {
        uint32_t id;
        int resp;
        uint64_t ready_at;
    };

    void check_burst(const Burst& b, uint64_t size, uint64_t burst) {
        if ((1u << size) != unsigned(beat_bytes_) || burst != 1 || b.addr % beat_bytes_)
            ++protocol_errors;
        uint64_t first_page = b.addr / 4096;
        uint64_t last_page = (b.addr + uint64_t(b.beats) * beat_bytes_ - 1) / 4096;
        if (first_page != last_page) ++protocol_errors;  // a burst crossed a 4 KB boundary
    }

    int response(uint64_t addr, int beats) const {
        uint64_t end = addr + uint64_t(beats) * beat_bytes_;
        if (end > mem_.size()) return 3;
        if (t_.fault_lo < t_.fault_hi && addr < t_.fault_hi && t_.fault_lo < end)
            return t_.fault_resp;
        return 0;
    }

    // Write the beats of the oldest write burst as they arrive; queue its response after wlast.
    void absorb_writes() {
        while (!writes_.empty() && !wdata_.empty()) {
            Burst& b = writes_.front();
            WBeat& w = wdata_.front();
            int resp = response(b.addr, b.beats);
            if (resp == 0) {
                uint64_t addr = b.addr + uint64_t(b.done) * beat_bytes_;
                for (int i = 0; i < beat_bytes_; ++i)
                    if (w.strb[i / 8] >> (i % 8) & 1) mem_[addr + i] = w.data[i];
            }
            ++b.done;
            ++write_beats;
            bool last = b.done == b.beats;
            if (last != w.last) ++protocol_errors;
            wdata_.pop_front();
            if (last) {
                if (resp) ++error_responses;
                responses_.push_back({b.id, resp, now_ + t_.write_latency});
                writes_.pop_front();
            }
        }
    }

    AxiPins p_;
    std::vector<uint8_t> mem_;
    AxiTiming t_;
    std::mt19937 rng_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    int beat_bytes_;
    uint64_t now_ = 0;
    double credit_ = 1.0;
    bool ar_fire_ = false, r_fire_ = false, aw_fire_ = false, w_fire_ = false, b_fire_ = false;
    bool r_offered_ = false, b_offered_ = false;
    bool w_waiting_ = false;   // a W beat was offered and not taken at the last edge
    bool write_turn_ = false;  // the last contended beat went to the reads
    std::deque<Burst> reads_, writes_;
    std::deque<WBeat> wdata_;
    std::deque<Response> responses_;
};

}  // namespace dfx
