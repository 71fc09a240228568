// Access to a Verilated model's ports by pointer and width, so the memory and link models can be
// bound to any port the generated bindings name (Verilator stores a port of <= 8 bits as
// uint8_t, <= 16 as uint16_t, <= 32 as uint32_t, <= 64 as uint64_t, wider as an array of
// uint32_t words, least significant first).
#pragma once

#include <cstdint>
#include <cstring>

namespace dfx {

struct Pin {
    void* ptr = nullptr;
    int bits = 0;

    bool bound() const { return ptr != nullptr; }

    uint64_t get() const {
        if (!ptr) return 0;
        if (bits <= 8) return *static_cast<uint8_t*>(ptr);
        if (bits <= 16) return *static_cast<uint16_t*>(ptr);
        if (bits <= 32) return *static_cast<uint32_t*>(ptr);
        if (bits <= 64) return *static_cast<uint64_t*>(ptr);
        const uint32_t* w = static_cast<uint32_t*>(ptr);
        return uint64_t(w[0]) | (uint64_t(w[1]) << 32);
    }

    void set(uint64_t value) const {
        if (!ptr) return;
        if (bits < 64) value &= (uint64_t(1) << bits) - 1;
        if (bits <= 8) *static_cast<uint8_t*>(ptr) = uint8_t(value);
        else if (bits <= 16) *static_cast<uint16_t*>(ptr) = uint16_t(value);
        else if (bits <= 32) *static_cast<uint32_t*>(ptr) = uint32_t(value);
        else if (bits <= 64) *static_cast<uint64_t*>(ptr) = value;
        else {
            uint32_t* w = static_cast<uint32_t*>(ptr);
            std::memset(w, 0, words() * 4);
            w[0] = uint32_t(value);
            w[1] = uint32_t(value >> 32);
        }
    }

    int bytes() const { return (bits + 7) / 8; }
    int words() const { return (bits + 31) / 32; }

    // Little-endian byte image of the port (bytes() bytes).
    void get_bytes(uint8_t* out) const {
        if (bits > 64) {
            std::memcpy(out, ptr, bytes());
        } else {
            uint64_t v = get();
            for (int i = 0; i < bytes(); ++i) out[i] = uint8_t(v >> (8 * i));
        }
    }

    void set_bytes(const uint8_t* in) const {
        if (bits > 64) {
            uint32_t* w = static_cast<uint32_t*>(ptr);
            std::memset(w, 0, words() * 4);
            std::memcpy(w, in, bytes());
        } else {
            uint64_t v = 0;
            for (int i = 0; i < bytes(); ++i) v |= uint64_t(in[i]) << (8 * i);
            set(v);
        }
    }
};

}  // namespace dfx
