package dev.dmalab.swiotlb;

import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.memory.Memblock;
import dev.dmalab.util.Bits;

/**
 * Sets up the default swiotlb pool at boot: models {@code swiotlb_init_remap}, {@code swiotlb_adjust_size}, {@code
 * swiotlb_adjust_nareas}, {@code round_up_default_nslabs} and {@code limit_nareas} of 6.12, and {@code
 * swiotlb_init} of 5.x (validated-swiotlb C1, C2; swiotlb fact sheet B.2).
 *
 * <p>6.12: the size comes from {@code swiotlb=N}, else from the arch's adjustment (arm64: 1 MiB per GiB of RAM,
 * capped at 64 MiB), else 64 MiB; the area count from {@code swiotlb=N,A}, else the possible CPUs rounded up to a
 * power of two; the size is then raised to at least 128 slots per area and rounded up to a power of two; areas are
 * limited so that each has at least 128 slots; the pool is allocated page aligned from low memory, top-down,
 * halving on failure down to 512 slots. 5.x: one area, 32768 slots unless {@code swiotlb=N}.
 *
 * <p>The arch decides whether a pool exists ({@code addressingLimited}: x86 when RAM extends past 4 GiB, arm64 when
 * RAM extends past the DMA zone or always with CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC); {@code swiotlb=force} always
 * creates one.
 *
 * <p>A {@link Policy#fixedBase()} places the pool at a known address instead of memblock's top-down choice: the
 * pool base of a captured machine is known from its dmesg or derived from its trace (validated-swiotlb §2), while
 * memblock's real choice depends on early allocations the model does not replay.
 */
public final class SwiotlbBoot {
    /** {@code IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT}. */
    public static final long DEFAULT_NSLABS = (64L << 20) >>> IoTlbPool.IO_TLB_SHIFT;

    /** {@code IO_TLB_MIN_SLABS}. */
    public static final long MIN_SLABS = (1L << 20) >>> IoTlbPool.IO_TLB_SHIFT;

    /**
     * What the arch and platform contribute.
     *
     * @param addressingLimited the arch wants a pool (x86: RAM above 4 GiB; arm64: RAM above the DMA zone, or the
     *     kmalloc-bounce rule)
     * @param adjustSizeBytes the arch's {@code swiotlb_adjust_size()} request, 0 for none
     * @param verbose SWIOTLB_VERBOSE: print "mapped [mem ...]" at init (arm64 yes, x86 no)
     * @param lowLimit {@code ARCH_LOW_ADDRESS_LIMIT}, the last address {@code memblock_alloc_low} may use (the pool
     *     ends at or below it)
     * @param possibleCpus {@code num_possible_cpus()}
     * @param fixedBase the pool's address when known, or -1 to let memblock choose
     * @param noForceWithoutPool 5.x arm64: when no pool is needed, {@code swiotlb_force = SWIOTLB_NO_FORCE} (x86
     *     leaves the mode NORMAL with no pool)
     */
    public record Policy(
            boolean addressingLimited,
            long adjustSizeBytes,
            boolean verbose,
            long lowLimit,
            int possibleCpus,
            long fixedBase,
            boolean noForceWithoutPool) {
        /** A policy without the 5.x arm64 NO_FORCE rule. */
        public Policy(
                boolean addressingLimited,
                long adjustSizeBytes,
                boolean verbose,
                long lowLimit,
                int possibleCpus,
                long fixedBase) {
            this(addressingLimited, adjustSizeBytes, verbose, lowLimit, possibleCpus, fixedBase, false);
        }
    }

    /** The outcome: the instance (possibly without a pool) and the geometry chosen. */
    public record Result(IoTlbMem mem, long nslabs, int nareas, long base) {}

    private SwiotlbBoot() {}

    private static final String PR = "software IO TLB: ";

    /**
     * Runs the kernel's boot-time swiotlb setup.
     *
     * @throws IllegalArgumentException if a fixed base is not free RAM
     */
    public static Result boot(Kernel kernel, Memblock memblock, SwiotlbParams params, Policy policy, long pageSize) {
        return kernel.has(Feature.SWIOTLB_AREAS)
                ? boot612(kernel, memblock, params, policy, pageSize)
                : boot50(kernel, memblock, params, policy, pageSize);
    }

    private static Result boot612(Kernel kernel, Memblock memblock, SwiotlbParams params, Policy policy, long page) {
        long[] defaultNslabs = {params.nslabs() >= 0 ? params.nslabs() : DEFAULT_NSLABS};
        int[] defaultNareas = {0};
        if (params.nareas() >= 0) {
            adjustNareas(kernel, defaultNslabs, defaultNareas, params.nareas());
        }
        if (policy.adjustSizeBytes() > 0 && defaultNslabs[0] == DEFAULT_NSLABS) {
            long size = Bits.alignUp(policy.adjustSizeBytes(), IoTlbPool.IO_TLB_SIZE);
            defaultNslabs[0] = Bits.alignUp(size >>> IoTlbPool.IO_TLB_SHIFT, IoTlbPool.IO_TLB_SEGSIZE);
            if (roundUpDefaultNslabs(defaultNslabs, defaultNareas)) {
                size = defaultNslabs[0] << IoTlbPool.IO_TLB_SHIFT;
            }
            kernel.printk().info(PR + "SWIOTLB bounce buffer size adjusted to " + (size >>> 20) + "MB");
        }
        if (params.noforce() || (!policy.addressingLimited() && !params.force())) {
            return new Result(
                    new IoTlbMem(null, params.noforce() ? IoTlbMem.ForceMode.NO_FORCE : IoTlbMem.ForceMode.NORMAL),
                    0,
                    0,
                    -1);
        }
        if (defaultNareas[0] == 0) {
            adjustNareas(kernel, defaultNslabs, defaultNareas, policy.possibleCpus());
        }
        long nslabs = defaultNslabs[0];
        int nareas = limitNareas(defaultNareas[0], nslabs);
        long base;
        while (true) {
            base = place(memblock, policy, nslabs, page);
            if (base >= 0) {
                break;
            }
            kernel.printk()
                    .warn(PR + "swiotlb_memblock_alloc: Failed to allocate " + Bits.alignUp(nslabs << 11, page)
                            + " bytes tlb structure");
            if (nslabs <= MIN_SLABS || policy.fixedBase() >= 0) {
                return new Result(new IoTlbMem(null, IoTlbMem.ForceMode.NORMAL), 0, 0, -1);
            }
            nslabs = Bits.alignUp(nslabs / 2, IoTlbPool.IO_TLB_SEGSIZE);
            nareas = limitNareas(nareas, nslabs);
        }
        if (nslabs != defaultNslabs[0]) {
            kernel.printk()
                    .info(PR + "SWIOTLB bounce buffer size adjusted " + defaultNslabs[0] + " -> " + nslabs + " slabs");
        }
        IoTlbPool pool = new IoTlbPool(base, (int) nslabs, nareas);
        if (policy.verbose()) {
            kernel.printk().info(PR + mappedLine(pool, true));
        }
        IoTlbMem.ForceMode mode = params.force() ? IoTlbMem.ForceMode.FORCE : IoTlbMem.ForceMode.NORMAL;
        return new Result(new IoTlbMem(pool, mode), nslabs, nareas, base);
    }

    private static Result boot50(Kernel kernel, Memblock memblock, SwiotlbParams params, Policy policy, long page) {
        long nslabs = params.nslabs() > 0 ? params.nslabs() : DEFAULT_NSLABS; // 5.x: 0 means the default
        IoTlbMem.ForceMode mode = params.force() ? IoTlbMem.ForceMode.FORCE : IoTlbMem.ForceMode.NORMAL;
        if (params.noforce()) {
            nslabs = 1;
            mode = IoTlbMem.ForceMode.NO_FORCE;
        }
        if (!policy.addressingLimited() && !params.force()) {
            // arm64 5.x sets swiotlb_force = SWIOTLB_NO_FORCE when no pool is needed, so bounces are refused;
            // x86 simply never sets swiotlb up.
            return new Result(
                    new IoTlbMem(null, policy.noForceWithoutPool() ? IoTlbMem.ForceMode.NO_FORCE : mode), 0, 1, -1);
        }
        long base = place(memblock, policy, nslabs, page);
        if (base < 0) {
            kernel.printk().warn(PR + "Cannot allocate buffer");
            return new Result(new IoTlbMem(null, mode, true), 0, 1, -1);
        }
        IoTlbPool pool = new IoTlbPool(base, (int) nslabs, 1);
        if (policy.verbose()) {
            kernel.printk().info(PR + mappedLine(pool, false));
        }
        return new Result(new IoTlbMem(pool, mode), nslabs, 1, base);
    }

    /** The pool's placement: the fixed base (reserved in memblock), or memblock's top-down low allocation. */
    private static long place(Memblock memblock, Policy policy, long nslabs, long page) {
        long bytes = Bits.alignUp(nslabs << IoTlbPool.IO_TLB_SHIFT, page);
        if (policy.fixedBase() >= 0) {
            if (policy.fixedBase() % page != 0) {
                throw new IllegalArgumentException(
                        "swiotlb base " + Bits.hex0x(policy.fixedBase()) + " is not page aligned");
            }
            if (!memblock.isFree(policy.fixedBase(), bytes)) {
                throw new IllegalArgumentException("swiotlb pool " + Bits.hex0x(policy.fixedBase()) + "+"
                        + Bits.hex0x(bytes) + " is not free RAM");
            }
            memblock.reserve(policy.fixedBase(), bytes);
            return policy.fixedBase();
        }
        return memblock.allocTopDown(bytes, page, policy.lowLimit());
    }

    /** The "mapped [mem A-B] (NMB)" text: 6.x prints 16-digit addresses, 5.x {@code %#010llx}. */
    public static String mappedLine(IoTlbPool pool, boolean sixteenDigits) {
        String a =
                sixteenDigits ? Bits.hex16(pool.start()) : String.format(java.util.Locale.ROOT, "%#010x", pool.start());
        String b = sixteenDigits ? Bits.hex16(pool.end()) : String.format(java.util.Locale.ROOT, "%#010x", pool.end());
        return "mapped [mem " + a + "-" + b + "] (" + (((long) pool.nslabs() << IoTlbPool.IO_TLB_SHIFT) >>> 20) + "MB)";
    }

    /** {@code swiotlb_adjust_nareas(n)}. */
    private static void adjustNareas(Kernel kernel, long[] defaultNslabs, int[] defaultNareas, int n) {
        if (n == 0) {
            n = 1;
        } else if (!Bits.isPowerOfTwo(n)) {
            n = (int) Bits.roundUpPowerOfTwo(n);
        }
        defaultNareas[0] = n;
        kernel.printk().info(PR + "area num " + n + ".");
        if (roundUpDefaultNslabs(defaultNslabs, defaultNareas)) {
            kernel.printk()
                    .info(PR + "SWIOTLB bounce buffer size roundup to "
                            + ((defaultNslabs[0] << IoTlbPool.IO_TLB_SHIFT) >>> 20) + "MB");
        }
    }

    /** {@code round_up_default_nslabs()}. */
    private static boolean roundUpDefaultNslabs(long[] defaultNslabs, int[] defaultNareas) {
        if (defaultNareas[0] == 0) {
            return false;
        }
        if (defaultNslabs[0] < (long) IoTlbPool.IO_TLB_SEGSIZE * defaultNareas[0]) {
            defaultNslabs[0] = (long) IoTlbPool.IO_TLB_SEGSIZE * defaultNareas[0];
        } else if (Bits.isPowerOfTwo(defaultNslabs[0])) {
            return false;
        }
        defaultNslabs[0] = Bits.roundUpPowerOfTwo(defaultNslabs[0]);
        return true;
    }

    /** {@code limit_nareas(nareas, nslots)}. */
    static int limitNareas(int nareas, long nslots) {
        if (nslots < (long) nareas * IoTlbPool.IO_TLB_SEGSIZE) {
            return (int) (nslots / IoTlbPool.IO_TLB_SEGSIZE);
        }
        return nareas;
    }
}
