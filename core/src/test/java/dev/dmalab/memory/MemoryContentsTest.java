package dev.dmalab.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.testing.Seeds;
import dev.dmalab.util.SeededRandom;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Sparse physical bytes: zero reads without materialising, chunk-crossing reads, writes, copies and fills. */
class MemoryContentsTest {
    static byte[] pattern(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 13 + salt);
        }
        return b;
    }

    static byte[] read(MemoryContents mc, long pa, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 0x5a); // stale destination content must be overwritten
        mc.read(pa, b, 0, n);
        return b;
    }

    @Test
    void neverWrittenMemoryReadsAsZeroAndStaysSparse() {
        MemoryContents mc = new MemoryContents();
        assertThat(read(mc, 0x1234_5678L, 10000)).containsOnly(0);
        assertThat(mc.readByte(0xffff_f000L)).isZero();
        mc.fill(0x10_0000, 3 * 4096 + 5, (byte) 0); // zero-filling unwritten memory is free
        mc.copy(0x20_0000, 0x30_0000, 8192); // copying unwritten memory onto unwritten memory too
        assertThat(mc.materialisedChunks()).isZero();
    }

    @Test
    void writesAndReadsCrossChunkBoundaries() {
        MemoryContents mc = new MemoryContents();
        byte[] data = pattern(10000, 3);
        long pa = 0x10_0000 - 100; // starts 100 bytes before a chunk boundary, spans 4 chunks
        mc.write(pa, data, 0, data.length);
        assertThat(mc.materialisedChunks()).isEqualTo(4);
        assertThat(read(mc, pa, data.length)).isEqualTo(data);
        // A read window wider than the write: zeros around it.
        byte[] wide = read(mc, pa - 50, data.length + 100);
        assertThat(Arrays.copyOfRange(wide, 0, 50)).containsOnly(0);
        assertThat(Arrays.copyOfRange(wide, 50, 50 + data.length)).isEqualTo(data);
        assertThat(Arrays.copyOfRange(wide, 50 + data.length, wide.length)).containsOnly(0);
        assertThat(mc.readByte(pa + 100)).isEqualTo(data[100]);
        // Offsets within the source array are honoured.
        mc.write(0x50_0000, data, 7, 20);
        assertThat(read(mc, 0x50_0000, 20)).isEqualTo(Arrays.copyOfRange(data, 7, 27));
        byte[] dst = new byte[30];
        mc.read(0x50_0000, dst, 10, 20);
        assertThat(Arrays.copyOfRange(dst, 10, 30)).isEqualTo(Arrays.copyOfRange(data, 7, 27));
        assertThat(Arrays.copyOfRange(dst, 0, 10)).containsOnly(0);
    }

    @Test
    void singleBytes() {
        MemoryContents mc = new MemoryContents();
        mc.writeByte(0xfff, (byte) 0x11);
        mc.writeByte(0x1000, (byte) 0x22);
        assertThat(mc.readByte(0xfff)).isEqualTo((byte) 0x11);
        assertThat(mc.readByte(0x1000)).isEqualTo((byte) 0x22);
        assertThat(mc.readByte(0xffe)).isZero();
        assertThat(mc.materialisedChunks()).isEqualTo(2);
    }

    @Test
    void fillSetsBytesAcrossChunksAndZeroFillClearsWrittenOnes() {
        MemoryContents mc = new MemoryContents();
        mc.fill(0x1ff0, 0x2020, (byte) 0xab); // 0x1ff0..0x400f: chunks 1, 2, 3, 4
        assertThat(mc.materialisedChunks()).isEqualTo(4);
        assertThat(read(mc, 0x1ff0, 0x2020)).containsOnly((byte) 0xab);
        assertThat(mc.readByte(0x1fef)).isZero();
        assertThat(mc.readByte(0x4010)).isZero();
        mc.fill(0x2000, 0x1000, (byte) 0);
        assertThat(read(mc, 0x2000, 0x1000)).containsOnly(0);
        assertThat(mc.readByte(0x1fff)).isEqualTo((byte) 0xab);
        assertThat(mc.readByte(0x3000)).isEqualTo((byte) 0xab);
    }

    @Test
    void copyMovesBytesBetweenDifferentlyAlignedRanges() {
        MemoryContents mc = new MemoryContents();
        byte[] data = pattern(9000, 5);
        mc.write(0x1_0010, data, 0, data.length);
        mc.copy(0x1_0010, 0x8_0ff0, data.length); // source and destination chunk offsets differ
        assertThat(read(mc, 0x8_0ff0, data.length)).isEqualTo(data);
        assertThat(mc.readByte(0x8_0fef)).isZero();
        // Copying never-written memory over written memory zeroes it.
        mc.copy(0x90_0000, 0x8_0ff0 + 100, 5000);
        byte[] expect = data.clone();
        Arrays.fill(expect, 100, 5100, (byte) 0);
        assertThat(read(mc, 0x8_0ff0, data.length)).isEqualTo(expect);
        // ... without materialising the source.
        assertThat(mc.readByte(0x90_0000)).isZero();
    }

    @Test
    void manyChunksGrowTheStore() {
        MemoryContents mc = new MemoryContents();
        for (int i = 0; i < 1000; i++) {
            mc.writeByte((long) i << 20, (byte) i);
        }
        assertThat(mc.materialisedChunks()).isEqualTo(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(mc.readByte((long) i << 20)).isEqualTo((byte) i);
        }
    }

    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    /** Random reads, writes, fills and copies in a 40 KiB window, compared with a flat array after every step. */
    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void behavesLikeAFlatArray(long seed) {
        SeededRandom rnd = Seeds.random("MemoryContentsTest.flat", seed);
        int window = 40 * 1024;
        long base = 0x7fff_f000L - 0x800; // not chunk aligned
        byte[] flat = new byte[window];
        MemoryContents mc = new MemoryContents();
        for (int step = 0; step < 1500; step++) {
            int off = rnd.nextInt(window);
            int len = rnd.nextInt(0, Math.min(window - off, 9000) + 1);
            int op = rnd.nextInt(5);
            String ctx = "seed=" + seed + " step=" + step + " op=" + op + " off=" + off + " len=" + len;
            switch (op) {
                case 0 -> {
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    mc.write(base + off, data, 0, len);
                    System.arraycopy(data, 0, flat, off, len);
                }
                case 1 -> {
                    byte value = rnd.nextInt(4) == 0 ? 0 : (byte) rnd.nextInt(256);
                    mc.fill(base + off, len, value);
                    Arrays.fill(flat, off, off + len, value);
                }
                case 2 -> {
                    // A non-overlapping destination.
                    int dst = rnd.nextInt(window - len + 1);
                    if (dst < off + len && off < dst + len) {
                        continue;
                    }
                    mc.copy(base + off, base + dst, len);
                    System.arraycopy(flat, off, flat, dst, len);
                }
                case 3 -> {
                    byte v = (byte) rnd.nextInt(256);
                    mc.writeByte(base + off, v);
                    flat[off] = v;
                }
                default -> assertThat(read(mc, base + off, len))
                        .as(ctx)
                        .isEqualTo(Arrays.copyOfRange(flat, off, off + len));
            }
            if (step % 25 == 0) {
                assertThat(read(mc, base, window)).as(ctx).isEqualTo(flat);
            }
        }
        assertThat(read(mc, base, window)).as("seed=" + seed + " end").isEqualTo(flat);
        assertThat(read(mc, base - 4096, 4096)).as("seed=" + seed + " outside").containsOnly(0);
        assertThat(mc.materialisedChunks()).as("seed=" + seed).isLessThanOrEqualTo(window / 4096 + 1);
    }
}
