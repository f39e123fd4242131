package dev.dmalab.swiotlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Memblock;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.PhysicalMemoryMap;
import dev.dmalab.util.Bits;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Boot-time sizing and placement of the default pool (validated-swiotlb C1/C2, fact sheet A.2 and B.2): the
 * expectations follow the kernel's order of {@code setup_io_tlb_npages}, {@code swiotlb_adjust_size}, {@code
 * swiotlb_init_remap} ({@code swiotlb_adjust_nareas}, {@code round_up_default_nslabs}, {@code limit_nareas}, the
 * halving loop) and {@code swiotlb_init} of 5.0.
 */
class SwiotlbBootTest {
    static final long MIB = Bits.MIB;
    static final long GIB = Bits.GIB;
    static final long PAGE = 4096;

    /** x86-like: 2 GiB, everything below 4 GiB. */
    static PhysicalMemoryMap x86Map() {
        return PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x1000, 0x9e000)
                .ram(0x10_0000, 2 * GIB - 0x10_0000)
                .reserved(0x100_0000, 0x2c0_0000, "Kernel")
                .build();
    }

    /** arm64 virt-like: RAM at 1 GiB. */
    static PhysicalMemoryMap arm64Map(long ramBytes) {
        return PhysicalMemoryMap.builder(PageSize.SIZE_4K).ram(GIB, ramBytes).build();
    }

    static SwiotlbBoot.Policy x86Policy(boolean limited, int cpus, long fixedBase) {
        return new SwiotlbBoot.Policy(limited, 0, false, 0xffffffffL, cpus, fixedBase);
    }

    /** arm64 with CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC and all RAM in the DMA zone: 1 MiB per GiB, verbose. */
    static SwiotlbBoot.Policy arm64Policy(long ramBytes, int cpus) {
        long adjust = Math.min(Bits.divRoundUp(ramBytes, 1024), SwiotlbBoot.DEFAULT_NSLABS << 11);
        return new SwiotlbBoot.Policy(true, adjust, true, GIB + ramBytes, cpus, -1);
    }

    static List<String> texts(Kernel k) {
        return k.printk().lines().stream().map(Printk.Line::text).toList();
    }

    static SwiotlbBoot.Result boot(Kernel k, PhysicalMemoryMap map, String param, SwiotlbBoot.Policy policy) {
        SwiotlbParams params = param == null ? SwiotlbParams.NONE : SwiotlbParams.parse(param, k.version());
        return SwiotlbBoot.boot(k, new Memblock(map), params, policy, PAGE);
    }

    static Kernel kernel(KernelVersion v, ArchKind arch, int cpus) {
        return new Kernel(v, arch, cpus, "test");
    }

    @Test
    void swiotlb3000ForceRoundsUpToAPowerOfTwoOn612() {
        // setup_io_tlb_npages: ALIGN(3000, 128) = 3072. init_remap: no area count given -> adjust_nareas(1): "area
        // num 1."; round_up_default_nslabs: 3072 >= 128 and not a power of two -> 4096, "roundup to 8MB" (4096 *
        // 2 KiB). Allocated top-down below 4 GiB: the top free RAM ends at 2 GiB -> 0x7f800000.
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r = boot(k, x86Map(), "3000,force", x86Policy(false, 1, -1));
        assertThat(r.nslabs()).isEqualTo(4096);
        assertThat(r.nareas()).isEqualTo(1);
        assertThat(r.base()).isEqualTo(2 * GIB - 8 * MIB);
        assertThat(r.mem().defpool().nslabs()).isEqualTo(4096);
        assertThat(r.mem().defpool().start()).isEqualTo(2 * GIB - 8 * MIB);
        assertThat(r.mem().force()).isEqualTo(IoTlbMem.ForceMode.FORCE);
        assertThat(r.mem().forceBounce()).isTrue();
        assertThat(texts(k))
                .containsExactly(
                        "software IO TLB: area num 1.", "software IO TLB: SWIOTLB bounce buffer size roundup to 8MB");
    }

    @Test
    void arm64SizesThePoolAtOneMibPerGibOfRam() {
        // 2 GiB: DIV_ROUND_UP(2 GiB, 1024) = 2 MiB -> adjust_size: default_nslabs still 32768 -> ALIGN(2 MiB,
        // 2 KiB) >> 11 = 1024, ALIGN 128 = 1024; no area count yet -> no rounding; "adjusted to 2MB". Then
        // adjust_nareas(2): "area num 2.", 1024 is a power of two >= 256 -> no roundup. Verbose: mapped line
        // (16-digit %pa, exclusive end) for the pool at the top of RAM (3 GiB - 2 MiB).
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.ARM64, 2);
        SwiotlbBoot.Result r = boot(k, arm64Map(2 * GIB), null, arm64Policy(2 * GIB, 2));
        assertThat(r.nslabs()).isEqualTo(1024);
        assertThat(r.nareas()).isEqualTo(2);
        assertThat(r.mem().force()).isEqualTo(IoTlbMem.ForceMode.NORMAL);
        assertThat(texts(k))
                .containsExactly(
                        "software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB",
                        "software IO TLB: area num 2.",
                        "software IO TLB: mapped [mem 0x00000000bfe00000-0x00000000c0000000] (2MB)");

        // 1 GiB: 1 MiB -> 512 slots, "adjusted to 1MB".
        Kernel k1 = kernel(KernelVersion.V6_12, ArchKind.ARM64, 2);
        SwiotlbBoot.Result r1 = boot(k1, arm64Map(GIB), null, arm64Policy(GIB, 2));
        assertThat(r1.nslabs()).isEqualTo(512);
        assertThat(texts(k1)).contains("software IO TLB: SWIOTLB bounce buffer size adjusted to 1MB");
    }

    @Test
    void arm64AdjustedSizeIsPrintedTruncatedThenRoundedForTheAreas() {
        // 1.5 GiB: 1.5 MiB -> 768 slots; "adjusted to 1MB" (1.5 MiB >> 20, truncated). adjust_nareas(4): 768 >=
        // 512 but not a power of two -> 1024, "roundup to 2MB".
        long ram = 3 * GIB / 2;
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.ARM64, 4);
        SwiotlbBoot.Result r = boot(k, arm64Map(ram), null, arm64Policy(ram, 4));
        assertThat(r.nslabs()).isEqualTo(1024);
        assertThat(r.nareas()).isEqualTo(4);
        assertThat(texts(k))
                .containsSubsequence(
                        "software IO TLB: SWIOTLB bounce buffer size adjusted to 1MB",
                        "software IO TLB: area num 4.",
                        "software IO TLB: SWIOTLB bounce buffer size roundup to 2MB");

        // 1 GiB with 8 CPUs: 512 slots < 128 * 8 -> 1024 ("roundup to 2MB"), 8 areas of 128.
        Kernel k8 = kernel(KernelVersion.V6_12, ArchKind.ARM64, 8);
        SwiotlbBoot.Result r8 = boot(k8, arm64Map(GIB), null, arm64Policy(GIB, 8));
        assertThat(r8.nslabs()).isEqualTo(1024);
        assertThat(r8.nareas()).isEqualTo(8);
        assertThat(texts(k8)).contains("software IO TLB: SWIOTLB bounce buffer size roundup to 2MB");
    }

    @Test
    void anExplicitSizeOtherThanTheDefaultWinsOverTheArchAdjustment() {
        // swiotlb=16384: default_nslabs != 32768 -> swiotlb_adjust_size returns silently.
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.ARM64, 2);
        SwiotlbBoot.Result r = boot(k, arm64Map(2 * GIB), "16384", arm64Policy(2 * GIB, 2));
        assertThat(r.nslabs()).isEqualTo(16384);
        assertThat(texts(k)).noneMatch(t -> t.contains("adjusted to"));

        // swiotlb=32768 is indistinguishable from no parameter: the 2 GiB adjustment to 1024 slots applies.
        Kernel k2 = kernel(KernelVersion.V6_12, ArchKind.ARM64, 2);
        SwiotlbBoot.Result r2 = boot(k2, arm64Map(2 * GIB), "32768", arm64Policy(2 * GIB, 2));
        assertThat(r2.nslabs()).isEqualTo(1024);
        assertThat(texts(k2)).contains("software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB");
    }

    @Test
    void areaNumIsThePossibleCpusRoundedUpToAPowerOfTwo() {
        for (int[] c : new int[][] {{1, 1}, {2, 2}, {3, 4}, {5, 8}, {6, 8}, {8, 8}, {9, 16}}) {
            Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, c[0]);
            SwiotlbBoot.Result r = boot(k, x86Map(), "force", x86Policy(false, c[0], -1));
            assertThat(texts(k)).as("cpus=%d", c[0]).containsExactly("software IO TLB: area num " + c[1] + ".");
            assertThat(r.nareas()).as("cpus=%d", c[0]).isEqualTo(c[1]);
            assertThat(r.mem().defpool().nareas()).isEqualTo(c[1]);
            assertThat(r.nslabs()).isEqualTo(32768);
        }
    }

    @Test
    void theParameterAreaCountReplacesTheCpuCountAndRaisesTheSize() {
        // swiotlb=256,3,force: nslabs 256; adjust_nareas(3) at parse time: 4 areas, "area num 4."; 256 < 128 * 4
        // -> 512, "roundup to 1MB". The 16 possible CPUs are not consulted.
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 16);
        SwiotlbBoot.Result r = boot(k, x86Map(), "256,3,force", x86Policy(false, 16, -1));
        assertThat(r.nslabs()).isEqualTo(512);
        assertThat(r.nareas()).isEqualTo(4);
        assertThat(texts(k))
                .containsExactly(
                        "software IO TLB: area num 4.", "software IO TLB: SWIOTLB bounce buffer size roundup to 1MB");
    }

    @Test
    void limitNareasKeepsAtLeast128SlotsPerArea() {
        assertThat(SwiotlbBoot.limitNareas(8, 1024)).isEqualTo(8);
        assertThat(SwiotlbBoot.limitNareas(8, 512)).isEqualTo(4);
        assertThat(SwiotlbBoot.limitNareas(4, 128)).isEqualTo(1);
        assertThat(SwiotlbBoot.limitNareas(1, 32768)).isEqualTo(1);
    }

    @Test
    void allocationFailureHalvesTheSizeAndLimitsTheAreas() {
        // Only 1.5 MiB of free RAM below 4 GiB. 8 CPUs: 32768 slots, 8 areas. Attempts: 64, 32, 16, 8, 4, 2 MiB
        // fail (six warnings); then ALIGN(1024 / 2, 128) = 512 slots (1 MiB) fits; limit_nareas(8, 512) = 4.
        PhysicalMemoryMap small = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x10_0000, 0x18_0000)
                .ram(0x1_0000_0000L, GIB)
                .build();
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 8);
        SwiotlbBoot.Result r = boot(k, small, "force", x86Policy(false, 8, -1));
        assertThat(r.nslabs()).isEqualTo(512);
        assertThat(r.nareas()).isEqualTo(4);
        assertThat(r.mem().defpool().nareas()).isEqualTo(4);
        assertThat(r.base()).isEqualTo(0x28_0000 - MIB); // top-down below the 4 GiB limit, not in the high bank
        assertThat(texts(k))
                .containsExactly(
                        "software IO TLB: area num 8.",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 67108864 bytes tlb structure",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 33554432 bytes tlb structure",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 16777216 bytes tlb structure",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 8388608 bytes tlb structure",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 4194304 bytes tlb structure",
                        "software IO TLB: swiotlb_memblock_alloc: Failed to allocate 2097152 bytes tlb structure",
                        "software IO TLB: SWIOTLB bounce buffer size adjusted 32768 -> 512 slabs");
    }

    @Test
    void allocationGivesUpAfterTheMinimumOf512Slots() {
        // 768 KiB free: every attempt down to 512 slots (1 MiB) fails -> seven warnings, no pool.
        PhysicalMemoryMap tiny = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x10_0000, 0xc_0000)
                .build();
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r = boot(k, tiny, "force", x86Policy(false, 1, -1));
        assertThat(r.mem().defpool()).isNull();
        assertThat(r.mem().nslabs()).isZero();
        assertThat(r.nslabs()).isZero();
        assertThat(texts(k)).filteredOn(t -> t.contains("Failed to allocate")).hasSize(7);
        assertThat(texts(k)).last().asString().contains("Failed to allocate 1048576 bytes");
    }

    @Test
    void noPoolWithoutNeedOrForceAndNoneWithNoforceOn612() {
        // Not addressing-limited and no force: swiotlb_init_remap returns before adjust_nareas, so no "area num".
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 4);
        SwiotlbBoot.Result r = boot(k, x86Map(), null, x86Policy(false, 4, -1));
        assertThat(r.mem().defpool()).isNull();
        assertThat(r.mem().force()).isEqualTo(IoTlbMem.ForceMode.NORMAL);
        assertThat(texts(k)).isEmpty();
        // Addressing-limited: a pool of the default 64 MiB, 4 areas, not forced.
        Kernel k2 = kernel(KernelVersion.V6_12, ArchKind.X86_64, 4);
        SwiotlbBoot.Result r2 = boot(k2, x86Map(), null, x86Policy(true, 4, -1));
        assertThat(r2.nslabs()).isEqualTo(32768);
        assertThat(r2.mem().forceBounce()).isFalse();
        // 6.x noforce: force_disable, no pool at all even when addressing-limited.
        Kernel k3 = kernel(KernelVersion.V6_12, ArchKind.X86_64, 4);
        SwiotlbBoot.Result r3 = boot(k3, x86Map(), "noforce", x86Policy(true, 4, -1));
        assertThat(r3.mem().defpool()).isNull();
        assertThat(r3.mem().force()).isEqualTo(IoTlbMem.ForceMode.NO_FORCE);
    }

    @Test
    void fiveZeroHasOneAreaNoRoundingAndAOneSlabNoforcePool() {
        // 5.0: swiotlb=3000,force -> ALIGN 128 = 3072 slots, no power-of-two rounding, one area, no area line.
        Kernel k = kernel(KernelVersion.V5_0, ArchKind.X86_64, 8);
        SwiotlbBoot.Result r = boot(k, x86Map(), "3000,force", x86Policy(false, 8, -1));
        assertThat(r.nslabs()).isEqualTo(3072);
        assertThat(r.nareas()).isEqualTo(1);
        assertThat(r.mem().defpool().nareas()).isEqualTo(1);
        assertThat(r.base()).isEqualTo(2 * GIB - 3072 * 2048);
        assertThat(texts(k)).isEmpty();
        // noforce on an addressing-limited machine: io_tlb_nslabs = 1, a 1-slab pool in a page, NO_FORCE.
        Kernel k2 = kernel(KernelVersion.V5_0, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r2 = boot(k2, x86Map(), "noforce", x86Policy(true, 1, -1));
        assertThat(r2.nslabs()).isEqualTo(1);
        assertThat(r2.mem().defpool().nslabs()).isEqualTo(1);
        assertThat(r2.mem().force()).isEqualTo(IoTlbMem.ForceMode.NO_FORCE);
        assertThat(r2.base()).isEqualTo(2 * GIB - PAGE);
        // Default size when limited: 32768 slots.
        Kernel k3 = kernel(KernelVersion.V5_0, ArchKind.X86_64, 1);
        assertThat(boot(k3, x86Map(), null, x86Policy(true, 1, -1)).nslabs()).isEqualTo(32768);
        // Not limited, not forced (arm64 5.0 when RAM fits the DMA zone): no pool, NO_FORCE.
        Kernel k4 = kernel(KernelVersion.V5_0, ArchKind.ARM64, 1);
        SwiotlbBoot.Policy arm64 = new SwiotlbBoot.Policy(false, 0, true, (1L << 32) - 1, 1, -1, true);
        SwiotlbBoot.Result r4 = boot(k4, x86Map(), "16384,2,force", arm64);
        assertThat(r4.mem().defpool()).isNull();
        assertThat(r4.mem().force()).isEqualTo(IoTlbMem.ForceMode.NO_FORCE);
        assertThat(r4.mem().allocationFailed()).isFalse();
        // x86 5.0 in the same situation never calls swiotlb_init: no pool, the mode stays NORMAL, and nothing
        // failed (no_iotlb_memory stays false).
        Kernel k5 = kernel(KernelVersion.V5_0, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r5 = boot(k5, x86Map(), null, x86Policy(false, 1, -1));
        assertThat(r5.mem().defpool()).isNull();
        assertThat(r5.mem().force()).isEqualTo(IoTlbMem.ForceMode.NORMAL);
        assertThat(r5.mem().allocationFailed()).isFalse();
        assertThat(texts(k5)).isEmpty();
    }

    @Test
    void fiveZeroDoesNotHalveAndPrintsItsOwnMappedFormat() {
        PhysicalMemoryMap tiny = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x10_0000, 0xc_0000)
                .build();
        Kernel k = kernel(KernelVersion.V5_0, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r = boot(k, tiny, "force", x86Policy(false, 1, -1));
        assertThat(r.mem().defpool()).isNull();
        assertThat(texts(k)).containsExactly("software IO TLB: Cannot allocate buffer");
        assertThat(r.mem().allocationFailed()).as("no_iotlb_memory").isTrue();

        // Verbose 5.0 prints %#010llx addresses: 2 GiB - 64 MiB = 0x7c000000 to 0x80000000.
        Kernel kv = kernel(KernelVersion.V5_0, ArchKind.ARM64, 1);
        SwiotlbBoot.Policy verbose = new SwiotlbBoot.Policy(true, 0, true, 0xffffffffL, 1, -1);
        boot(kv, x86Map(), null, verbose);
        assertThat(texts(kv)).containsExactly("software IO TLB: mapped [mem 0x7c000000-0x80000000] (64MB)");
    }

    @Test
    void theFiveZeroMappedLinePadsToTenCharacters() {
        IoTlbPool low = new IoTlbPool(0x100_0000, 512, 1);
        assertThat(SwiotlbBoot.mappedLine(low, false)).isEqualTo("mapped [mem 0x01000000-0x01100000] (1MB)");
        assertThat(SwiotlbBoot.mappedLine(low, true))
                .isEqualTo("mapped [mem 0x0000000001000000-0x0000000001100000] (1MB)");
        IoTlbPool sub = new IoTlbPool(0x100_0000, 256, 1);
        assertThat(SwiotlbBoot.mappedLine(sub, true)).endsWith("(0MB)");
    }

    @Test
    void aFixedBaseIsReservedWhenItIsFreePageAlignedRam() {
        PhysicalMemoryMap map = x86Map();
        Memblock mb = new Memblock(map);
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 1);
        SwiotlbBoot.Result r = SwiotlbBoot.boot(
                k, mb, SwiotlbParams.parse("512,force", k.version()), x86Policy(false, 1, 0x7980_0000L), PAGE);
        assertThat(r.base()).isEqualTo(0x7980_0000L);
        assertThat(r.mem().defpool().start()).isEqualTo(0x7980_0000L);
        assertThat(mb.isFree(0x7980_0000L, MIB)).isFalse();
        assertThat(mb.isFree(0x7980_0000L + MIB, PAGE)).isTrue();
    }

    @Test
    void aFixedBaseThatIsNotFreeRamOrNotPageAlignedIsRejected() {
        SwiotlbParams force = SwiotlbParams.parse("512,force", KernelVersion.V6_12);
        Kernel k = kernel(KernelVersion.V6_12, ArchKind.X86_64, 1);
        // Inside the kernel image reservation.
        assertThatThrownBy(() ->
                        SwiotlbBoot.boot(k, new Memblock(x86Map()), force, x86Policy(false, 1, 0x200_0000L), PAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x2000000")
                .hasMessageContaining("is not free RAM");
        // In the hole between the low bank and 1 MiB.
        assertThatThrownBy(
                        () -> SwiotlbBoot.boot(k, new Memblock(x86Map()), force, x86Policy(false, 1, 0xa_0000L), PAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not free RAM");
        // Running past the end of RAM.
        assertThatThrownBy(() ->
                        SwiotlbBoot.boot(k, new Memblock(x86Map()), force, x86Policy(false, 1, 2 * GIB - PAGE), PAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not free RAM");
        // Not page aligned.
        assertThatThrownBy(() ->
                        SwiotlbBoot.boot(k, new Memblock(x86Map()), force, x86Policy(false, 1, 0x7980_0800L), PAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not page aligned");
    }
}
