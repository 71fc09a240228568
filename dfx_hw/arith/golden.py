"""Bit-level Python golden models of the FP16 adder and multiplier algorithms.

These follow the gateware step by step, on Python integers (same widths, same alignment window,
same guard and sticky bits, same leading-zero limit, same packing with carry into the exponent).
They exist so the *algorithm* can be checked against ``numpy.float16`` with Hypothesis far
faster than the RTL can be simulated; the RTL is then checked against numpy directly.
"""

from .format import BIAS, EXP_MAX, FRAC_BITS, INF, MAG_MASK, QNAN, SIG_BITS, SIGN_BIT

__all__ = ["add_bits", "mul_bits"]

_ALIGN_EXTRA = 3                            # guard, round, sticky below the significand
_ALIGN_BITS = SIG_BITS + _ALIGN_EXTRA       # 14
_ALIGN_CLAMP = _ALIGN_BITS + 1              # 15
_PRODUCT_BITS = 2 * SIG_BITS                # 22
_SHIFT_CLAMP = SIG_BITS + 1                 # 12


def _fields(value):
    exp = (value >> FRAC_BITS) & EXP_MAX
    frac = value & ((1 << FRAC_BITS) - 1)
    return (value >> SIGN_BIT, exp, frac, frac | ((exp != 0) << FRAC_BITS), max(exp, 1))


def _is_nan(value):
    return (value & MAG_MASK) > INF


def _is_inf(value):
    return (value & MAG_MASK) == INF


def _leading_zeros(value, width):
    return width - value.bit_length()


def _round_pack(frac, exp_field, guard, sticky, overflow):
    """Round to nearest even and pack; the carry runs from the fraction into the exponent."""
    if overflow:
        return INF
    packed = (exp_field << FRAC_BITS) | frac
    return packed + (guard & (sticky | (frac & 1)))


def add_bits(a, b, subtract=False):
    """``a + b`` (``a - b`` when ``subtract``) on 16-bit patterns, as :class:`FP16Adder` does."""
    b ^= int(bool(subtract)) << SIGN_BIT
    sign_a, _, _, sig_a, exp_a = _fields(a)
    sign_b, _, _, sig_b, exp_b = _fields(b)
    # Stage 0: larger magnitude first; exponent difference; flags.
    if (b & MAG_MASK) > (a & MAG_MASK):
        (sign_x, sig_x, exp_x), (sign_y, sig_y, exp_y) = (sign_b, sig_b, exp_b), \
            (sign_a, sig_a, exp_a)
    else:
        (sign_x, sig_x, exp_x), (sign_y, sig_y, exp_y) = (sign_a, sig_a, exp_a), \
            (sign_b, sig_b, exp_b)
    diff = min(exp_x - exp_y, _ALIGN_CLAMP)
    sub = sign_a ^ sign_b
    nan = _is_nan(a) or _is_nan(b) or (_is_inf(a) and _is_inf(b) and sub)
    if nan:
        return QNAN
    if _is_inf(a) or _is_inf(b):
        return (sign_x << SIGN_BIT) | INF
    # Stage 1: align y in a window of SIG_BITS + 3 bits; shifted-out bits OR into the LSB.
    wide = (sig_y << (_ALIGN_CLAMP + 1)) >> diff
    low = _ALIGN_CLAMP + 1 + SIG_BITS - _ALIGN_BITS
    y = (wide >> low) | int(wide & ((1 << low) - 1) != 0)
    x = sig_x << _ALIGN_EXTRA
    # Stage 2: add or subtract (x >= y).
    total = x - y if sub else x + y                         # 15 bits
    if total == 0:
        return (sign_a & sign_b) << SIGN_BIT
    # Stage 3: normalising left shift, at most exp_x (then the result is subnormal).
    lz = _leading_zeros(total, _ALIGN_BITS + 1)
    normal = lz <= exp_x
    amount = lz if normal else exp_x
    # Stage 4: shift; hidden bit at bit 14; exponent field.
    shifted = (total << amount) & ((1 << (_ALIGN_BITS + 1)) - 1)
    field = exp_x + 1 - amount if normal else 0
    frac = (shifted >> (_ALIGN_EXTRA + 1)) & ((1 << FRAC_BITS) - 1)
    guard = (shifted >> _ALIGN_EXTRA) & 1
    sticky = int(shifted & ((1 << _ALIGN_EXTRA) - 1) != 0)
    # Stage 5: round, pack.
    return (sign_x << SIGN_BIT) | _round_pack(frac, field, guard, sticky, field >= EXP_MAX)


def mul_bits(a, b):
    """``a * b`` on 16-bit patterns, as :class:`FP16Multiplier` does."""
    sign_a, _, _, sig_a, exp_a = _fields(a)
    sign_b, _, _, sig_b, exp_b = _fields(b)
    sign = sign_a ^ sign_b
    zero_a, zero_b = (a & MAG_MASK) == 0, (b & MAG_MASK) == 0
    if _is_nan(a) or _is_nan(b) or (_is_inf(a) and zero_b) or (zero_a and _is_inf(b)):
        return QNAN
    if _is_inf(a) or _is_inf(b):
        return (sign << SIGN_BIT) | INF
    if zero_a or zero_b:
        return sign << SIGN_BIT
    # Stage 0: normalise the significands (hidden bit at bit 10).
    lz_a, lz_b = _leading_zeros(sig_a, SIG_BITS), _leading_zeros(sig_b, SIG_BITS)
    sig_a, sig_b = sig_a << lz_a, sig_b << lz_b
    net = (exp_a + exp_b) - (lz_a + lz_b)
    # Stage 1: product in [2**20, 2**22); biased exponent net - 15 (+1 if bit 21 is set).
    product = sig_a * sig_b
    msb = product >> (_PRODUCT_BITS - 1)
    exp = net - BIAS + msb
    shift = 0 if exp >= 1 else min(1 - exp, _SHIFT_CLAMP)
    # Stage 2: one right shift: the top bit goes to bit 33 of the window, minus the
    # denormalising shift.
    window = product << (_SHIFT_CLAMP + 1)
    shifted = window >> (shift + msb)
    low = _PRODUCT_BITS + _SHIFT_CLAMP - SIG_BITS
    frac = (shifted >> low) & ((1 << FRAC_BITS) - 1)
    guard = (shifted >> (low - 1)) & 1
    sticky = int(shifted & ((1 << (low - 1)) - 1) != 0)
    field = exp if exp >= 1 else 0
    # Stage 3: round, pack.
    return (sign << SIGN_BIT) | _round_pack(frac, field & EXP_MAX, guard, sticky,
                                            exp >= EXP_MAX)
