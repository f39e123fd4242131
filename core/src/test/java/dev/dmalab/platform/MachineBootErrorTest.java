package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

/** Profiles that load but cannot be built: the error still names the file, the line and the field. */
class MachineBootErrorTest {
    static final String FILE = "boot.yaml";

    static PlatformProfile parse(String yaml) {
        return ProfileLoader.parse(FILE, new StringReader(yaml));
    }

    static InputException bootFailure(PlatformProfile p, KernelVersion v, Machine.BootOptions o) {
        Throwable t = catchThrowable(() -> Machine.boot(p, v, o));
        assertThat(t).as(v.name()).isExactlyInstanceOf(InputException.class);
        assertThat(t.getMessage()).doesNotContain("\n");
        return (InputException) t;
    }

    static final String SWIOTLB_BASE = String.join(
            "\n",
            "name: fixed-base", //                                     1
            "arch: x86_64", //                                         2
            "cmdline: \"swiotlb=force\"", //                           3
            "memory:", //                                              4
            "  ram:", //                                               5
            "    - {start: 0x0, size: 1G}", //                         6
            "  reserved:", //                                          7
            "    - {start: 0x30000000, size: 16M, name: firmware}", // 8
            "swiotlb:", //                                             9
            "  base: %s", //                                           10
            "devices:", //                                             11
            "  - {name: dev0, dma_mask: 64}", //                       12
            "");

    @Test
    void aFixedSwiotlbBaseWhosePoolDoesNotFitNamesSwiotlbBaseAndItsLine() {
        // 64 MiB from 0x3e000000 runs past the end of RAM (1 GiB)
        PlatformProfile p = parse(String.format(SWIOTLB_BASE, "0x3e000000"));
        for (KernelVersion v : KernelVersion.builtIn()) {
            InputException e = bootFailure(p, v, Machine.BootOptions.DEFAULT);
            assertThat(e.line()).isEqualTo(10);
            assertThat(e.field()).isEqualTo("swiotlb.base");
            assertThat(e.getMessage())
                    .isEqualTo(FILE + ":10: swiotlb.base: swiotlb pool 0x3e000000+0x4000000 is not free RAM");
        }
    }

    @Test
    void aFixedSwiotlbBaseOverAReservationNamesSwiotlbBase() {
        PlatformProfile p = parse(String.format(SWIOTLB_BASE, "0x2e000000"));
        InputException e = bootFailure(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT);
        assertThat(e.getMessage()).startsWith(FILE + ":10: swiotlb.base: swiotlb pool 0x2e000000+0x4000000");
    }

    @Test
    void aFixedSwiotlbBaseThatFitsIsUsed() {
        Machine m = Machine.boot(parse(String.format(SWIOTLB_BASE, "0x20000000")), KernelVersion.V6_12);
        assertThat(m.swiotlbGeometry().base()).isEqualTo(0x20000000L);
        assertThat(m.swiotlb().defaultMem().defpool().start()).isEqualTo(0x20000000L);
    }

    @Test
    void aBaseFromTheBootOptionsIsCheckedToo() {
        PlatformProfile p = parse(String.format(SWIOTLB_BASE, "0x20000000"));
        InputException e =
                bootFailure(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withSwiotlbBase(0x3f000000L));
        // The bad base came from the caller, not the profile: the error must not point at the profile's line.
        assertThat(e.file()).isEqualTo("boot options");
        assertThat(e.field()).isEqualTo("swiotlb base");
        assertThat(e.reason()).contains("0x3f000000");
        assertThat(e.getMessage()).doesNotContain(FILE);
    }

    @Test
    void aBadSwiotlbParameterNamesTheCmdlineLine() {
        PlatformProfile p = parse(String.format(SWIOTLB_BASE, "0x20000000").replace("swiotlb=force", "swiotlb="));
        InputException e = bootFailure(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT);
        assertThat(e.getMessage()).isEqualTo(FILE + ":3: cmdline: swiotlb= needs a value");
    }

    /** A bad value in the boot options is not the profile's fault: the error must not blame the profile file. */
    @Test
    void aBadSwiotlbParameterInTheBootOptionsNamesTheCommandLine() {
        PlatformProfile p = parse(String.format(SWIOTLB_BASE, "0x20000000"));
        InputException e =
                bootFailure(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline("quiet swiotlb="));
        assertThat(e.getMessage()).isEqualTo("kernel command line: swiotlb= needs a value");
        InputException builtIn = bootFailure(
                Platforms.builtIn("x86-q35"), KernelVersion.V5_0, Machine.BootOptions.DEFAULT.withCmdline("swiotlb="));
        assertThat(builtIn.getMessage()).doesNotContain("x86-q35.yaml");
    }

    static final String TWO_RANGES = String.join(
            "\n",
            "name: two-ranges", //                                                          1
            "arch: arm64", //                                                               2
            "memory:", //                                                                   3
            "  ram:", //                                                                    4
            "    - {start: 0x0, size: 2G}", //                                              5
            "devices:", //                                                                  6
            "  - {name: a.mmc, bus: platform, dma_mask: 32}", //                           7
            "  - name: b.mmc", //                                                           8
            "    bus: platform", //                                                         9
            "    dma_mask: 32", //                                                          10
            "    dma_ranges:", //                                                           11
            "      - {cpu: 0x0, dma: 0xc0000000, size: 1G}", //                            12
            "      - {cpu: 0x40000000, dma: 0x40000000, size: 1G}", //                      13
            "");

    /** Before 5.10 a device has one dma_pfn_offset, not a dma_range_map. */
    @Test
    void severalDmaRangesBeforeFiveTenNameTheDeviceFieldAndLine() {
        PlatformProfile p = parse(TWO_RANGES);
        for (KernelVersion v : KernelVersion.builtIn()) {
            if (v.has(Feature.DMA_RANGE_MAP)) {
                Machine m = Machine.boot(p, v);
                assertThat(m.device("b.mmc").dmaRangeMap().regions()).hasSize(2);
                continue;
            }
            InputException e = bootFailure(p, v, Machine.BootOptions.DEFAULT);
            assertThat(e.line()).as(e.getMessage()).isEqualTo(11);
            assertThat(e.field()).isEqualTo("devices[1].dma_ranges");
            assertThat(e.getMessage())
                    .startsWith(
                            FILE + ":11: devices[1].dma_ranges: " + v.name() + " supports one dma-range per device");
        }
    }

    /** rpi4's emmc2 bus: one dma-range (cpu 0 -> bus 0xc0000000); before 5.10 as dma_pfn_offset, after as a map. */
    @Test
    void rpi4UsesDmaPfnOffsetBeforeFiveTenAndTheRangeMapAfter() {
        PlatformProfile rpi4 = Platforms.builtIn("rpi4");
        for (KernelVersion v : KernelVersion.builtIn()) {
            Machine m = Machine.boot(rpi4, v);
            Device mmc = m.device("fe340000.mmc");
            Device usb = m.device("fe980000.usb");
            Device eth = m.device("fd580000.ethernet");
            if (v.has(Feature.DMA_RANGE_MAP)) {
                assertThat(mmc.dmaRangeMap()).as(v.name()).isNotNull();
                assertThat(mmc.dmaPfnOffsetBytes()).isZero();
                // outside the window there is no bus address
                assertThat(DmaAddress.physToDma(mmc, 0x40000000L)).isEqualTo(-1L);
            } else {
                assertThat(mmc.dmaRangeMap()).as(v.name()).isNull();
                assertThat(mmc.dmaPfnOffsetBytes()).as(v.name()).isEqualTo(-0xc0000000L);
                assertThat(usb.dmaPfnOffsetBytes()).isEqualTo(-0xc0000000L);
                // a plain offset translates everything, even beyond the bus window
                assertThat(DmaAddress.physToDma(mmc, 0x40000000L)).isEqualTo(0x100000000L);
            }
            assertThat(DmaAddress.physToDma(mmc, 0x1000L)).as(v.name()).isEqualTo(0xc0001000L);
            assertThat(DmaAddress.dmaToPhys(mmc, 0xc0001000L)).isEqualTo(0x1000L);
            assertThat(DmaAddress.physToDma(usb, 0x3b000000L)).isEqualTo(0xfb000000L);
            // GENET has no dma-ranges: identity on every version
            assertThat(eth.dmaRangeMap()).isNull();
            assertThat(eth.dmaPfnOffsetBytes()).isZero();
            assertThat(DmaAddress.physToDma(eth, 0x1000L)).isEqualTo(0x1000L);
            // the device's bus engine agrees with the kernel's translation
            assertThat(m.busMaster(mmc).toPhys(0xc0001000L)).isEqualTo(0x1000L);
        }
    }
}
