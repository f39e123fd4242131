package dev.dmalab.util;

/**
 * The kernel's integer helpers, on 64-bit values read as <em>unsigned</em> ({@code u64}, {@code dma_addr_t},
 * {@code phys_addr_t}).
 *
 * <p>Java has no unsigned {@code long}; every comparison of addresses or masks in dmalab goes through {@link
 * #ule}/{@link #ult} so that {@code 0xffff_ffff_ffff_ffff} (all ones, {@code DMA_MAPPING_ERROR}) compares as the
 * largest value, as in C.
 */
public final class Bits {
    /** {@code U64_MAX}: all ones. Also {@code DMA_MAPPING_ERROR} from Linux 5.0. */
    public static final long U64_MAX = -1L;

    public static final long KIB = 1024L;
    public static final long MIB = 1024L * KIB;
    public static final long GIB = 1024L * MIB;

    private Bits() {}

    /** {@code DMA_BIT_MASK(n)}: all ones for n == 64, else {@code (1 << n) - 1}. */
    public static long dmaBitMask(int n) {
        if (n < 0 || n > 64) {
            throw new IllegalArgumentException("DMA_BIT_MASK width out of range: " + n);
        }
        return n == 64 ? U64_MAX : (1L << n) - 1;
    }

    /** {@code fls64(x)}: 1-based index of the most significant set bit, 0 for x == 0. */
    public static int fls64(long x) {
        return 64 - Long.numberOfLeadingZeros(x);
    }

    /** {@code ilog2(x)} for x > 0 (unsigned). */
    public static int ilog2(long x) {
        if (x == 0) {
            throw new IllegalArgumentException("ilog2(0)");
        }
        return 63 - Long.numberOfLeadingZeros(x);
    }

    /** The width in bits of an all-ones mask ({@code 0xffffffff} gives 32), or -1 if {@code mask} is not of that form. */
    public static int maskWidth(long mask) {
        if (mask == U64_MAX) {
            return 64;
        }
        if ((mask & (mask + 1)) != 0) {
            return -1;
        }
        return fls64(mask);
    }

    /** The smallest all-ones mask covering {@code x}: {@code (1 << (fls64(x) - 1)) * 2 - 1}, all ones at the top. */
    public static long maskCovering(long x) {
        int width = fls64(x);
        return width == 0 ? 0 : dmaBitMask(width);
    }

    public static boolean isPowerOfTwo(long x) {
        return x != 0 && (x & (x - 1)) == 0;
    }

    /** {@code roundup_pow_of_two(x)} for unsigned x >= 1; x must not exceed 2^63. */
    public static long roundUpPowerOfTwo(long x) {
        if (x == 0 || Long.compareUnsigned(x, 1L << 63) > 0) {
            throw new IllegalArgumentException("roundup_pow_of_two out of range: " + Long.toUnsignedString(x));
        }
        return x == 1 ? 1 : Long.highestOneBit(x - 1) << 1;
    }

    /** {@code ALIGN(x, a)}: round x up to a multiple of the power of two a. */
    public static long alignUp(long x, long a) {
        assert isPowerOfTwo(a) : a;
        return (x + a - 1) & -a;
    }

    /** {@code ALIGN_DOWN(x, a)} for a power of two a. */
    public static long alignDown(long x, long a) {
        assert isPowerOfTwo(a) : a;
        return x & -a;
    }

    /** {@code DIV_ROUND_UP(n, d)} for non-negative values. */
    public static long divRoundUp(long n, long d) {
        return (n + d - 1) / d;
    }

    /** {@code roundup(x, y)}: x rounded up to a multiple of y (y need not be a power of two). */
    public static long roundUp(long x, long y) {
        return divRoundUp(x, y) * y;
    }

    /** {@code get_order(size)} for a page size of {@code 1 << pageShift}: smallest order with 2^order pages >= size. */
    public static int getOrder(long size, int pageShift) {
        if (size <= 0) {
            throw new IllegalArgumentException("get_order of non-positive size " + size);
        }
        long pages = (size - 1) >>> pageShift;
        return fls64(pages);
    }

    /** {@code min_not_zero(a, b)}: the smaller of a and b (unsigned), treating 0 as absent. */
    public static long minNotZero(long a, long b) {
        if (a == 0) {
            return b;
        }
        if (b == 0) {
            return a;
        }
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    /** Unsigned {@code a <= b}. */
    public static boolean ule(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0;
    }

    /** Unsigned {@code a < b}. */
    public static boolean ult(long a, long b) {
        return Long.compareUnsigned(a, b) < 0;
    }

    /** Unsigned minimum. */
    public static long umin(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    /** Unsigned maximum. */
    public static long umax(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** Lower-case hex without prefix, as {@code %llx} prints it. */
    public static String hex(long x) {
        return Long.toHexString(x);
    }

    /** {@code 0x}-prefixed lower-case hex. */
    public static String hex0x(long x) {
        return "0x" + Long.toHexString(x);
    }

    /** {@code 0x}-prefixed hex padded to 16 digits, as the kernel's {@code %016llx}. */
    public static String hex16(long x) {
        String h = Long.toHexString(x);
        return "0x" + "0".repeat(16 - h.length()) + h;
    }

    /** Adds two non-negative values, failing loudly on overflow rather than wrapping. */
    public static long checkedAdd(long a, long b) {
        return Math.addExact(a, b);
    }

    /** Parses a number written in decimal, {@code 0x} hex, or with a K/M/G binary suffix ({@code 64M}). */
    public static long parseSize(String text) {
        String t = text.trim().replace("_", "");
        if (t.isEmpty()) {
            throw new NumberFormatException("empty number");
        }
        long multiplier = 1;
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        if (!t.startsWith("0x") && !t.startsWith("0X")) {
            switch (last) {
                case 'K' -> multiplier = KIB;
                case 'M' -> multiplier = MIB;
                case 'G' -> multiplier = GIB;
                case 'T' -> multiplier = 1024 * GIB;
                default -> multiplier = 1;
            }
            if (multiplier != 1) {
                t = t.substring(0, t.length() - 1);
                if (t.endsWith("i") || t.endsWith("I")) {
                    throw new NumberFormatException("use K/M/G (binary units), not KiB/MiB/GiB: " + text);
                }
            }
        }
        long value = parseUnsigned(t);
        return Math.multiplyExact(value, multiplier);
    }

    /** Parses decimal or {@code 0x} hex as an unsigned 64-bit value. */
    public static long parseUnsigned(String text) {
        String t = text.trim().replace("_", "");
        if (t.startsWith("0x") || t.startsWith("0X")) {
            String digits = t.substring(2);
            if (digits.isEmpty() || digits.length() > 16) {
                throw new NumberFormatException("bad hex number: " + text);
            }
            return Long.parseUnsignedLong(digits, 16);
        }
        return Long.parseUnsignedLong(t);
    }
}
