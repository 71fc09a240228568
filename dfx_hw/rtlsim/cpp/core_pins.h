// The ports of one DFX core as the C++ models see them (filled by the generated dfx_bind()).
#pragma once

#include <cstdint>
#include <vector>

#include "axi_memory.h"
#include "link_model.h"
#include "pins.h"

namespace dfx {

struct AxiLitePins {
    Pin awaddr, awprot, awvalid, awready;
    Pin wdata, wstrb, wvalid, wready;
    Pin bresp, bvalid, bready;
    Pin araddr, arprot, arvalid, arready;
    Pin rdata, rresp, rvalid, rready;
};

// DFXCore's trace port (dfx_hw/core/core.py, TRACE_LAYOUT).
struct TracePins {
    Pin issue, pc, done;
};

struct CorePins {
    uint8_t* clk = nullptr;
    uint8_t* rst = nullptr;
    uint8_t* link_next_clk = nullptr;
    uint8_t* link_next_rst = nullptr;
    uint8_t* link_prev_clk = nullptr;
    uint8_t* link_prev_rst = nullptr;
    uint8_t* running = nullptr;
    uint8_t* done = nullptr;
    AxiLitePins axil;
    std::vector<AxiPins> hbm;
    AxiPins ddr;
    LinkEndPins link_next, link_prev;
    TracePins trace;
};

}  // namespace dfx
