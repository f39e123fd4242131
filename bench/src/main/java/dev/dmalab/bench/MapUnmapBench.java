package dev.dmalab.bench;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code dma_map_page} + {@code dma_unmap_page} pair of a 4 KiB TO_DEVICE buffer, per path, with no event
 * listener attached (the model's hot path), beside {@code System.arraycopy} of 4 KiB measured in the same run: the
 * physical limit a swiotlb bounce cannot beat.
 *
 * <ul>
 *   <li>{@code directPair}: x86-q35, Linux 6.12, the NVMe device (64-bit, coherent): dma-direct, no bounce.
 *   <li>{@code swiotlbPair}: the same machine booted with {@code swiotlb=force}: every map bounces 4 KiB into a slot
 *       (the copy on map) and frees it on unmap (TO_DEVICE: no copy back).
 *   <li>{@code copy4k}: {@code System.arraycopy} of 4096 bytes between two arrays.
 * </ul>
 *
 * Run with {@code mvn -B -Pbench verify -pl bench -am -DskipTests -Djacoco.skip=true -Dspotless.check.skip=true}
 * (JMH options in {@code -Djmh.args=...}, default {@code -prof gc}); see docs/PERFORMANCE.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MapUnmapBench {
    /** A booted machine and a device, ready to map. */
    @State(Scope.Thread)
    public static class Path {
        DmaApi dma;
        Device dev;
        long page;

        void boot(String cmdline) {
            Machine m = Machine.boot(
                    Platforms.builtIn("x86-q35"),
                    KernelVersion.V6_12,
                    Machine.BootOptions.DEFAULT.withCmdline(cmdline));
            dma = m.dma();
            dev = m.device("0000:00:03.0");
            page = m.allocKernelPages(0, Zone.NORMAL);
        }
    }

    /** The direct path. */
    public static class Direct extends Path {
        @Setup(Level.Trial)
        public void setup() {
            boot("");
        }
    }

    /** The swiotlb path. */
    public static class Bounce extends Path {
        @Setup(Level.Trial)
        public void setup() {
            boot("swiotlb=force");
        }
    }

    /** Two 4 KiB arrays. */
    @State(Scope.Thread)
    public static class Arrays4k {
        final byte[] src = new byte[4096];
        final byte[] dst = new byte[4096];
    }

    @Benchmark
    public long directPair(Direct s) {
        long addr = s.dma.mapPageAttrs(s.dev, s.page, 0, 4096, Direction.TO_DEVICE, 0);
        s.dma.unmapPageAttrs(s.dev, addr, 4096, Direction.TO_DEVICE, 0);
        return addr;
    }

    @Benchmark
    public long swiotlbPair(Bounce s) {
        long addr = s.dma.mapPageAttrs(s.dev, s.page, 0, 4096, Direction.TO_DEVICE, 0);
        s.dma.unmapPageAttrs(s.dev, addr, 4096, Direction.TO_DEVICE, 0);
        return addr;
    }

    @Benchmark
    public byte copy4k(Arrays4k a) {
        System.arraycopy(a.src, 0, a.dst, 0, 4096);
        return a.dst[4095];
    }
}
