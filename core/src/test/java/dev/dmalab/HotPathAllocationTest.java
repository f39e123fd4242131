package dev.dmalab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md: map, unmap and sync allocate nothing in steady state when no listener is attached. Measured with the
 * JVM's per-thread allocation counter (not timing), for the direct path, the swiotlb bounce path, a non-coherent
 * arm64 path with cache maintenance, the IOMMU (strict and lazy) and swiotlb-xen (a dom0 page and a guest's).
 */
class HotPathAllocationTest {
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private static long bytesPerPair(String platform, String cmdline, String device) {
        return bytesPerPair(platform, cmdline, device, false, false);
    }

    private static long bytesPerPair(String platform, String cmdline, String device, boolean foreign) {
        return bytesPerPair(platform, cmdline, device, foreign, false);
    }

    /**
     * With {@code foreign}, the page is one of domU1's, grant-mapped into dom0 (a Xen dom0 platform only). With
     * {@code checker}, the DMA checker is attached and the driver checks {@code dma_mapping_error} as it must; the
     * checker must stay silent.
     */
    private static long bytesPerPair(String platform, String cmdline, String device, boolean foreign, boolean checker) {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        Machine m = Machine.boot(
                Platforms.builtIn(platform), KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        DmaApi dma = m.dma();
        Device dev = m.device(device);
        DmaChecker c = checker ? m.attachChecker(CheckOptions.DEFAULT) : null;
        long page;
        if (foreign) {
            Domain guest = m.xen().domain(1);
            long gfn = guest.p2m().tableBase() + 3;
            page = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, false), false);
        } else {
            page = m.allocKernelPages(0, Zone.NORMAL);
        }
        for (int i = 0; i < 20_000; i++) { // warm up, materialise every touched memory chunk
            pair(dma, dev, page);
        }
        int n = 10_000;
        long before = allocatedBytes();
        for (int i = 0; i < n; i++) {
            pair(dma, dev, page);
        }
        long perPair = (allocatedBytes() - before) / n;
        if (c != null) {
            assertThat(c.findings()).isEmpty();
            assertThat(c.errorCount()).isZero();
            assertThat(c.liveEntries()).isZero();
            assertThat(c.entriesMade()).isEqualTo(30_000);
        }
        return perPair;
    }

    private static void pair(DmaApi dma, Device dev, long page) {
        long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.BIDIRECTIONAL, 0);
        if (dma.mappingError(dev, a) != 0) {
            throw new AssertionError("map failed");
        }
        dma.syncSingleForCpu(dev, a, 4096, Direction.BIDIRECTIONAL);
        dma.syncSingleForDevice(dev, a, 4096, Direction.BIDIRECTIONAL);
        dma.unmapPageAttrs(dev, a, 4096, Direction.BIDIRECTIONAL, 0);
    }

    @Test
    void directMapSyncUnmapAllocatesNothing() {
        assertThat(bytesPerPair("x86-q35", "", "0000:00:03.0")).isZero();
    }

    @Test
    void swiotlbBounceMapSyncUnmapAllocatesNothing() {
        assertThat(bytesPerPair("x86-q35", "swiotlb=force", "0000:00:03.0")).isZero();
    }

    @Test
    void nonCoherentArm64WithCacheMaintenanceAllocatesNothing() {
        assertThat(bytesPerPair("arm64-noncoherent", "", "ff0e0000.ethernet")).isZero();
    }

    @Test
    void iommuStrictMapSyncUnmapAllocatesNothing() {
        assertThat(bytesPerPair("x86-q35-vtd", "", "0000:00:03.0")).isZero();
    }

    @Test
    void iommuLazyMapSyncUnmapAllocatesNothing() {
        // the flush queue fills every 255 unmaps, flushes the domain and frees into the rcache
        assertThat(bytesPerPair("x86-q35-vtd-lazy", "", "0000:00:03.0")).isZero();
    }

    @Test
    void xenDom0LocalAndForeignPagesAllocateNothing() {
        assertThat(bytesPerPair("juno-r2-xen-dom0", "", "0000:03:00.0", false)).isZero();
        assertThat(bytesPerPair("juno-r2-xen-dom0", "", "0000:03:00.0", true)).isZero();
        assertThat(bytesPerPair("x86-xen-pv-dom0", "", "0000:00:03.0", false)).isZero();
        assertThat(bytesPerPair("x86-xen-pv-dom0", "", "0000:00:03.0", true)).isZero();
    }

    /**
     * Issue 5: with the checker attached, the per-packet calls (map, mapping-error check, both syncs, unmap, and
     * swiotlb's bounce event) reach it as plain arguments and its entries are reused, so nothing is allocated either.
     */
    @Test
    void theCheckerAttachedAllocatesNothingEither() {
        assertThat(bytesPerPair("x86-q35", "", "0000:00:03.0", false, true)).isZero();
        assertThat(bytesPerPair("x86-q35", "swiotlb=force", "0000:00:03.0", false, true))
                .isZero();
        assertThat(bytesPerPair("arm64-noncoherent", "", "ff0e0000.ethernet", false, true))
                .isZero();
        assertThat(bytesPerPair("x86-q35-vtd", "", "0000:00:03.0", false, true)).isZero();
        assertThat(bytesPerPair("x86-q35-vtd-lazy", "", "0000:00:03.0", false, true))
                .isZero();
        assertThat(bytesPerPair("juno-r2-xen-dom0", "", "0000:03:00.0", true, true))
                .isZero();
    }
}
