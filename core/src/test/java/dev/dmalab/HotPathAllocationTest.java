package dev.dmalab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md: map, unmap and sync allocate nothing in steady state when no listener is attached. Measured with the
 * JVM's per-thread allocation counter (not timing), for the direct path, the swiotlb bounce path and a
 * non-coherent arm64 path with cache maintenance.
 */
class HotPathAllocationTest {
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private static long bytesPerPair(String platform, String cmdline, String device) {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        Machine m = Machine.boot(
                Platforms.builtIn(platform), KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        DmaApi dma = m.dma();
        Device dev = m.device(device);
        long page = m.allocKernelPages(0, Zone.NORMAL);
        for (int i = 0; i < 20_000; i++) { // warm up, materialise every touched memory chunk
            long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.BIDIRECTIONAL, 0);
            dma.syncSingleForCpu(dev, a, 4096, Direction.BIDIRECTIONAL);
            dma.unmapPageAttrs(dev, a, 4096, Direction.BIDIRECTIONAL, 0);
        }
        int n = 10_000;
        long before = allocatedBytes();
        for (int i = 0; i < n; i++) {
            long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.BIDIRECTIONAL, 0);
            dma.syncSingleForCpu(dev, a, 4096, Direction.BIDIRECTIONAL);
            dma.unmapPageAttrs(dev, a, 4096, Direction.BIDIRECTIONAL, 0);
        }
        return (allocatedBytes() - before) / n;
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
}
