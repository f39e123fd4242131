package dev.dmalab.bench;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.dma.Direction;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the DMA checker ({@link DmaChecker}, attached with {@code CheckOptions.DEFAULT}) on the pair a
 * correct driver makes: {@code dma_map_page} of a 4 KiB TO_DEVICE buffer, {@code dma_mapping_error} on the
 * returned address, {@code dma_unmap_page}. Each path runs with {@code checker=false} (no listener: the same calls
 * on the model's hot path) and {@code checker=true} (the checker listens, so the API builds an event record per call
 * and the checker keeps a dma-debug entry, its CPU range and the unmap history).
 *
 * <ul>
 *   <li>{@code directPair}: x86-q35, Linux 6.12, the NVMe device (64-bit, coherent): dma-direct, no bounce.
 *   <li>{@code swiotlbPair}: the same machine booted with {@code swiotlb=force} (64 MiB pool): every map bounces the
 *       4 KiB into the next slot and the unmap frees it.
 *   <li>{@code iommuPair}: x86-q35-vtd (strict): an IOVA from the rcache, page-table entries set and cleared, the
 *       IOTLB invalidated per unmap; x86-q35-vtd-lazy: the IOVA queued, the IOTLB flushed every 255 unmaps.
 *   <li>{@code xenPair}: juno-r2-xen-dom0 (Xen dom0, arm64 1:1, coherent SiI3132), a dom0 page or a guest's
 *       grant-mapped page ({@code foreign}), through {@code xen_swiotlb_dma_ops}.
 * </ul>
 *
 * Same machines and buffer as {@link MapUnmapBench}, whose pairs skip the {@code dma_mapping_error} call. The loop
 * must leave the checker silent: every trial checks once after a first pair and once at its end that it has no
 * finding and has counted no error, and fails otherwise. Recorded numbers: docs/PERFORMANCE.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CheckerBench {
    /** One map + mapping-error check + unmap of the 4 KiB buffer, as a correct driver makes it. */
    static long pair(MapUnmapBench.Path s) {
        long addr = s.dma.mapPageAttrs(s.dev, s.page, 0, 4096, Direction.TO_DEVICE, 0);
        if (s.dma.mappingError(s.dev, addr) != 0) {
            throw new IllegalStateException("map failed");
        }
        s.dma.unmapPageAttrs(s.dev, addr, 4096, Direction.TO_DEVICE, 0);
        return addr;
    }

    /** Attaches the checker if asked, then runs one pair and checks that the checker stayed silent. */
    static void attach(MapUnmapBench.Path s, boolean checker) {
        if (checker) {
            s.machine.attachChecker(CheckOptions.DEFAULT);
        }
        pair(s);
        assertSilent(s, checker);
    }

    /** Fails if the checker (when attached) found anything, counted an error or still holds an entry. */
    static void assertSilent(MapUnmapBench.Path s, boolean checker) {
        DmaChecker c = s.machine.checker();
        if (checker != (c != null)) {
            throw new IllegalStateException("checker attached: " + (c != null) + ", expected " + checker);
        }
        if (c != null && (!c.findings().isEmpty() || c.errorCount() != 0 || c.liveEntries() != 0)) {
            throw new IllegalStateException("the checker is not silent: " + c.errorCount() + " errors, "
                    + c.liveEntries() + " live entries, findings " + c.findings());
        }
    }

    /** A path with the checker attached or not, checked silent at the end of the trial. */
    public abstract static class Checked extends MapUnmapBench.Path {
        @Param({"false", "true"})
        public boolean checker;

        @TearDown(Level.Trial)
        public void check() {
            assertSilent(this, checker);
        }
    }

    /** The direct path. */
    public static class Direct extends Checked {
        @Setup(Level.Trial)
        public void setup() {
            boot("");
            attach(this, checker);
        }
    }

    /** The swiotlb path with the default 64 MiB pool ({@code swiotlb=force}). */
    public static class Bounce extends Checked {
        @Setup(Level.Trial)
        public void setup() {
            boot("swiotlb=force");
            attach(this, checker);
        }
    }

    /** The dma-iommu path on the q35 + VT-d model, strict and lazy invalidation. */
    public static class Iommu extends Checked {
        @Param({"x86-q35-vtd", "x86-q35-vtd-lazy"})
        public String platform;

        @Setup(Level.Trial)
        public void setup() {
            boot(platform, "");
            attach(this, checker);
        }
    }

    /** Xen dom0 on juno-r2-xen-dom0 (arm64, 1:1): one of dom0's own pages, or a guest's grant-mapped page. */
    public static class Xen extends Checked {
        @Param({"false", "true"})
        public boolean foreign;

        @Setup(Level.Trial)
        public void setup() {
            MapUnmapBench.bootXen(this, "juno-r2-xen-dom0", foreign);
            attach(this, checker);
        }
    }

    @Benchmark
    public long xenPair(Xen s) {
        return pair(s);
    }

    @Benchmark
    public long directPair(Direct s) {
        return pair(s);
    }

    @Benchmark
    public long swiotlbPair(Bounce s) {
        return pair(s);
    }

    @Benchmark
    public long iommuPair(Iommu s) {
        return pair(s);
    }
}
