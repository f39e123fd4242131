package dev.dmalab.dma;

import dev.dmalab.kernel.KernelVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code DMA_ATTR_*} bits ({@code include/linux/dma-mapping.h}), as a {@code long} bit set so that passing attrs
 * allocates nothing. Bit positions are stable across versions; some attributes exist only in some versions (spec
 * §0).
 */
public final class DmaAttrs {
    public static final long NONE = 0;
    /** Bit 0; removed by 5.10. */
    public static final long WRITE_BARRIER = 1L << 0;

    public static final long WEAK_ORDERING = 1L << 1;
    public static final long WRITE_COMBINE = 1L << 2;
    /** Bit 3; removed in 5.10. */
    public static final long NON_CONSISTENT = 1L << 3;

    public static final long NO_KERNEL_MAPPING = 1L << 4;
    public static final long SKIP_CPU_SYNC = 1L << 5;
    public static final long FORCE_CONTIGUOUS = 1L << 6;
    public static final long ALLOC_SINGLE_PAGES = 1L << 7;
    public static final long NO_WARN = 1L << 8;
    public static final long PRIVILEGED = 1L << 9;
    /** Bit 10, 6.17+: the address is MMIO, not RAM ({@code dma_map_resource} became {@code dma_map_phys} with it). */
    public static final long MMIO = 1L << 10;

    /** The flags the {@code dma:*} tracepoints decode, in print order (spec §6.1; MMIO from 6.17). */
    private static final long[] TRACE_BITS = {
        WEAK_ORDERING,
        WRITE_COMBINE,
        NO_KERNEL_MAPPING,
        SKIP_CPU_SYNC,
        FORCE_CONTIGUOUS,
        ALLOC_SINGLE_PAGES,
        NO_WARN,
        PRIVILEGED,
        MMIO
    };

    private static final String[] TRACE_NAMES = {
        "WEAK_ORDERING",
        "WRITE_COMBINE",
        "NO_KERNEL_MAPPING",
        "SKIP_CPU_SYNC",
        "FORCE_CONTIGUOUS",
        "ALLOC_SINGLE_PAGES",
        "NO_WARN",
        "PRIVILEGED",
        "MMIO"
    };

    private DmaAttrs() {}

    public static boolean has(long attrs, long bit) {
        return (attrs & bit) != 0;
    }

    /**
     * The attrs as {@code __print_flags(attrs, "|", ...)} prints them in the dma tracepoints: names without the
     * {@code DMA_ATTR_} prefix in table order, then any undecoded bits as {@code 0x...}; empty for 0.
     */
    public static String traceString(long attrs) {
        return TraceFlags.print(attrs, TRACE_BITS, TRACE_NAMES, "");
    }

    /** Parses {@code SKIP_CPU_SYNC|NO_WARN} (with or without the DMA_ATTR_ prefix); empty is 0. */
    public static long parse(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return 0;
        }
        long attrs = 0;
        for (String part : t.split("\\|")) {
            String name = part.trim();
            if (name.startsWith("DMA_ATTR_")) {
                name = name.substring("DMA_ATTR_".length());
            }
            if (name.startsWith("0x")) {
                attrs |= Long.parseUnsignedLong(name.substring(2), 16);
                continue;
            }
            long bit = bitOf(name);
            if (bit == 0) {
                throw new IllegalArgumentException("unknown DMA attribute '" + part.trim() + "'");
            }
            attrs |= bit;
        }
        return attrs;
    }

    private static long bitOf(String name) {
        for (int i = 0; i < TRACE_NAMES.length; i++) {
            if (TRACE_NAMES[i].equals(name)) {
                return TRACE_BITS[i];
            }
        }
        return switch (name) {
            case "WRITE_BARRIER" -> WRITE_BARRIER;
            case "NON_CONSISTENT" -> NON_CONSISTENT;
            default -> 0;
        };
    }

    /** Names of the attributes that do not exist in {@code version}, for validation messages. */
    public static List<String> unsupportedIn(long attrs, KernelVersion version) {
        List<String> out = new ArrayList<>();
        boolean modern = version.has(dev.dmalab.kernel.Feature.DMA_RANGE_MAP); // 5.10 removed both
        if (modern && has(attrs, WRITE_BARRIER)) {
            out.add("WRITE_BARRIER");
        }
        if (modern && has(attrs, NON_CONSISTENT)) {
            out.add("NON_CONSISTENT");
        }
        if (has(attrs, MMIO)) {
            out.add("MMIO"); // 6.17+: newer than every modelled kernel (traces of newer kernels print it)
        }
        return out;
    }
}
