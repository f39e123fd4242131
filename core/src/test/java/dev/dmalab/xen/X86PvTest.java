package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.Gfp;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.testing.TestMachines;
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
        long after = m.dom0().p2m().lookup(pfn);
        if (kernel.equals("5.0")) {
            // 5.0 re-tests the exchanged region, which is within the mask now: the exchange is never undone
            assertThat(after).isEqualTo(mfn);
        } else {
            // 5.3+ undoes exactly the exchanges it made (PageXenRemapped): the frame goes back to Xen
            assertThat(after).isNotEqualTo(mfn);
            assertThat(m.xen().ownerOf(mfn)).isNull();
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void sixTwelveAlsoBouncesAnAlignedBufferOnAMisalignedFrame(String kernel) {
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
        // an 8 KiB buffer on the pair: contiguous, but 8 KiB-aligned only in pseudo-physical memory
        bus = m.dma().mapPageAttrs(nvme, pfn << 12, 0, 8192, Direction.TO_DEVICE, 0);
        if (kernel.equals("6.12")) {
            assertThat(m.swiotlb().bouncedMaps())
                    .as("9f40ec84a797's alignment check")
                    .isEqualTo(2);
        } else {
            assertThat(bus).isEqualTo(mfn << 12);
            assertThat(m.swiotlb().bouncedMaps()).isEqualTo(1);
        }
    }
}
