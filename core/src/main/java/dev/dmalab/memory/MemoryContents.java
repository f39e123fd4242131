package dev.dmalab.memory;

import dev.dmalab.util.LongLongMap;
import java.util.Arrays;

/**
 * The bytes held at physical addresses, stored sparsely in 4 KiB chunks. A chunk materialises on its first
 * write; reading memory that was never written yields zeros (which is what freshly zeroed RAM reads as, and is
 * deterministic). Reads and writes of materialised chunks allocate nothing.
 *
 * <p>This is the contents of DRAM (and of device memory behind MMIO ranges) at the point of coherency, i.e.
 * <em>without</em> the CPU caches; see {@code dev.dmalab.cache} for the CPU's view.
 */
public final class MemoryContents {
    static final int CHUNK_SHIFT = 12;
    static final int CHUNK_BYTES = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = CHUNK_BYTES - 1;

    private final LongLongMap index = new LongLongMap(4096, -1);
    private byte[][] chunks = new byte[256][];
    private int chunkCount;

    /** Number of materialised 4 KiB chunks (for tests and statistics). */
    public int materialisedChunks() {
        return chunkCount;
    }

    private byte[] chunkForRead(long chunkNo) {
        long slot = index.get(chunkNo);
        return slot < 0 ? null : chunks[(int) slot];
    }

    private byte[] chunkForWrite(long chunkNo) {
        long slot = index.get(chunkNo);
        if (slot >= 0) {
            return chunks[(int) slot];
        }
        if (chunkCount == chunks.length) {
            chunks = Arrays.copyOf(chunks, chunks.length * 2);
        }
        byte[] chunk = new byte[CHUNK_BYTES];
        chunks[chunkCount] = chunk;
        index.put(chunkNo, chunkCount);
        chunkCount++;
        return chunk;
    }

    /** Copies {@code len} bytes at {@code pa} into {@code dst[off..]}. */
    public void read(long pa, byte[] dst, int off, int len) {
        while (len > 0) {
            int inChunk = (int) (pa & CHUNK_MASK);
            int n = Math.min(len, CHUNK_BYTES - inChunk);
            byte[] chunk = chunkForRead(pa >>> CHUNK_SHIFT);
            if (chunk == null) {
                Arrays.fill(dst, off, off + n, (byte) 0);
            } else {
                System.arraycopy(chunk, inChunk, dst, off, n);
            }
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** Stores {@code src[off..off+len)} at {@code pa}. */
    public void write(long pa, byte[] src, int off, int len) {
        while (len > 0) {
            int inChunk = (int) (pa & CHUNK_MASK);
            int n = Math.min(len, CHUNK_BYTES - inChunk);
            System.arraycopy(src, off, chunkForWrite(pa >>> CHUNK_SHIFT), inChunk, n);
            pa += n;
            off += n;
            len -= n;
        }
    }

    public byte readByte(long pa) {
        byte[] chunk = chunkForRead(pa >>> CHUNK_SHIFT);
        return chunk == null ? 0 : chunk[(int) (pa & CHUNK_MASK)];
    }

    public void writeByte(long pa, byte value) {
        chunkForWrite(pa >>> CHUNK_SHIFT)[(int) (pa & CHUNK_MASK)] = value;
    }

    /** Sets {@code len} bytes at {@code pa} to {@code value}; zero-filling never-written memory is free. */
    public void fill(long pa, long len, byte value) {
        while (len > 0) {
            int inChunk = (int) (pa & CHUNK_MASK);
            int n = (int) Math.min(len, CHUNK_BYTES - inChunk);
            if (value == 0) {
                byte[] chunk = chunkForRead(pa >>> CHUNK_SHIFT);
                if (chunk != null) {
                    Arrays.fill(chunk, inChunk, inChunk + n, (byte) 0);
                }
            } else {
                Arrays.fill(chunkForWrite(pa >>> CHUNK_SHIFT), inChunk, inChunk + n, value);
            }
            pa += n;
            len -= n;
        }
    }

    /**
     * Copies {@code len} bytes from {@code srcPa} to {@code dstPa} (regions must not overlap), chunk by chunk,
     * without a temporary buffer.
     */
    public void copy(long srcPa, long dstPa, long len) {
        while (len > 0) {
            int srcIn = (int) (srcPa & CHUNK_MASK);
            int dstIn = (int) (dstPa & CHUNK_MASK);
            int n = (int) Math.min(len, Math.min(CHUNK_BYTES - srcIn, CHUNK_BYTES - dstIn));
            byte[] src = chunkForRead(srcPa >>> CHUNK_SHIFT);
            if (src == null) {
                byte[] dst = chunkForRead(dstPa >>> CHUNK_SHIFT);
                if (dst != null) {
                    Arrays.fill(dst, dstIn, dstIn + n, (byte) 0);
                }
            } else {
                System.arraycopy(src, srcIn, chunkForWrite(dstPa >>> CHUNK_SHIFT), dstIn, n);
            }
            srcPa += n;
            dstPa += n;
            len -= n;
        }
    }
}
