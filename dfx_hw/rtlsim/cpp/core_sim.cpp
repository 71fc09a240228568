// Whole-core simulation of DFX in Verilator: N cores in a ring, each with its HBM ports, DDR
// port and register port driven by C++ models, behind a C API that sim/core_sim.py loads with
// ctypes.
//
// Clocks: the core clock (period `core_ps`) and the link user clock (period `link_ps`, both link
// domains of every core). Each model is sampled before the rising edge of its clock and updated
// after it. The host reaches a core's register map through an AXI4-Lite master that steps the
// whole system while it waits for a response (as a real host's register access takes time).
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "verilated.h"
#include "core_pins.h"
#include "dfx_bindings.h"   // generated: DFX_TOP, DFX_HBM_PORTS, dfx_bind(...)

using namespace dfx;

namespace {

struct Core {
    std::unique_ptr<DFX_TOP> top;
    CorePins pins;
    std::vector<std::unique_ptr<AxiMemory>> hbm;
    std::unique_ptr<AxiMemory> ddr;
    // Trace-port events (when `tracing`): clock << 24 | done << 20 | issue << 16 | pc.
    bool tracing = false;
    std::vector<uint64_t> trace;
};

struct Sim {
    std::unique_ptr<VerilatedContext> context;
    std::vector<Core> cores;
    std::vector<std::unique_ptr<LinkDirection>> links;   // 2 per ring link: forward, backward
    uint64_t core_ps = 5000, link_ps = 2560;
    uint64_t next_core = 0, next_link = 0;               // time of the next rising edges
    uint64_t clocks = 0;                                 // core clocks since reset
    bool failed = false;
};

void eval_all(Sim& s) {
    for (auto& c : s.cores) c.top->eval();
}

// Advance to the next rising edge of the core clock, taking any link-clock edges on the way.
void step(Sim& s) {
    for (;;) {
        bool core_edge = s.next_core <= s.next_link;
        uint64_t t = core_edge ? s.next_core : s.next_link;
        // Falling edges half a period before: bring the clock low, let outputs settle.
        for (auto& c : s.cores) {
            if (core_edge) *c.pins.clk = 0;
            else { *c.pins.link_next_clk = 0; *c.pins.link_prev_clk = 0; }
        }
        eval_all(s);
        if (core_edge) {
            for (auto& c : s.cores) {
                for (auto& m : c.hbm) m->sample();
                c.ddr->sample();
            }
        } else {
            for (auto& l : s.links) l->sample();
        }
        for (auto& c : s.cores) {
            if (core_edge) *c.pins.clk = 1;
            else { *c.pins.link_next_clk = 1; *c.pins.link_prev_clk = 1; }
        }
        s.context->time(t);
        eval_all(s);
        if (core_edge) {
            for (auto& c : s.cores) {
                for (auto& m : c.hbm) m->update();
                c.ddr->update();
                if (c.tracing) {
                    uint64_t issue = c.pins.trace.issue.get(), done = c.pins.trace.done.get();
                    if (issue || done)
                        c.trace.push_back(s.clocks << 24 | done << 20 | issue << 16 |
                                          c.pins.trace.pc.get());
                }
            }
            s.next_core += s.core_ps;
            ++s.clocks;
            return;
        }
        for (auto& l : s.links) l->update();
        s.next_link += s.link_ps;
    }
}

void reset(Sim& s) {
    for (auto& c : s.cores) {
        *c.pins.rst = 1;
        *c.pins.link_next_rst = 1;
        *c.pins.link_prev_rst = 1;
    }
    for (int i = 0; i < 8; ++i) step(s);
    for (auto& c : s.cores) {
        *c.pins.rst = 0;
        *c.pins.link_next_rst = 0;
        *c.pins.link_prev_rst = 0;
    }
    step(s);
    s.clocks = 0;
}

const uint64_t kRegisterTimeout = 100000;

// AXI4-Lite write; returns BRESP, or -1 on a timeout.
int reg_write(Sim& s, int core, uint32_t addr, uint32_t data) {
    AxiLitePins& p = s.cores[core].pins.axil;
    p.awaddr.set(addr); p.awprot.set(0); p.awvalid.set(1);
    p.wdata.set(data); p.wstrb.set(0xF); p.wvalid.set(1);
    p.bready.set(1);
    bool aw = false, w = false;
    for (uint64_t i = 0; i < kRegisterTimeout; ++i) {
        s.cores[core].top->eval();
        bool aw_fire = !aw && p.awvalid.get() && p.awready.get();
        bool w_fire = !w && p.wvalid.get() && p.wready.get();
        bool b_fire = p.bvalid.get() && p.bready.get();
        int resp = int(p.bresp.get());
        step(s);
        if (aw_fire) { aw = true; p.awvalid.set(0); }
        if (w_fire) { w = true; p.wvalid.set(0); }
        if (b_fire) { p.bready.set(0); return resp; }
    }
    p.awvalid.set(0); p.wvalid.set(0); p.bready.set(0);
    return -1;
}

// AXI4-Lite read; returns RRESP (or -1 on a timeout) and the data in *data.
int reg_read(Sim& s, int core, uint32_t addr, uint32_t* data) {
    AxiLitePins& p = s.cores[core].pins.axil;
    p.araddr.set(addr); p.arprot.set(0); p.arvalid.set(1); p.rready.set(1);
    for (uint64_t i = 0; i < kRegisterTimeout; ++i) {
        s.cores[core].top->eval();
        bool ar_fire = p.arvalid.get() && p.arready.get();
        bool r_fire = p.rvalid.get() && p.rready.get();
        uint32_t value = uint32_t(p.rdata.get());
        int resp = int(p.rresp.get());
        step(s);
        if (ar_fire) p.arvalid.set(0);
        if (r_fire) { p.rready.set(0); *data = value; return resp; }
    }
    p.arvalid.set(0); p.rready.set(0);
    return -1;
}

AxiMemory* port_of(Sim& s, int core, int port) {
    Core& c = s.cores[core];
    if (port < 0 || port > int(c.hbm.size())) return nullptr;
    return port == int(c.hbm.size()) ? c.ddr.get() : c.hbm[port].get();
}

}  // namespace

extern "C" {

// A ring of `cores` cores, each with `hbm_bytes` per HBM port and `ddr_bytes` of DDR.
void* dfx_create(int cores, uint64_t hbm_bytes, uint64_t ddr_bytes) {
    auto* s = new Sim;
    s->context = std::make_unique<VerilatedContext>();
    s->context->randReset(0);
    for (int i = 0; i < cores; ++i) {
        Core c;
        c.top = std::make_unique<DFX_TOP>(s->context.get(), "dfx_core");
        dfx_bind(c.top.get(), c.pins);
        AxiTiming hbm_timing;
        for (int ch = 0; ch < DFX_HBM_PORTS; ++ch) {
            hbm_timing.seed = 1 + 97 * i + ch;
            c.hbm.push_back(std::make_unique<AxiMemory>(c.pins.hbm[ch], hbm_bytes, hbm_timing));
        }
        AxiTiming ddr_timing;
        ddr_timing.read_latency = 100;
        ddr_timing.write_latency = 40;
        ddr_timing.seed = 7 + i;
        c.ddr = std::make_unique<AxiMemory>(c.pins.ddr, ddr_bytes, ddr_timing);
        s->cores.push_back(std::move(c));
    }
    // Core i's link_next <-> core i+1's link_prev (a ring; one core loops to itself).
    for (int i = 0; i < cores; ++i) {
        Core& a = s->cores[i];
        Core& b = s->cores[(i + 1) % cores];
        LinkTiming t;
        t.seed = 1000 + i;
        s->links.push_back(std::make_unique<LinkDirection>(a.pins.link_next, b.pins.link_prev, t));
        t.seed = 2000 + i;
        s->links.push_back(std::make_unique<LinkDirection>(b.pins.link_prev, a.pins.link_next, t));
    }
    reset(*s);
    return s;
}

void dfx_destroy(void* sim) { delete static_cast<Sim*>(sim); }

void dfx_reset(void* sim) { reset(*static_cast<Sim*>(sim)); }

// Timing of one memory port (port == number of HBM ports: the DDR port; core < 0: every core).
void dfx_set_memory_timing(void* sim, int core, int port, int read_latency, int write_latency,
                           double beats_per_clock, double stall, uint32_t seed) {
    Sim& s = *static_cast<Sim*>(sim);
    for (int i = 0; i < int(s.cores.size()); ++i) {
        if (core >= 0 && i != core) continue;
        AxiMemory* m = port_of(s, i, port);
        if (!m) continue;
        AxiTiming t;
        t.read_latency = read_latency;
        t.write_latency = write_latency;
        t.beats_per_clock = beats_per_clock;
        t.stall = stall;
        t.seed = seed + 31 * i;
        m->set_timing(t);
    }
}

// Answer `resp` (2 SLVERR, 3 DECERR) to any access touching [lo, hi) of a port.
void dfx_set_fault(void* sim, int core, int port, uint64_t lo, uint64_t hi, int resp) {
    Sim& s = *static_cast<Sim*>(sim);
    AxiMemory* m = port_of(s, core, port);
    if (!m) return;
    AxiTiming t = m->timing();
    t.fault_lo = lo;
    t.fault_hi = hi;
    t.fault_resp = resp;
    m->set_timing(t);
}

void dfx_set_link_timing(void* sim, int latency, double beats_per_clock, double idle,
                         uint64_t up_delay) {
    Sim& s = *static_cast<Sim*>(sim);
    for (size_t i = 0; i < s.links.size(); ++i) {
        LinkTiming t;
        t.latency = latency;
        t.beats_per_clock = beats_per_clock;
        t.idle = idle;
        t.up_delay = up_delay;
        t.seed = 3000 + uint32_t(i);
        s.links[i]->set_timing(t);
    }
}

// Take down the link from core `core` to core `core + 1` (both directions).
void dfx_drop_link(void* sim, int core) {
    Sim& s = *static_cast<Sim*>(sim);
    s.links[2 * core]->drop();
    s.links[2 * core + 1]->drop();
}

int dfx_mem_write(void* sim, int core, int port, uint64_t offset, const uint8_t* data,
                  uint64_t length) {
    AxiMemory* m = port_of(*static_cast<Sim*>(sim), core, port);
    if (!m || offset + length > m->memory().size()) return -1;
    std::memcpy(m->memory().data() + offset, data, length);
    return 0;
}

int dfx_mem_read(void* sim, int core, int port, uint64_t offset, uint8_t* data,
                 uint64_t length) {
    AxiMemory* m = port_of(*static_cast<Sim*>(sim), core, port);
    if (!m || offset + length > m->memory().size()) return -1;
    std::memcpy(data, m->memory().data() + offset, length);
    return 0;
}

int dfx_reg_write(void* sim, int core, uint32_t addr, uint32_t data) {
    return reg_write(*static_cast<Sim*>(sim), core, addr, data);
}

int dfx_reg_read(void* sim, int core, uint32_t addr, uint32_t* data) {
    return reg_read(*static_cast<Sim*>(sim), core, addr, data);
}

// Run up to `clocks` core clocks; stop early once no core is running (after `min_clocks`).
// Returns the clocks run.
uint64_t dfx_run(void* sim, uint64_t clocks, uint64_t min_clocks) {
    Sim& s = *static_cast<Sim*>(sim);
    for (uint64_t i = 0; i < clocks; ++i) {
        if (i >= min_clocks) {
            bool any = false;
            for (auto& c : s.cores) any |= *c.pins.running != 0;
            if (!any) return i;
        }
        step(s);
    }
    return clocks;
}

uint64_t dfx_clocks(void* sim) { return static_cast<Sim*>(sim)->clocks; }

// Start (on != 0) or stop recording core `core`'s trace port; starting drops what was recorded.
void dfx_trace(void* sim, int core, int on) {
    Core& c = static_cast<Sim*>(sim)->cores[core];
    c.tracing = on != 0;
    if (c.tracing) c.trace.clear();
}

// Copy up to `max` recorded trace events of core `core` (oldest first) to `out` and drop them;
// returns how many were copied.
uint64_t dfx_trace_take(void* sim, int core, uint64_t* out, uint64_t max) {
    std::vector<uint64_t>& t = static_cast<Sim*>(sim)->cores[core].trace;
    uint64_t n = t.size() < max ? t.size() : max;
    std::memcpy(out, t.data(), n * sizeof(uint64_t));
    t.erase(t.begin(), t.begin() + n);
    return n;
}

// Statistics of a memory port: read beats, write beats, protocol errors, error responses.
void dfx_memory_stats(void* sim, int core, int port, uint64_t* out) {
    AxiMemory* m = port_of(*static_cast<Sim*>(sim), core, port);
    if (!m) return;
    out[0] = m->read_beats;
    out[1] = m->write_beats;
    out[2] = m->protocol_errors;
    out[3] = m->error_responses;
}

}  // extern "C"
