package dev.dmalab.arch;

import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.dram;
import static dev.dmalab.testing.TestMachines.filled;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.cache.CacheObserver;
import dev.dmalab.cache.LineState;
import dev.dmalab.dma.Direction;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The arch cache-maintenance hooks, checked line by line on the modelled caches.
 *
 * <p>Every test dirties eight 64-byte lines L0..L7 of a page with 0xAA (DRAM holds zeros), then applies a hook to
 * {@code [page + 16, page + 240)}: L0 and L3 are partial (the range starts 16 bytes into L0 and ends 48 bytes
 * into L3), L1 and L2 are whole, L4..L7 are outside.
 */
class ArchCacheMaintenanceTest {
    private static final int START = 16;
    private static final int SIZE = 224; // [16, 240)

    /** A machine whose arch and caches are under test, with a page whose first 512 bytes are dirty 0xAA. */
    private static final class Bed {
        final Machine m;
        final long page;
        final List<Long> discarded = new ArrayList<>();

        Bed(Machine m) {
            this.m = m;
            this.page = m.allocKernelPages(0, m.memory().zones().hasZoneDma() ? Zone.DMA : Zone.NORMAL);
            cpuWritePhys(m, page, filled(512, 0xaa));
            m.caches().setObserver(new CacheObserver() {
                @Override
                public void onDirtyDiscarded(int cpu, long lineAddr) {
                    discarded.add(lineAddr - page);
                }
            });
        }

        LineState line(int i) {
            return m.caches().lineState(page + 64L * i);
        }

        /** What DRAM holds for line i: true if the CPU's 0xAA reached it. */
        boolean written(int i) {
            byte[] d = dram(m, page + 64L * i, 64);
            for (byte b : d) {
                if (b != (byte) 0xaa) {
                    return false;
                }
            }
            return true;
        }

        void expect(String states, String dram) {
            for (int i = 0; i < 8; i++) {
                LineState s =
                        switch (states.charAt(i)) {
                            case 'D' -> LineState.DIRTY;
                            case 'C' -> LineState.CLEAN;
                            default -> LineState.INVALID;
                        };
                assertThat(line(i)).as("state of L%d", i).isEqualTo(s);
                assertThat(written(i)).as("DRAM of L%d holds the CPU's data", i).isEqualTo(dram.charAt(i) == 'W');
            }
        }
    }

    private static Bed arm64(KernelVersion v) {
        return new Bed(TestMachines.boot("arm64-noncoherent", v));
    }

    private static Bed arm32(KernelVersion v) {
        return new Bed(TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, v, ""));
    }

    // ---------------------------------------------------------------------------------------------------------
    // arm64 arch_sync_dma_for_device

    @ParameterizedTest
    @EnumSource(
            value = Direction.class,
            names = {"TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"})
    void arm64From519CleansForEveryDirection(Direction dir) {
        // c50f11c6196f: dcache_clean_poc for all directions. L0..L3 written back and kept clean.
        Bed b = arm64(KernelVersion.V6_12);
        b.m.arch().syncDmaForDevice(b.page + START, SIZE, dir);
        b.expect("CCCCDDDD", "WWWW____");
        assertThat(b.discarded).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0", "5.4"})
    void arm64Before519InvalidatesFromDeviceBuffersKeepingPartialEdgeLines(String version) {
        // __dma_map_area(FROM_DEVICE) = __dma_inv_area: the partial L0 and L3 are cleaned+invalidated (the CPU's
        // bytes outside the buffer survive in DRAM); the whole L1 and L2 are invalidated, their dirty data lost.
        Bed b = arm64(KernelVersion.parse(version));
        b.m.arch().syncDmaForDevice(b.page + START, SIZE, Direction.FROM_DEVICE);
        b.expect("IIIIDDDD", "W__W____");
        assertThat(b.discarded).containsExactly(64L, 128L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0", "5.4"})
    void arm64Before519CleansTheOtherDirections(String version) {
        Bed b = arm64(KernelVersion.parse(version));
        b.m.arch().syncDmaForDevice(b.page + START, SIZE, Direction.TO_DEVICE);
        b.expect("CCCCDDDD", "WWWW____");
        Bed c = arm64(KernelVersion.parse(version));
        c.m.arch().syncDmaForDevice(c.page + START, SIZE, Direction.BIDIRECTIONAL);
        c.expect("CCCCDDDD", "WWWW____");
    }

    @Test
    void aLineAlignedRangeHasNoPartialEdges() {
        Bed b = arm64(KernelVersion.V5_4);
        b.m.arch().syncDmaForDevice(b.page + 64, 128, Direction.FROM_DEVICE);
        b.expect("DIIDDDDD", "________");
        assertThat(b.discarded).containsExactly(64L, 128L);
    }

    @Test
    void aRangeInsideOneLineIsCleanedAndInvalidated() {
        Bed b = arm64(KernelVersion.V5_4);
        b.m.arch().syncDmaForDevice(b.page + 70, 10, Direction.FROM_DEVICE);
        b.expect("DIDDDDDD", "_W______");
        assertThat(b.discarded).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // arm64 arch_sync_dma_for_cpu

    @ParameterizedTest
    @ValueSource(strings = {"5.0", "6.12"})
    void arm64ForCpuDoesNothingForToDevice(String version) {
        Bed b = arm64(KernelVersion.parse(version));
        b.m.arch().syncDmaForCpu(b.page + START, SIZE, Direction.TO_DEVICE);
        b.expect("DDDDDDDD", "________");
    }

    @ParameterizedTest
    @ValueSource(strings = {"FROM_DEVICE", "BIDIRECTIONAL"})
    void arm64ForCpuInvalidatesOtherwise(Direction dir) {
        for (KernelVersion v : List.of(KernelVersion.V5_0, KernelVersion.V6_12)) {
            Bed b = arm64(v);
            b.m.arch().syncDmaForCpu(b.page + START, SIZE, dir);
            b.expect("IIIIDDDD", "W__W____");
            assertThat(b.discarded).as("%s", v).containsExactly(64L, 128L);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // arm64 arch_dma_prep_coherent

    @Test
    void arm64PrepCoherentCleansOnlyIn612() {
        Bed b = arm64(KernelVersion.V6_12);
        b.m.arch().prepCoherent(b.page, 256);
        b.expect("CCCCDDDD", "WWWW____");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0", "5.4"})
    void arm64PrepCoherentCleansAndInvalidatesIn5x(String version) {
        // __dma_flush_area: clean+invalidate, nothing lost.
        Bed b = arm64(KernelVersion.parse(version));
        b.m.arch().prepCoherent(b.page, 256);
        b.expect("IIIIDDDD", "WWWW____");
        assertThat(b.discarded).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // arm32 (v7 caches): __dma_page_cpu_to_dev / __dma_page_dev_to_cpu

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.4", "6.12"})
    void arm32InvalidatesFromDeviceOnMapAndCleansOtherwise(String version) {
        Bed b = arm32(KernelVersion.parse(version));
        b.m.arch().syncDmaForDevice(b.page + START, SIZE, Direction.FROM_DEVICE);
        b.expect("IIIIDDDD", "W__W____");
        Bed c = arm32(KernelVersion.parse(version));
        c.m.arch().syncDmaForDevice(c.page + START, SIZE, Direction.TO_DEVICE);
        c.expect("CCCCDDDD", "WWWW____");
        Bed d = arm32(KernelVersion.parse(version));
        d.m.arch().syncDmaForDevice(d.page + START, SIZE, Direction.BIDIRECTIONAL);
        d.expect("CCCCDDDD", "WWWW____");
    }

    @Test
    void arm32ForCpuInvalidatesAllButToDevice() {
        Bed b = arm32(KernelVersion.V5_0);
        b.m.arch().syncDmaForCpu(b.page + START, SIZE, Direction.TO_DEVICE);
        b.expect("DDDDDDDD", "________");
        b.m.arch().syncDmaForCpu(b.page + START, SIZE, Direction.BIDIRECTIONAL);
        b.expect("IIIIDDDD", "W__W____");
    }

    @Test
    void arm32PrepCoherentCleansAndInvalidates() {
        Bed b = arm32(KernelVersion.V5_0);
        b.m.arch().prepCoherent(b.page, 256);
        b.expect("IIIIDDDD", "WWWW____");
    }

    @Test
    void archConstants() {
        Machine a64 = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Machine a64old = TestMachines.boot("arm64-noncoherent", KernelVersion.V5_4);
        Machine a32 = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, KernelVersion.V5_0, "");
        Machine x86 = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        assertThat(a64.arch().dmaMinAlign()).isEqualTo(128);
        assertThat(a64.arch().cacheLineSize()).isEqualTo(64);
        assertThat(a64.arch().directRemap()).isTrue();
        assertThat(a64.arch().bounceUnalignedKmalloc()).isTrue();
        assertThat(a64old.arch().bounceUnalignedKmalloc()).isFalse();
        assertThat(a64.arch().defaultCoherent()).isFalse();
        assertThat(a32.arch().dmaMinAlign()).isEqualTo(64);
        assertThat(a32.arch().archDmaAlloc()).isTrue();
        assertThat(a32.arch().directRemap()).isFalse();
        assertThat(x86.arch().dmaMinAlign())
                .as("dma_get_cache_alignment() without ARCH_DMA_MINALIGN")
                .isEqualTo(1);
        assertThat(x86.arch().defaultCoherent()).isTrue();
        assertThat(x86.caches().enabled())
                .as("all-coherent x86: transparent caches")
                .isFalse();
    }
}
