"""The matrix processing unit (MPU): matrix operand collector, MFU, accumulator and SFU_M.

See ``docs/mpu.md`` and DESIGN.md, section 4.
"""
