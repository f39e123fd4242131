package dev.dmalab.swiotlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.kernel.KernelVersion;
import org.junit.jupiter.api.Test;

/**
 * {@code swiotlb=} as {@code setup_io_tlb_npages()} parses it: 6.x reads {@code <nslabs>[,<nareas>][,force|noforce]},
 * 5.x {@code <nslabs>[,force|noforce]}; the number is {@code simple_strtoul(s, &end, 0)} (decimal, 0x hex, leading-0
 * octal) rounded up to a multiple of 128; the keyword must be the whole rest of the string ({@code strcmp}).
 */
class SwiotlbParamsTest {
    static final KernelVersion V612 = KernelVersion.V6_12;
    static final KernelVersion V50 = KernelVersion.V5_0;

    @Test
    void sixTwelveReadsSlotsAreasAndTheKeyword() {
        assertThat(SwiotlbParams.parse("3000,force", V612)).isEqualTo(new SwiotlbParams(3072, -1, true, false));
        assertThat(SwiotlbParams.parse("16384,2,force", V612)).isEqualTo(new SwiotlbParams(16384, 2, true, false));
        assertThat(SwiotlbParams.parse("4096,4", V612)).isEqualTo(new SwiotlbParams(4096, 4, false, false));
        assertThat(SwiotlbParams.parse("512,1,noforce", V612)).isEqualTo(new SwiotlbParams(512, 1, false, true));
        assertThat(SwiotlbParams.parse("force", V612)).isEqualTo(new SwiotlbParams(-1, -1, true, false));
        assertThat(SwiotlbParams.parse("noforce", V612)).isEqualTo(new SwiotlbParams(-1, -1, false, true));
        // ALIGN(n, 128): 1 -> 128, 128 -> 128, 129 -> 256.
        assertThat(SwiotlbParams.parse("1", V612).nslabs()).isEqualTo(128);
        assertThat(SwiotlbParams.parse("128", V612).nslabs()).isEqualTo(128);
        assertThat(SwiotlbParams.parse("129", V612).nslabs()).isEqualTo(256);
    }

    @Test
    void fiveZeroHasNoAreaFieldSoAThreeFieldValueLeavesForceOff() {
        // 5.x: after "16384," the rest is "2,force", which is not "force".
        assertThat(SwiotlbParams.parse("16384,2,force", V50)).isEqualTo(new SwiotlbParams(16384, -1, false, false));
        assertThat(SwiotlbParams.parse("16384,force", V50)).isEqualTo(new SwiotlbParams(16384, -1, true, false));
        assertThat(SwiotlbParams.parse("noforce", V50)).isEqualTo(new SwiotlbParams(-1, -1, false, true));
        assertThat(SwiotlbParams.parse("65536", KernelVersion.V4_20).nslabs()).isEqualTo(65536);
        assertThat(SwiotlbParams.parse("3000,force", KernelVersion.V5_4))
                .isEqualTo(new SwiotlbParams(3072, -1, true, false));
    }

    @Test
    void theKeywordMustBeTheWholeRest() {
        assertThat(SwiotlbParams.parse("4096,forced", V612).force()).isFalse();
        assertThat(SwiotlbParams.parse("4096,Force", V612).force()).isFalse();
        assertThat(SwiotlbParams.parse("force,4096", V612).force()).isFalse();
        assertThat(SwiotlbParams.parse("4096,,force", V50).force()).isFalse();
    }

    @Test
    void numbersAreReadAsSimpleStrtoulBaseZero() {
        assertThat(SwiotlbParams.parse("0x1000,force", V612)).isEqualTo(new SwiotlbParams(4096, -1, true, false));
        assertThat(SwiotlbParams.parse("0X800", V612).nslabs()).isEqualTo(2048);
        // A leading 0 means octal: 0200 = 128 slots (decimal 200 would round up to 256).
        assertThat(SwiotlbParams.parse("0200,force", V612)).isEqualTo(new SwiotlbParams(128, -1, true, false));
        assertThat(SwiotlbParams.parse("04000", V50).nslabs()).isEqualTo(2048);
        assertThat(SwiotlbParams.parse("4096,010", V612).nareas()).isEqualTo(8);
        // Digits beyond the radix end the number: "09" reads octal "0" and leaves "9". 5.x ignores the rest (not a
        // keyword); 6.x, seeing a digit where the area count may start, reads it as 9 areas.
        assertThat(SwiotlbParams.parse("09", V50)).isEqualTo(new SwiotlbParams(0, -1, false, false));
        assertThat(SwiotlbParams.parse("09", V612)).isEqualTo(new SwiotlbParams(0, 9, false, false));
        // "0x" without a hex digit is octal "0" followed by "x...".
        assertThat(SwiotlbParams.parse("0x,force", V612)).isEqualTo(new SwiotlbParams(0, -1, false, false));
    }

    @Test
    void emptyOrContradictoryValuesAreRejected() {
        assertThatThrownBy(() -> SwiotlbParams.parse("", V612))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("swiotlb=");
        assertThatThrownBy(() -> new SwiotlbParams(-2, -1, false, false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SwiotlbParams(-1, -2, false, false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SwiotlbParams(0, 0, true, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("force and noforce");
    }

    @Test
    void anExplicitZeroIsKeptApartFromAMissingValue() {
        // 6.x stores an explicit "0" (default_nslabs = 0, later raised per area); 5.x treats 0 as "use the default"
        // at init time, so the parse keeps 0 and the boot decides. An explicit 0 areas becomes 1 area at boot.
        assertThat(SwiotlbParams.parse("0,0", V612)).isEqualTo(new SwiotlbParams(0, 0, false, false));
        assertThat(SwiotlbParams.parse("0", V50).nslabs()).isZero();
        assertThat(SwiotlbParams.NONE.nslabs()).isEqualTo(-1);
        assertThat(SwiotlbParams.NONE.nareas()).isEqualTo(-1);
    }

    @Test
    void anAreaCountBeyondTheModelLimitIsRejected() {
        assertThat(SwiotlbParams.parse("4096,1048576", V612).nareas()).isEqualTo(1 << 20);
        assertThatThrownBy(() -> SwiotlbParams.parse("4096,1048577", V612))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than the model supports");
    }

    @Test
    void aNumberTooLargeForTheModelIsABadParameterNotACrash() {
        assertThatThrownBy(() -> SwiotlbParams.parse("99999999999999999999999,force", V612))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("swiotlb=");
    }

    @Test
    void textWithoutMeaningIsIgnoredLikeTheKernelDoes() {
        assertThat(SwiotlbParams.parse("abc", V612)).isEqualTo(SwiotlbParams.NONE);
        assertThat(SwiotlbParams.parse(",force", V612)).isEqualTo(new SwiotlbParams(-1, -1, true, false));
    }
}
