package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * x86 PV dom0: the pseudo-physical space is backed by machine frames above 4 GiB, machine-contiguous only within
 * 2 MiB chunks. swiotlb-xen exchanges its pool for chunks below 4 GiB, exchanges coherent buffers a device cannot
 * reach, and bounces streaming buffers the device cannot reach or whose frames are not machine-contiguous.
 */
class X86PvTest {
    static Machine pv(String kernel) {
        return Machine.boot(Platforms.builtIn("x86-xen-pv-dom0"), KernelVersion.parse(kernel));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0", "5.4", "6.12"})
    void thePoolIsMachineContiguousPerChunkAndBelowFourGiB(String kernel) {
        Machine m = pv(kernel);
        IoTlbPool pool = m.swiotlb().defaultMem().defpool();
        assertThat(pool).isNotNull();
        Domain dom0 = m.dom0();
        long chunkBytes = (long) IoTlbPool.IO_TLB_SEGSIZE << IoTlbPool.IO_TLB_SHIFT;
        for (long at = pool.start(); at < pool.end(); at += chunkBytes) {
            long first = dom0.p2m().lookup(at >>> 12);
            for (long f = 0; f < chunkBytes >>> 12; f++) {
                assertThat(dom0.p2m().lookup((at >>> 12) + f)).isEqualTo(first + f);
            }
            assertThat((first << 12) + chunkBytes).isLessThanOrEqualTo(1L << 32);
        }
        assertThat(m.xen().exchangedFrames()).isEqualTo((pool.end() - pool.start()) >>> 12);
        assertThat(m.arch().get(m.device("0000:00:03.0")).symbol())
                .as("the global dma_ops")
                .isEqualTo("xen_swiotlb_dma_ops");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.0", "5.4", "6.12"})
    void aCoherentBufferAboveTheMaskIsExchangedBelowIt(String kernel) {
        Machine m = pv(kernel);
        Device e1000 = m.device("0000:00:05.0");
        long before = m.xen().exchangedFrames();
        long[] h = new long[1];
        long va = m.dma().allocAttrs(e1000, 8192, h, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        long pfn = m.addressSpace().virtToPhys(va) >>> 12;
        long mfn = m.dom0().p2m().lookup(pfn);
        assertThat(h[0]).isEqualTo(mfn << 12);
        assertThat(h[0] + 8192).as("below the 32-bit mask").isLessThanOrEqualTo(1L << 32);
        assertThat(m.dom0().p2m().lookup(pfn + 1)).as("machine-contiguous").isEqualTo(mfn + 1);
        assertThat(m.xen().exchangedFrames() - before).isEqualTo(2);
        byte[] data = TestMachines.pattern(8192, 4);
        TestMachines.cpuWrite(m, va, data);
        assertThat(TestMachines.deviceRead(m, e1000, h[0], 8192)).isEqualTo(data);

        m.dma().freeAttrs(e1000, 8192, va, h[0], 0);
        // every version trades the exchanged frames back: 4.20–5.2 because the region is within the mask now,
        // 5.3+ because it is marked PageXenRemapped
        long after = m.dom0().p2m().lookup(pfn);
        assertThat(after).isNotEqualTo(mfn);
        assertThat(m.xen().ownerOf(mfn)).isNull();
    }

    /**
     * 4.20 … 5.2 (since 4855c92dbb7b, 2018) trade back every coherent buffer within the mask on free, exchanged or not (the condition Juergen
     * Gross fixed in 5.3): a 64-bit device's buffer gets fresh machine frames. 5.3+ leaves it alone.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0", "5.4", "6.12"})
    void beforeFiveThreeFreeTradesBackEvenANeverExchangedBuffer(String kernel) {
        Machine m = pv(kernel);
        Device nvme = m.device("0000:00:03.0");
        long before = m.xen().exchangedFrames();
        long[] h = new long[1];
        long va = m.dma().allocAttrs(nvme, 8192, h, Gfp.GFP_KERNEL, 0);
        long pfn = m.addressSpace().virtToPhys(va) >>> 12;
        long mfn = m.dom0().p2m().lookup(pfn);
        assertThat(m.xen().exchangedFrames())
                .as("reachable and contiguous: not exchanged")
                .isEqualTo(before);
        m.dma().freeAttrs(nvme, 8192, va, h[0], 0);
        if (KernelVersion.parse(kernel).has(dev.dmalab.kernel.Feature.XEN_REMAPPED_PAGES)) {
            assertThat(m.dom0().p2m().lookup(pfn)).isEqualTo(mfn);
            assertThat(m.xen().exchangedFrames()).isEqualTo(before);
        } else {
            assertThat(m.dom0().p2m().lookup(pfn)).isNotEqualTo(mfn);
            assertThat(m.xen().ownerOf(mfn))
                    .as("the old frame went back to Xen")
                    .isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.0", "6.12"})
    void aStreamingBufferAcrossTwoMachineChunksBounces(String kernel) {
        Machine m = pv(kernel);
        Device nvme = m.device("0000:00:03.0");
        // pfn 512 starts the second 2 MiB chunk; its predecessor is the last frame of the first chunk
        long chunkEdge = 512L << 12;
        assertThat(m.dom0().p2m().lookup(511) + 1).isNotEqualTo(m.dom0().p2m().lookup(512));
        byte[] data = TestMachines.pattern(256, 5);
        TestMachines.cpuWritePhys(m, chunkEdge - 128, data);
        long bus = m.dma().mapPageAttrs(nvme, (chunkEdge - 4096), 4096 - 128, 256, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(1);
        assertThat(TestMachines.deviceRead(m, nvme, bus, 256)).isEqualTo(data);
        m.dma().unmapPageAttrs(nvme, bus, 256, Direction.TO_DEVICE, 0);
        // inside one chunk: no bounce, the device gets the machine address
        long inside = 600L << 12;
        long direct = m.dma().mapPageAttrs(nvme, inside, 16, 256, Direction.TO_DEVICE, 0);
        assertThat(direct).isEqualTo((m.dom0().p2m().lookup(600) << XenFrames.SHIFT) + 16);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(1);
    }

    /**
     * Streaming maps need machine-contiguous frames only: an 8 KiB-aligned buffer on a contiguous but misaligned
     * machine pair is mapped in place on 5.4 and on 6.12.y (6.12.0–6.12.15 bounced it: 9f40ec84a797's alignment test
     * sat in {@code range_straddles_page_boundary} until 6.12.16).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void aStreamingBufferOnAMisalignedButContiguousPairIsMappedInPlace(String kernel) {
        Machine m = XenTestMachines.x86Scattered(KernelVersion.parse(kernel));
        Device nvme = m.device("0000:00:03.0");
        long pfn = 0x2000; // 8 KiB-aligned
        long mfn = m.dom0().p2m().lookup(pfn);
        assertThat(m.dom0().p2m().lookup(pfn + 1))
                .as("a machine-contiguous pair")
                .isEqualTo(mfn + 1);
        assertThat(mfn & 1).as("starting at an odd machine frame").isEqualTo(1);
        assertThat(m.dom0().p2m().lookup(pfn + 2)).isNotEqualTo(mfn + 2);
        // across the pair's end: not machine-contiguous, bounced by every version
        long bus = m.dma().mapPageAttrs(nvme, (pfn + 1) << 12, 2048, 4096, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(1);
        m.dma().unmapPageAttrs(nvme, bus, 4096, Direction.TO_DEVICE, 0);
        // an 8 KiB buffer on the pair: contiguous, 8 KiB-aligned only in pseudo-physical memory
        bus = m.dma().mapPageAttrs(nvme, pfn << 12, 0, 8192, Direction.TO_DEVICE, 0);
        assertThat(bus).isEqualTo(mfn << 12);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(1);
        assertThat(m.xenMm().address().rangeRequiresAlignment(pfn << 12, 8192))
                .as("range_requires_alignment, 6.12 only")
                .isEqualTo(kernel.equals("6.12"));
    }

    /**
     * 6.12 coherent allocations: a buffer aligned to its order must be machine-aligned too, else it is exchanged
     * ({@code range_requires_alignment}); 5.4 only asks for reachable, contiguous frames.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void sixTwelveExchangesAnOrderAlignedCoherentBufferOnMisalignedFrames(String kernel) {
        Machine m = XenTestMachines.x86Scattered(KernelVersion.parse(kernel));
        Device nvme = m.device("0000:00:03.0");
        long before = m.xen().exchangedFrames();
        long[] h = new long[1];
        long va = m.dma().allocAttrs(nvme, 8192, h, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        long pfn = m.addressSpace().virtToPhys(va) >>> 12;
        assertThat(pfn & 1).as("an order-1 block").isZero();
        long mfn = m.dom0().p2m().lookup(pfn);
        assertThat(h[0]).isEqualTo(mfn << 12);
        if (kernel.equals("6.12")) {
            assertThat(m.xen().exchangedFrames() - before).isEqualTo(2);
            assertThat(h[0] & 0x1fff).as("machine-aligned to 8 KiB").isZero();
        } else {
            assertThat(m.xen().exchangedFrames()).isEqualTo(before);
            assertThat(h[0] & 0x1fff).as("the pair's odd machine frame").isEqualTo(0x1000);
        }
        m.dma().freeAttrs(nvme, 8192, va, h[0], 0);
        assertThat(m.kernel().printk().dmesg()).doesNotContain("WARNING");
    }

    /**
     * 4.20 / 5.0 map a scatterlist with their own loop ({@code xen_swiotlb_map_sg_attrs}): a bounced entry fires no
     * {@code swiotlb_bounced} event; from 5.2 each entry goes through map_page, which traces it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0", "5.4", "6.12"})
    void onlyTheMapPageLoopTracesBouncedScatterlistEntries(String kernel) {
        Machine m = pv(kernel);
        Device e1000 = m.device("0000:00:05.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        ScatterList sg = new ScatterList(2);
        sg.addPhys(0x3000040L, 3000, 4096);
        sg.addPhys(0x3002040L, 3000, 4096);
        assertThat(m.dma().mapSgAttrs(e1000, sg, 2, Direction.TO_DEVICE, 0)).isEqualTo(2);
        assertThat(m.swiotlb().bouncedMaps())
                .as("above the 32-bit mask: both bounce")
                .isEqualTo(2);
        long traced = events.stream()
                .filter(e -> e instanceof DmaEvent.SwiotlbBounced)
                .count();
        assertThat(traced).isEqualTo(kernel.equals("4.20") || kernel.equals("5.0") ? 0 : 2);
        m.dma().unmapSgAttrs(e1000, sg, 2, Direction.TO_DEVICE, 0);
    }

    /**
     * {@code xen_create_contiguous_region} above order 9 (2 MiB): -ENOMEM up to 6.12.15, so a 4 MiB coherent buffer
     * for a 32-bit device cannot be had; 6.12.16+ (e93ec87286bd) grows its frame array and exchanges it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void aFourMiBCoherentBufferBelowTheMaskOnlyFromSixTwelveY(String kernel) {
        Machine m = pv(kernel);
        Device e1000 = m.device("0000:00:05.0");
        long[] h = new long[1];
        long va = m.dma().allocAttrs(e1000, 4L << 20, h, Gfp.GFP_KERNEL, 0);
        if (kernel.equals("6.12")) {
            assertThat(va).isNotZero();
            assertThat(h[0] + (4L << 20)).isLessThanOrEqualTo(1L << 32);
            long pfn = m.addressSpace().virtToPhys(va) >>> 12;
            long mfn = m.dom0().p2m().lookup(pfn);
            assertThat(m.dom0().p2m().lookup(pfn + 1023)).isEqualTo(mfn + 1023);
            m.dma().freeAttrs(e1000, 4L << 20, va, h[0], 0);
        } else {
            assertThat(va).as("order 10 > MAX_CONTIG_ORDER: no buffer").isZero();
        }
    }
}
