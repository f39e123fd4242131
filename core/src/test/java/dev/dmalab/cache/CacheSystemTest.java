package dev.dmalab.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.memory.MemoryContents;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.PhysicalMemoryMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU caches as DMA sees them: write-back lines with real bytes, maintenance by range on every CPU, coherent
 * snooping vs. non-coherent DRAM-only device accesses, LRU eviction, migration between CPUs, next-line
 * speculation, non-cacheable accesses and transparent mode.
 */
class CacheSystemTest {
    private static final long RAM_END = 1L << 20; // 1 MiB of RAM at 0

    private final MemoryContents memory = new MemoryContents();
    private final PhysicalMemoryMap map =
            PhysicalMemoryMap.builder(PageSize.SIZE_4K).ram(0, RAM_END).build();
    private final List<String> observed = new ArrayList<>();

    private CacheSystem caches(int cpus, CacheGeometry g, boolean enabled, SpeculativeFill spec) {
        CacheSystem c = new CacheSystem(memory, map, cpus, g, enabled, spec);
        c.setObserver(new CacheObserver() {
            @Override
            public void onWriteBack(int cpu, long lineAddr) {
                observed.add("wb " + cpu + " " + Long.toHexString(lineAddr));
            }

            @Override
            public void onDirtyDiscarded(int cpu, long lineAddr) {
                observed.add("lost " + cpu + " " + Long.toHexString(lineAddr));
            }
        });
        return c;
    }

    private CacheSystem caches() {
        return caches(2, CacheGeometry.DEFAULT, true, SpeculativeFill.NONE);
    }

    private static byte[] bytes(int len, int value) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] cpuRead(CacheSystem c, int cpu, long pa, int len) {
        byte[] b = new byte[len];
        c.cpuRead(cpu, pa, b, 0, len, MemAttr.NORMAL_WB);
        return b;
    }

    private static void cpuWrite(CacheSystem c, int cpu, long pa, byte[] data) {
        c.cpuWrite(cpu, pa, data, 0, data.length, MemAttr.NORMAL_WB);
    }

    private static byte[] deviceRead(CacheSystem c, long pa, int len, boolean coherent) {
        byte[] b = new byte[len];
        c.deviceRead(pa, b, 0, len, coherent);
        return b;
    }

    private byte[] dram(long pa, int len) {
        byte[] b = new byte[len];
        memory.read(pa, b, 0, len);
        return b;
    }

    @Test
    void aNonCoherentDeviceWriteLeavesACachedCleanLineStale() {
        CacheSystem c = caches();
        memory.write(0x1000, bytes(64, 1), 0, 64);
        assertThat(cpuRead(c, 0, 0x1000, 64)).isEqualTo(bytes(64, 1)); // now cached, clean
        assertThat(c.lineState(0x1000)).isEqualTo(LineState.CLEAN);

        c.deviceWrite(0x1000, bytes(64, 2), 0, 64, false);

        assertThat(dram(0x1000, 64)).isEqualTo(bytes(64, 2));
        assertThat(cpuRead(c, 0, 0x1000, 64)).as("stale").isEqualTo(bytes(64, 1));
        assertThat(c.cpuViewDiffersFromMemory(0x1000, 64)).isTrue();
        c.invalidate(0x1000, 64);
        assertThat(cpuRead(c, 0, 0x1000, 64)).isEqualTo(bytes(64, 2));
        assertThat(observed).as("a clean line is dropped silently").isEmpty();
    }

    @Test
    void cleanMakesDirtyDataVisibleToANonCoherentDevice() {
        CacheSystem c = caches();
        cpuWrite(c, 1, 0x2000, bytes(100, 3)); // lines 0x2000 and 0x2040, dirty on CPU 1

        assertThat(deviceRead(c, 0x2000, 100, false)).as("DRAM only").isEqualTo(bytes(100, 0));
        c.clean(0x2010, 1); // one byte of the first line: the whole line is cleaned
        assertThat(deviceRead(c, 0x2000, 64, false)).isEqualTo(bytes(64, 3));
        assertThat(deviceRead(c, 0x2040, 36, false))
                .as("second line still dirty")
                .isEqualTo(bytes(36, 0));
        c.clean(0x2000, 100);

        assertThat(deviceRead(c, 0x2000, 100, false)).isEqualTo(bytes(100, 3));
        assertThat(c.lineState(0x2000)).isEqualTo(LineState.CLEAN);
        assertThat(c.lineState(0x2040)).isEqualTo(LineState.CLEAN);
        assertThat(c.writeBacks()).isEqualTo(2);
        assertThat(observed).containsExactly("wb 1 2000", "wb 1 2040");
    }

    @Test
    void invalidateDiscardsDirtyData() {
        CacheSystem c = caches();
        memory.write(0x3000, bytes(64, 4), 0, 64);
        cpuWrite(c, 0, 0x3000, bytes(8, 5));

        c.invalidate(0x3000, 64);

        assertThat(observed).containsExactly("lost 0 3000");
        assertThat(c.lineState(0x3000)).isEqualTo(LineState.INVALID);
        assertThat(cpuRead(c, 0, 0x3000, 64)).as("the CPU's write is gone").isEqualTo(bytes(64, 4));
    }

    @Test
    void cleanInvalidateWritesBackThenDrops() {
        CacheSystem c = caches();
        cpuWrite(c, 0, 0x3000, bytes(64, 6));
        c.cleanInvalidate(0x3000, 64);
        assertThat(c.lineState(0x3000)).isEqualTo(LineState.INVALID);
        assertThat(dram(0x3000, 64)).isEqualTo(bytes(64, 6));
        assertThat(observed).containsExactly("wb 0 3000");
    }

    @Test
    void aCoherentDeviceReadSnoopsDirtyLines() {
        CacheSystem c = caches();
        cpuWrite(c, 1, 0x4000, bytes(64, 7));

        assertThat(deviceRead(c, 0x4000, 64, true)).isEqualTo(bytes(64, 7));
        assertThat(deviceRead(c, 0x4000, 64, false)).isEqualTo(bytes(64, 0));
        assertThat(c.lineState(0x4000))
                .as("a snoop does not take the line away")
                .isEqualTo(LineState.DIRTY);
    }

    @Test
    void aCoherentDeviceWriteToAPartialDirtyLineKeepsTheCpusOtherBytes() {
        CacheSystem c = caches();
        cpuWrite(c, 0, 0x5000, bytes(64, 8));

        c.deviceWrite(0x5010, bytes(16, 9), 0, 16, true);

        byte[] expected = bytes(64, 8);
        Arrays.fill(expected, 16, 32, (byte) 9);
        assertThat(c.lineState(0x5000)).isEqualTo(LineState.INVALID);
        assertThat(dram(0x5000, 64)).isEqualTo(expected);
        assertThat(cpuRead(c, 0, 0x5000, 64)).isEqualTo(expected);
    }

    @Test
    void lruEvictionWritesDirtyLinesBack() {
        // One set of two ways: every line competes for the same two slots.
        CacheSystem c = caches(1, new CacheGeometry(64, 128, 2), true, SpeculativeFill.NONE);
        cpuWrite(c, 0, 0x0000, bytes(64, 1)); // A dirty
        cpuRead(c, 0, 0x1000, 1); // B clean
        cpuRead(c, 0, 0x0000, 1); // A used again: B is now the LRU
        cpuRead(c, 0, 0x2000, 1); // C evicts B (clean: no write-back)
        assertThat(c.lineState(0x1000)).isEqualTo(LineState.INVALID);
        assertThat(observed).isEmpty();

        cpuRead(c, 0, 0x3000, 1); // D evicts A, the LRU now, which is dirty

        assertThat(c.lineState(0x0000)).isEqualTo(LineState.INVALID);
        assertThat(observed).containsExactly("wb 0 0");
        assertThat(dram(0x0000, 64)).isEqualTo(bytes(64, 1));
    }

    @Test
    void linesMigrateBetweenCpusWithTheirDataAndState() {
        CacheSystem c = caches();
        cpuWrite(c, 0, 0x6000, bytes(64, 10));
        assertThat(c.ownerCpu(0x6000)).isEqualTo(0);

        assertThat(cpuRead(c, 1, 0x6000, 64)).isEqualTo(bytes(64, 10));

        assertThat(c.ownerCpu(0x6000)).isEqualTo(1);
        assertThat(c.lineState(0x6000)).isEqualTo(LineState.DIRTY);
        assertThat(dram(0x6000, 64)).as("no write-back on migration").isEqualTo(bytes(64, 0));
        // Maintenance is broadcast: CPU 1's dirty line is cleaned whoever asks.
        c.clean(0x6000, 64);
        assertThat(dram(0x6000, 64)).isEqualTo(bytes(64, 10));
    }

    @Test
    void nextLineSpeculationFillsTheFollowingLineOnAReadMiss() {
        CacheSystem c = caches(1, CacheGeometry.DEFAULT, true, SpeculativeFill.NEXT_LINE);
        memory.write(0x7040, bytes(64, 11), 0, 64);

        cpuRead(c, 0, 0x7000, 1);

        assertThat(c.lineState(0x7040)).isEqualTo(LineState.CLEAN);
        assertThat(c.speculativeFills()).isEqualTo(1);
        c.deviceWrite(0x7040, bytes(64, 12), 0, 64, false); // the device fills the buffer after the prefetch
        assertThat(cpuRead(c, 0, 0x7040, 64)).as("the prefetched line is stale").isEqualTo(bytes(64, 11));
        assertThat(c.readHits()).isEqualTo(1);
        assertThat(c.readMisses()).isEqualTo(1);

        cpuRead(c, 0, RAM_END - 64, 1); // the next line is not RAM: nothing to prefetch
        assertThat(c.speculativeFills()).isEqualTo(1);
        cpuRead(c, 0, 0x7040, 1); // a hit does not prefetch
        assertThat(c.lineState(0x7080)).isEqualTo(LineState.INVALID);
    }

    @Test
    void withoutSpeculationOnlyTouchedLinesAreFilled() {
        CacheSystem c = caches();
        cpuRead(c, 0, 0x7000, 1);
        assertThat(c.lineState(0x7040)).isEqualTo(LineState.INVALID);
        assertThat(c.speculativeFills()).isZero();
    }

    @Test
    void transparentModeIgnoresCachesAndMaintenance() {
        CacheSystem c = caches(2, CacheGeometry.DEFAULT, false, SpeculativeFill.NEXT_LINE);
        cpuWrite(c, 0, 0x8000, bytes(64, 13));

        assertThat(dram(0x8000, 64)).isEqualTo(bytes(64, 13));
        c.invalidate(0x8000, 64);
        assertThat(cpuRead(c, 1, 0x8000, 64)).as("invalidate is a no-op").isEqualTo(bytes(64, 13));
        c.deviceWrite(0x8000, bytes(64, 14), 0, 64, false);
        assertThat(cpuRead(c, 0, 0x8000, 64)).isEqualTo(bytes(64, 14));
        assertThat(c.lineState(0x8000)).isEqualTo(LineState.INVALID);
        assertThat(c.ownerCpu(0x8000)).isEqualTo(-1);
        assertThat(c.cpuViewDiffersFromMemory(0x8000, 64)).isFalse();
        assertThat(observed).isEmpty();
    }

    @Test
    void nonCacheableAccessesBypassTheCacheSoAliasesCanDisagree() {
        CacheSystem c = caches();
        cpuWrite(c, 0, 0x9000, bytes(64, 15)); // dirty through the cacheable alias

        byte[] nc = new byte[64];
        c.cpuRead(0, 0x9000, nc, 0, 64, MemAttr.NORMAL_NC);
        assertThat(nc).as("the NC alias reads DRAM").isEqualTo(bytes(64, 0));
        c.cpuWrite(0, 0x9000, bytes(64, 16), 0, 64, MemAttr.NORMAL_NC);
        assertThat(dram(0x9000, 64)).isEqualTo(bytes(64, 16));
        assertThat(cpuRead(c, 0, 0x9000, 64))
                .as("the cacheable alias still has its line")
                .isEqualTo(bytes(64, 15));

        c.clean(0x9000, 64); // the hazard: the stale dirty line overwrites the NC write
        assertThat(dram(0x9000, 64)).isEqualTo(bytes(64, 15));
        byte[] dev = new byte[8];
        c.cpuRead(0, 0x10000, dev, 0, 8, MemAttr.DEVICE);
        assertThat(c.lineState(0x10000)).isEqualTo(LineState.INVALID);
    }

    @Test
    void fillAndCopyGoThroughTheCacheByLine() {
        CacheSystem c = caches();
        c.cpuFill(0, 0xa000, 100, (byte) 17, MemAttr.NORMAL_WB);
        assertThat(c.lineState(0xa040)).isEqualTo(LineState.DIRTY);
        assertThat(dram(0xa000, 100)).isEqualTo(bytes(100, 0));

        c.cpuCopy(0, 0xa000, MemAttr.NORMAL_WB, 0xb010, MemAttr.NORMAL_NC, 100);

        assertThat(dram(0xb010, 100)).as("NC destination written through").isEqualTo(bytes(100, 17));
        c.cpuCopy(1, 0xb010, MemAttr.NORMAL_NC, 0xc000, MemAttr.NORMAL_NC, 100);
        assertThat(dram(0xc000, 100)).isEqualTo(bytes(100, 17));
    }

    @Test
    void geometryAndCpuNumbersAreValidated() {
        assertThatThrownBy(() -> new CacheGeometry(48, 64 * 1024, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CacheGeometry(64, 64 * 1024, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CacheGeometry(64, 3 * 64 * 4, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power-of-two number of sets");
        assertThat(CacheGeometry.DEFAULT.sets()).isEqualTo(256);
        assertThat(CacheGeometry.DEFAULT.lineShift()).isEqualTo(6);
        assertThatThrownBy(() -> caches(0, CacheGeometry.DEFAULT, true, SpeculativeFill.NONE))
                .isInstanceOf(IllegalArgumentException.class);
        CacheSystem c = caches();
        assertThatThrownBy(() -> cpuRead(c, 2, 0, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CPU 2 does not exist");
    }
}
