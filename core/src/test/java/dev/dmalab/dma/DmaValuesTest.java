package dev.dmalab.dma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.device.DmaRangeMap;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.util.Bits;
import org.junit.jupiter.api.Test;

/**
 * The DMA layer's values: directions, GFP and attribute bits with their 6.12 trace spellings, errnos, the address
 * helpers of {@code dma-direct.h} and scatterlists.
 */
class DmaValuesTest {
    @Test
    void directionsAreTheKernelEnum() {
        assertThat(Direction.BIDIRECTIONAL.value()).isZero();
        assertThat(Direction.TO_DEVICE.value()).isEqualTo(1);
        assertThat(Direction.FROM_DEVICE.value()).isEqualTo(2);
        assertThat(Direction.NONE.value()).isEqualTo(3);
        assertThat(Direction.ofValue(3)).isEqualTo(Direction.NONE);
        assertThat(Direction.NONE.valid()).isFalse();
        assertThat(Direction.parse("DMA_FROM_DEVICE")).isEqualTo(Direction.FROM_DEVICE);
        assertThat(Direction.parse(" to_device ")).isEqualTo(Direction.TO_DEVICE);
        assertThat(Direction.parse("BIDI")).isEqualTo(Direction.BIDIRECTIONAL);
        assertThat(Direction.TO_DEVICE.kernelName()).isEqualTo("DMA_TO_DEVICE");
        assertThat(Direction.BIDIRECTIONAL.deviceReads()).isTrue();
        assertThat(Direction.BIDIRECTIONAL.deviceWrites()).isTrue();
        assertThat(Direction.TO_DEVICE.deviceWrites()).isFalse();
        assertThatThrownBy(() -> Direction.parse("sideways")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Direction.ofValue(4)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void gfpBitsFollowThe612Layout() {
        // ___GFP_*_BIT enum of 6.12 gfp_types.h: IO 6, FS 7, ZERO 8, DIRECT_RECLAIM 10, KSWAPD_RECLAIM 11,
        // NOWARN 13, COMP 18. GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS; GFP_ATOMIC = __GFP_HIGH |
        // __GFP_KSWAPD_RECLAIM.
        assertThat(Gfp.GFP_KERNEL).isEqualTo(0xcc0);
        assertThat(Gfp.GFP_ATOMIC).isEqualTo(0x820);
        assertThat(Gfp.GFP_NOWAIT).isEqualTo(0x800);
        assertThat(Gfp.NOWARN).isEqualTo(0x2000);
        assertThat(Gfp.COMP).isEqualTo(0x40000);
        assertThat(Gfp.ZONE_MASK).isEqualTo(0x7);
        assertThat(Gfp.allowsBlocking(Gfp.GFP_KERNEL)).isTrue();
        assertThat(Gfp.allowsBlocking(Gfp.GFP_ATOMIC)).isFalse();
        assertThat(Gfp.allowsBlocking(Gfp.GFP_NOWAIT)).isFalse();
    }

    @Test
    void gfpTraceStringsAsShowGfpFlagsPrintsThem() {
        assertThat(Gfp.traceString(Gfp.GFP_KERNEL)).isEqualTo("GFP_KERNEL");
        assertThat(Gfp.traceString(Gfp.GFP_KERNEL | Gfp.NOWARN)).isEqualTo("GFP_KERNEL|__GFP_NOWARN");
        assertThat(Gfp.traceString(Gfp.GFP_KERNEL | Gfp.DMA32)).isEqualTo("GFP_KERNEL|GFP_DMA32");
        assertThat(Gfp.traceString(Gfp.GFP_ATOMIC | Gfp.ZERO)).isEqualTo("GFP_ATOMIC|__GFP_ZERO");
        assertThat(Gfp.traceString(0)).isEqualTo("none");
        assertThat(Gfp.traceString(1 << 9)).as("an undecoded bit").isEqualTo("0x200");
        assertThat(Gfp.parse("GFP_KERNEL|__GFP_NOWARN")).isEqualTo(Gfp.GFP_KERNEL | Gfp.NOWARN);
        assertThat(Gfp.parse("none")).isZero();
        assertThat(Gfp.parse("GFP_ATOMIC|0x200")).isEqualTo(Gfp.GFP_ATOMIC | 0x200);
        assertThatThrownBy(() -> Gfp.parse("GFP_MAGIC"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown GFP flag 'GFP_MAGIC'");
    }

    @Test
    void attributeBitsAndTraceStrings() {
        assertThat(DmaAttrs.SKIP_CPU_SYNC).isEqualTo(1L << 5);
        assertThat(DmaAttrs.NO_WARN).isEqualTo(1L << 8);
        assertThat(DmaAttrs.traceString(DmaAttrs.SKIP_CPU_SYNC | DmaAttrs.NO_WARN))
                .isEqualTo("SKIP_CPU_SYNC|NO_WARN");
        assertThat(DmaAttrs.traceString(0)).isEmpty();
        assertThat(DmaAttrs.traceString(DmaAttrs.WRITE_BARRIER))
                .as("not decoded by 6.12")
                .isEqualTo("0x1");
        assertThat(DmaAttrs.parse("DMA_ATTR_SKIP_CPU_SYNC|NO_WARN"))
                .isEqualTo(DmaAttrs.SKIP_CPU_SYNC | DmaAttrs.NO_WARN);
        assertThat(DmaAttrs.parse("NON_CONSISTENT")).isEqualTo(DmaAttrs.NON_CONSISTENT);
        assertThat(DmaAttrs.parse("SKIP_CPU_SYNC|MMIO")).isEqualTo(DmaAttrs.SKIP_CPU_SYNC | (1L << 10));
        assertThat(DmaAttrs.traceString(DmaAttrs.MMIO)).isEqualTo("MMIO");
        assertThatThrownBy(() -> DmaAttrs.parse("REQUIRE_COHERENT")).isInstanceOf(IllegalArgumentException.class);
        assertThat(DmaAttrs.unsupportedIn(DmaAttrs.MMIO, KernelVersion.V6_12)).containsExactly("MMIO");
        assertThat(DmaAttrs.unsupportedIn(DmaAttrs.WRITE_BARRIER | DmaAttrs.NON_CONSISTENT, KernelVersion.V6_12))
                .containsExactly("WRITE_BARRIER", "NON_CONSISTENT");
        assertThat(DmaAttrs.unsupportedIn(DmaAttrs.WRITE_BARRIER, KernelVersion.V5_4))
                .isEmpty();
        assertThat(Errno.name(-Errno.EIO)).isEqualTo("EIO");
        assertThat(Errno.name(-Errno.EREMOTEIO)).isEqualTo("EREMOTEIO");
        assertThat(Errno.name(99)).isEqualTo("E99");
    }

    @Test
    void dmaCapableIsInclusiveOfTheLastByte() {
        Device dev = new Device("0000:00:05.0", BusType.PCI); // 32-bit mask
        assertThat(DmaAddress.dmaCapable(dev, 0xfffff000L, 0x1000, true)).isTrue();
        assertThat(DmaAddress.dmaCapable(dev, 0xfffff000L, 0x1001, true)).isFalse();
        assertThat(DmaAddress.dmaCapable(dev, Bits.U64_MAX, 1, true))
                .as("the error cookie")
                .isFalse();
        assertThat(DmaAddress.dmaCapable(dev, 0xfffffffffffff000L, 0x2000, true))
                .as("wraps")
                .isFalse();
        dev.setBusDmaLimit(0xbfffffffL); // min_not_zero(mask, bus limit)
        assertThat(DmaAddress.dmaCapable(dev, 0xbffff000L, 0x1000, true)).isTrue();
        assertThat(DmaAddress.dmaCapable(dev, 0xc0000000L, 1, true)).isFalse();
        assertThat(DmaAddress.streamingLimit(dev)).isEqualTo(0xbfffffffL);
        dev.setCoherentDmaMask(0x3fffffffL);
        assertThat(DmaAddress.coherentLimit(dev)).isEqualTo(0x3fffffffL);
        dev.clearDmaMaskPointer();
        assertThat(DmaAddress.dmaCapable(dev, 0x1000, 1, true))
                .as("no dma_mask")
                .isFalse();
    }

    @Test
    void translationByPfnOffsetOrRangeMap() {
        Device old = new Device("fe340000.mmc", BusType.PLATFORM);
        old.setDmaPfnOffsetBytes(-0xc0000000L); // <= 5.9: bus = phys - offset, for every address
        assertThat(DmaAddress.physToDma(old, 0x1000)).isEqualTo(0xc0001000L);
        assertThat(DmaAddress.physToDma(old, 0x7ffff000L))
                .as("outside the firmware range, still subtracted")
                .isEqualTo(0x13ffff000L);
        assertThat(DmaAddress.dmaToPhys(old, 0xc0001000L)).isEqualTo(0x1000);

        Device now = new Device("fe340000.mmc", BusType.PLATFORM);
        now.setDmaRangeMap(DmaRangeMap.single(0, 0xc0000000L, 1L << 30));
        assertThat(DmaAddress.physToDma(now, 0x1000)).isEqualTo(0xc0001000L);
        assertThat(DmaAddress.physToDma(now, 0x7ffff000L))
                .as("no region: DMA_MAPPING_ERROR")
                .isEqualTo(-1L);
        assertThat(DmaAddress.dmaToPhys(now, 0x1000)).isEqualTo(-1L);
        assertThat(DmaAddress.physToDmaUnencrypted(now, 0x2000)).isEqualTo(0xc0002000L);
    }

    @Test
    void scatterlistsAndTables() {
        ScatterList sg = new ScatterList(2).addPhys(0x12345678L, 100, 4096);
        assertThat(sg.pagePhys(0)).isEqualTo(0x12345000L);
        assertThat(sg.offset(0)).isEqualTo(0x678);
        assertThat(sg.phys(0)).isEqualTo(0x12345678L);
        sg.setDma(0, 0xabc, 100);
        sg.add(0x20000, 0, 64);
        assertThatThrownBy(() -> sg.add(0x30000, 0, 64)).isInstanceOf(IllegalStateException.class);
        sg.clear();
        assertThat(sg.nents()).isZero();
        assertThat(sg.dmaAddress(0)).isZero();
        assertThat(sg.capacity()).isEqualTo(2);
        assertThatThrownBy(() -> sg.add(0x20000, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScatterList(0)).isInstanceOf(IllegalArgumentException.class);
        SgTable t = new SgTable(new ScatterList(3).add(0, 0, 1).add(4096, 0, 1));
        assertThat(t.origNents()).isEqualTo(2);
        assertThat(t.nents()).isZero();
    }
}
