package dev.dmalab.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The kernel's bit helpers on unsigned 64-bit values, where all ones is the largest number. */
class BitsTest {
    static final long ALL_ONES = Bits.U64_MAX;
    static final long TOP_BIT = 1L << 63;

    @Test
    void unsignedComparisonsPutAllOnesAtTheTop() {
        assertThat(Bits.ult(0, ALL_ONES)).isTrue();
        assertThat(Bits.ult(Long.MAX_VALUE, ALL_ONES)).isTrue();
        assertThat(Bits.ult(Long.MAX_VALUE, TOP_BIT)).isTrue();
        assertThat(Bits.ult(ALL_ONES, 0)).isFalse();
        assertThat(Bits.ult(ALL_ONES, ALL_ONES)).isFalse();
        assertThat(Bits.ule(ALL_ONES, ALL_ONES)).isTrue();
        assertThat(Bits.ule(ALL_ONES, 0xffff_ffffL)).isFalse();
        assertThat(Bits.ule(0xffff_ffffL, ALL_ONES)).isTrue();
        assertThat(Bits.umin(ALL_ONES, 5)).isEqualTo(5);
        assertThat(Bits.umin(5, ALL_ONES)).isEqualTo(5);
        assertThat(Bits.umax(ALL_ONES, 5)).isEqualTo(ALL_ONES);
        assertThat(Bits.umax(TOP_BIT, Long.MAX_VALUE)).isEqualTo(TOP_BIT);
    }

    @Test
    void dmaBitMask() {
        assertThat(Bits.dmaBitMask(0)).isZero();
        assertThat(Bits.dmaBitMask(1)).isEqualTo(1);
        assertThat(Bits.dmaBitMask(24)).isEqualTo(0xff_ffffL);
        assertThat(Bits.dmaBitMask(32)).isEqualTo(0xffff_ffffL);
        assertThat(Bits.dmaBitMask(63)).isEqualTo(Long.MAX_VALUE);
        assertThat(Bits.dmaBitMask(64)).isEqualTo(ALL_ONES);
        assertThatThrownBy(() -> Bits.dmaBitMask(65)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Bits.dmaBitMask(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fls64AndIlog2() {
        assertThat(Bits.fls64(0)).isZero();
        assertThat(Bits.fls64(1)).isEqualTo(1);
        assertThat(Bits.fls64(0x8000_0000L)).isEqualTo(32);
        assertThat(Bits.fls64(0xffff_ffffL)).isEqualTo(32);
        assertThat(Bits.fls64(TOP_BIT)).isEqualTo(64);
        assertThat(Bits.fls64(ALL_ONES)).isEqualTo(64);
        assertThat(Bits.ilog2(1)).isZero();
        assertThat(Bits.ilog2(4096)).isEqualTo(12);
        assertThat(Bits.ilog2(4097)).isEqualTo(12);
        assertThat(Bits.ilog2(ALL_ONES)).isEqualTo(63);
        assertThatThrownBy(() -> Bits.ilog2(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void masks() {
        assertThat(Bits.maskCovering(0)).isZero();
        assertThat(Bits.maskCovering(1)).isEqualTo(1);
        assertThat(Bits.maskCovering(0x1000)).isEqualTo(0x1fff);
        assertThat(Bits.maskCovering(0x7fff_ffffL)).isEqualTo(0x7fff_ffffL);
        assertThat(Bits.maskCovering(0x8000_0000L)).isEqualTo(0xffff_ffffL);
        assertThat(Bits.maskCovering(TOP_BIT)).isEqualTo(ALL_ONES);
        assertThat(Bits.maskCovering(ALL_ONES)).isEqualTo(ALL_ONES);
        assertThat(Bits.maskWidth(0xffff_ffffL)).isEqualTo(32);
        assertThat(Bits.maskWidth(ALL_ONES)).isEqualTo(64);
        assertThat(Bits.maskWidth(0)).isZero();
        assertThat(Bits.maskWidth(0xffff_fffeL)).isEqualTo(-1);
        assertThat(Bits.maskWidth(0x1_0000_0000L)).isEqualTo(-1);
    }

    @Test
    void powersOfTwoAndRounding() {
        assertThat(Bits.isPowerOfTwo(0)).isFalse();
        assertThat(Bits.isPowerOfTwo(1)).isTrue();
        assertThat(Bits.isPowerOfTwo(3072)).isFalse();
        assertThat(Bits.isPowerOfTwo(TOP_BIT)).isTrue();
        assertThat(Bits.isPowerOfTwo(ALL_ONES)).isFalse();
        assertThat(Bits.roundUpPowerOfTwo(1)).isEqualTo(1);
        assertThat(Bits.roundUpPowerOfTwo(2)).isEqualTo(2);
        assertThat(Bits.roundUpPowerOfTwo(3)).isEqualTo(4);
        assertThat(Bits.roundUpPowerOfTwo(3000)).isEqualTo(4096);
        assertThat(Bits.roundUpPowerOfTwo(3072)).isEqualTo(4096);
        assertThat(Bits.roundUpPowerOfTwo(32768)).isEqualTo(32768);
        assertThat(Bits.roundUpPowerOfTwo((1L << 62) + 1)).isEqualTo(TOP_BIT);
        assertThat(Bits.roundUpPowerOfTwo(TOP_BIT)).isEqualTo(TOP_BIT);
        assertThatThrownBy(() -> Bits.roundUpPowerOfTwo(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Bits.roundUpPowerOfTwo(TOP_BIT + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("9223372036854775809");
        assertThat(Bits.alignUp(3000, 128)).isEqualTo(3072);
        assertThat(Bits.alignUp(3072, 128)).isEqualTo(3072);
        assertThat(Bits.alignUp(0, 4096)).isZero();
        assertThat(Bits.alignDown(0x7fff_5000L, 0x1_0000)).isEqualTo(0x7fff_0000L);
        assertThat(Bits.divRoundUp(2L << 30, 1024)).isEqualTo(2L << 20);
        assertThat(Bits.divRoundUp(1, 1024)).isEqualTo(1);
        assertThat(Bits.divRoundUp(0, 1024)).isZero();
        assertThat(Bits.roundUp(0xfff, 2048)).isEqualTo(4096);
        assertThat(Bits.roundUp(10, 3)).isEqualTo(12);
    }

    @Test
    void minNotZeroTreatsZeroAsAbsentAndComparesUnsigned() {
        assertThat(Bits.minNotZero(0, 5)).isEqualTo(5);
        assertThat(Bits.minNotZero(5, 0)).isEqualTo(5);
        assertThat(Bits.minNotZero(0, 0)).isZero();
        assertThat(Bits.minNotZero(ALL_ONES, 0xffff_ffffL)).isEqualTo(0xffff_ffffL);
        assertThat(Bits.minNotZero(3, ALL_ONES)).isEqualTo(3);
        assertThat(Bits.minNotZero(TOP_BIT, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void getOrder() {
        assertThat(Bits.getOrder(1, 12)).isZero();
        assertThat(Bits.getOrder(4096, 12)).isZero();
        assertThat(Bits.getOrder(4097, 12)).isEqualTo(1);
        assertThat(Bits.getOrder(8192, 12)).isEqualTo(1);
        assertThat(Bits.getOrder(8193, 12)).isEqualTo(2);
        assertThat(Bits.getOrder(1L << 20, 12)).isEqualTo(8);
        assertThat(Bits.getOrder(65536, 16)).isZero();
        assertThat(Bits.getOrder(1L << 40, 12)).isEqualTo(28);
        assertThat(Bits.getOrder(Long.MAX_VALUE, 12)).isEqualTo(51);
        assertThatThrownBy(() -> Bits.getOrder(0, 12)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hexFormats() {
        assertThat(Bits.hex(0xffff_ffffL)).isEqualTo("ffffffff");
        assertThat(Bits.hex(ALL_ONES)).isEqualTo("ffffffffffffffff");
        assertThat(Bits.hex0x(0x7d70_0000L)).isEqualTo("0x7d700000");
        assertThat(Bits.hex16(0x7d70_0000L)).isEqualTo("0x000000007d700000");
        assertThat(Bits.hex16(0)).isEqualTo("0x0000000000000000");
        assertThat(Bits.hex16(ALL_ONES)).isEqualTo("0xffffffffffffffff");
    }

    @Test
    void checkedAddFailsLoudly() {
        assertThat(Bits.checkedAdd(1, 2)).isEqualTo(3);
        assertThatThrownBy(() -> Bits.checkedAdd(Long.MAX_VALUE, 1)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void parseSizeReadsDecimalHexAndBinarySuffixes() {
        assertThat(Bits.parseSize("4096")).isEqualTo(4096);
        assertThat(Bits.parseSize(" 0x1000 ")).isEqualTo(4096);
        assertThat(Bits.parseSize("0XFFFF_FFFF")).isEqualTo(0xffff_ffffL);
        assertThat(Bits.parseSize("64M")).isEqualTo(64L << 20);
        assertThat(Bits.parseSize("4k")).isEqualTo(4096);
        assertThat(Bits.parseSize("2G")).isEqualTo(2L << 30);
        assertThat(Bits.parseSize("1T")).isEqualTo(1L << 40);
        assertThat(Bits.parseSize("1_000")).isEqualTo(1000);
        assertThat(Bits.parseSize("18446744073709551615")).isEqualTo(ALL_ONES);
        assertThat(Bits.parseSize("0xffffffffffffffff")).isEqualTo(ALL_ONES);
    }

    @Test
    void parseSizeErrors() {
        for (String bad : new String[] {"", "   ", "abc", "64MiB", "1.5M", "-1", "0x", "0x10000000000000000", "0xg"}) {
            assertThatThrownBy(() -> Bits.parseSize(bad)).as("'%s'", bad).isInstanceOf(NumberFormatException.class);
        }
        assertThatThrownBy(() -> Bits.parseSize("4iK"))
                .isInstanceOf(NumberFormatException.class)
                .hasMessageContaining("binary units");
        // A suffix on a hex number is not a suffix: "0x10M" is not a number.
        assertThatThrownBy(() -> Bits.parseSize("0x10M")).isInstanceOf(NumberFormatException.class);
        // Overflow of the multiplied value is an arithmetic error (callers report both kinds).
        assertThatThrownBy(() -> Bits.parseSize("16777216T")).isInstanceOf(ArithmeticException.class);
        assertThat(Bits.parseUnsigned("0x7d700000")).isEqualTo(0x7d70_0000L);
        assertThatThrownBy(() -> Bits.parseUnsigned("18446744073709551616")).isInstanceOf(NumberFormatException.class);
    }
}
