package dev.dmalab.dma;

/**
 * GFP flags ({@code include/linux/gfp_types.h}, 6.12 bit layout) and their trace decoding ({@code
 * show_gfp_flags}, {@code include/trace/events/mmflags.h} as of 6.12, where composite names come first and
 * {@code __GFP_NOWARN} precedes {@code __GFP_ZERO}).
 */
public final class Gfp {
    public static final int DMA = 1 << 0;
    public static final int HIGHMEM = 1 << 1;
    public static final int DMA32 = 1 << 2;
    public static final int MOVABLE = 1 << 3;
    public static final int RECLAIMABLE = 1 << 4;
    public static final int HIGH = 1 << 5;
    public static final int IO = 1 << 6;
    public static final int FS = 1 << 7;
    public static final int ZERO = 1 << 8;
    public static final int DIRECT_RECLAIM = 1 << 10;
    public static final int KSWAPD_RECLAIM = 1 << 11;
    public static final int WRITE = 1 << 12;
    public static final int NOWARN = 1 << 13;
    public static final int RETRY_MAYFAIL = 1 << 14;
    public static final int NOFAIL = 1 << 15;
    public static final int NORETRY = 1 << 16;
    public static final int MEMALLOC = 1 << 17;
    public static final int COMP = 1 << 18;
    public static final int NOMEMALLOC = 1 << 19;
    public static final int HARDWALL = 1 << 20;
    public static final int THISNODE = 1 << 21;
    public static final int ACCOUNT = 1 << 22;
    public static final int ZEROTAGS = 1 << 23;

    public static final int RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    public static final int GFP_ATOMIC = HIGH | KSWAPD_RECLAIM;
    public static final int GFP_KERNEL = RECLAIM | IO | FS;
    public static final int GFP_KERNEL_ACCOUNT = GFP_KERNEL | ACCOUNT;
    public static final int GFP_NOWAIT = KSWAPD_RECLAIM;
    public static final int GFP_NOIO = RECLAIM;
    public static final int GFP_NOFS = RECLAIM | IO;
    public static final int GFP_USER = RECLAIM | IO | FS | HARDWALL;
    public static final int GFP_DMA = DMA;
    public static final int GFP_DMA32 = DMA32;
    public static final int GFP_HIGHUSER = GFP_USER | HIGHMEM;
    public static final int GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | MOVABLE;
    public static final int GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | COMP | NOMEMALLOC | NOWARN) & ~RECLAIM;
    public static final int GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | DIRECT_RECLAIM;

    /** The zone modifiers {@code dma_alloc_attrs} strips before dispatch. */
    public static final int ZONE_MASK = DMA | DMA32 | HIGHMEM;

    private static final long[] MASKS = {
        GFP_TRANSHUGE,
        GFP_TRANSHUGE_LIGHT,
        GFP_HIGHUSER_MOVABLE,
        GFP_HIGHUSER,
        GFP_USER,
        GFP_KERNEL_ACCOUNT,
        GFP_KERNEL,
        GFP_NOFS,
        GFP_ATOMIC,
        GFP_NOIO,
        GFP_NOWAIT,
        GFP_DMA,
        HIGHMEM,
        GFP_DMA32,
        HIGH,
        IO,
        FS,
        NOWARN,
        RETRY_MAYFAIL,
        NOFAIL,
        NORETRY,
        COMP,
        ZERO,
        NOMEMALLOC,
        MEMALLOC,
        HARDWALL,
        THISNODE,
        RECLAIMABLE,
        MOVABLE,
        ACCOUNT,
        WRITE,
        RECLAIM,
        DIRECT_RECLAIM,
        KSWAPD_RECLAIM,
        ZEROTAGS
    };
    private static final String[] NAMES = {
        "GFP_TRANSHUGE",
        "GFP_TRANSHUGE_LIGHT",
        "GFP_HIGHUSER_MOVABLE",
        "GFP_HIGHUSER",
        "GFP_USER",
        "GFP_KERNEL_ACCOUNT",
        "GFP_KERNEL",
        "GFP_NOFS",
        "GFP_ATOMIC",
        "GFP_NOIO",
        "GFP_NOWAIT",
        "GFP_DMA",
        "__GFP_HIGHMEM",
        "GFP_DMA32",
        "__GFP_HIGH",
        "__GFP_IO",
        "__GFP_FS",
        "__GFP_NOWARN",
        "__GFP_RETRY_MAYFAIL",
        "__GFP_NOFAIL",
        "__GFP_NORETRY",
        "__GFP_COMP",
        "__GFP_ZERO",
        "__GFP_NOMEMALLOC",
        "__GFP_MEMALLOC",
        "__GFP_HARDWALL",
        "__GFP_THISNODE",
        "__GFP_RECLAIMABLE",
        "__GFP_MOVABLE",
        "__GFP_ACCOUNT",
        "__GFP_WRITE",
        "__GFP_RECLAIM",
        "__GFP_DIRECT_RECLAIM",
        "__GFP_KSWAPD_RECLAIM",
        "__GFP_ZEROTAGS"
    };

    private Gfp() {}

    /** {@code show_gfp_flags(gfp)} as 6.12 prints it; {@code none} for 0. */
    public static String traceString(int gfp) {
        return TraceFlags.print(gfp & 0xffffffffL, MASKS, NAMES, "none");
    }

    /** {@code gfpflags_allow_blocking(gfp)}. */
    public static boolean allowsBlocking(int gfp) {
        return (gfp & DIRECT_RECLAIM) != 0;
    }

    /** Parses {@code GFP_KERNEL|__GFP_NOWARN} as the trace prints it. */
    public static int parse(String text) {
        String t = text.trim();
        if (t.isEmpty() || t.equals("none")) {
            return 0;
        }
        int gfp = 0;
        for (String part : t.split("\\|")) {
            String name = part.trim();
            if (name.startsWith("0x")) {
                gfp |= (int) Long.parseLong(name.substring(2), 16);
                continue;
            }
            int found = -1;
            for (int i = 0; i < NAMES.length; i++) {
                if (NAMES[i].equals(name)) {
                    found = (int) MASKS[i];
                    break;
                }
            }
            if (found < 0) {
                throw new IllegalArgumentException("unknown GFP flag '" + name + "'");
            }
            gfp |= found;
        }
        return gfp;
    }
}
