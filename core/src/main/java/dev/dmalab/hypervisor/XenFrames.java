package dev.dmalab.hypervisor;

/**
 * Xen's frame geometry ({@code XEN_PAGE_SHIFT}): 4 KiB machine and guest frames, on every architecture and under
 * every guest page size.
 */
public final class XenFrames {
    public static final int SHIFT = 12;
    public static final long SIZE = 1L << SHIFT;
    public static final long MASK = SIZE - 1;

    /** An invalid frame number ({@code INVALID_MFN} / {@code INVALID_P2M_ENTRY}). */
    public static final long INVALID = -1L;

    private XenFrames() {}

    /** The frame holding byte {@code addr}. */
    public static long frameOf(long addr) {
        return addr >>> SHIFT;
    }

    /** The first byte of frame {@code frame}. */
    public static long addrOf(long frame) {
        return frame << SHIFT;
    }
}
