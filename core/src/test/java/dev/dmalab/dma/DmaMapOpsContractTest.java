package dev.dmalab.dma;

import static dev.dmalab.testing.TestMachines.cpuRead;
import static dev.dmalab.testing.TestMachines.cpuReadPhys;
import static dev.dmalab.testing.TestMachines.cpuWrite;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static dev.dmalab.testing.TestMachines.evictAllCaches;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link DmaMapOps}, run against every implementation on every kernel version where it exists
 * (JCTools style: one contract, many implementations).
 *
 * <p>The contract, for a correct driver (the CPU does not touch a buffer while the device owns it):
 *
 * <ul>
 *   <li>TO_DEVICE: after map, the device reads exactly the bytes the CPU wrote before the map.
 *   <li>FROM_DEVICE: after unmap (or sync_for_cpu), the CPU reads exactly the bytes the device wrote, even if the
 *       CPU had dirty lines in the buffer before the map and a speculative fill pulled a buffer line into a cache
 *       during the DMA; bytes next to the buffer that the CPU wrote before the map survive.
 *   <li>BIDIRECTIONAL: both.
 *   <li>Scatterlists: every entry is mapped (these backends never merge: ents == nents) and unmap restores.
 *   <li>A failed map returns the table's error cookie, which {@link DmaApi#mappingError} recognises, and leaves
 *       no swiotlb slot behind.
 *   <li>Coherent memory is zeroed and shared with the device with no syncs; freeing it returns every page.
 *   <li>Nothing is left after unmap: the swiotlb used count returns to 0.
 * </ul>
 *
 * The ops are called the way the core calls them: a callback the table leaves NULL is skipped ({@link
 * DmaMapOps#implementsOp}). arm64's {@code dummy_dma_ops} has the opposite contract: every operation fails.
 */
class DmaMapOpsContractTest {
    private static final int OFF = 256; // buffer offset in its page: line-aligned, with an untouched line before it
    private static final int SIZE = 5000; // crosses a page and ends in the middle of a cache line
    private static final int ORDER = 1; // 8 KiB of pages per buffer

    /** How a fixture makes a map fail: it may narrow the device's mask and returns a page to map. */
    interface FailSetup {
        long failingPage(Env e);
    }

    /** One table under test on one booted machine. */
    static final class Env {
        final Machine m;
        final Device dev;
        final DmaMapOps ops;
        final List<Zone> zones;
        final List<Boolean> bounces;
        final FailSetup fail;

        Env(Machine m, Device dev, DmaMapOps ops, List<Zone> zones, List<Boolean> bounces, FailSetup fail) {
            this.m = m;
            this.dev = dev;
            this.ops = ops;
            this.zones = zones;
            this.bounces = bounces;
            this.fail = fail;
        }

        long page(Zone zone) {
            return m.allocKernelPages(ORDER, zone);
        }

        long swiotlbUsed() {
            return m.swiotlb().defaultMem().used();
        }

        void unmap(long dma, long size, Direction dir) {
            if (ops.implementsOp(DmaMapOps.Op.UNMAP_PAGE)) {
                ops.unmapPage(dev, dma, size, dir, 0);
            }
        }

        void unmapSg(ScatterList sg, int nents, Direction dir) {
            if (ops.implementsOp(DmaMapOps.Op.UNMAP_SG)) {
                ops.unmapSg(dev, sg, nents, dir, 0);
            }
        }

        void syncForCpu(long dma, long size, Direction dir) {
            if (ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_CPU)) {
                ops.syncSingleForCpu(dev, dma, size, dir);
            }
        }

        void syncForDevice(long dma, long size, Direction dir) {
            if (ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE)) {
                ops.syncSingleForDevice(dev, dma, size, dir);
            }
        }
    }

    /** A named fixture; the machine is booted afresh for each test. */
    record Case(String name, Supplier<Env> env) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final KernelVersion[] DIRECT_VERSIONS = {
        KernelVersion.V5_0_RC2, KernelVersion.V5_0, KernelVersion.V5_4, KernelVersion.V6_12
    };
    private static final KernelVersion[] ARM_OPS_VERSIONS = {
        KernelVersion.V4_20, KernelVersion.V5_0_RC2, KernelVersion.V5_0, KernelVersion.V5_4
    };

    /** Narrows the device's mask to 24 bits through dma_set_mask (x86 has ZONE_DMA, so it is supported). */
    private static long narrowViaApi(Env e) {
        assertThat(e.m.dma().setMask(e.dev, Bits.dmaBitMask(24))).isZero();
        return e.page(Zone.DMA32); // above 16 MiB
    }

    /** Narrows the mask by writing *dev->dma_mask directly (arm64 kernels refuse a 24-bit dma_set_mask). */
    private static long narrowDirectly(Env e) {
        e.dev.setDmaMask(Bits.dmaBitMask(24));
        return e.page(Zone.DMA32);
    }

    /**
     * dma-iommu refuses a device whose {@code min_align_mask} exceeds the granule ("Unsupported alignment
     * constraint"): the one way its map fails without exhausting the IOVA space.
     */
    private static long unalignable(Env e) {
        e.dev.setDmaParms(e.dev.maxSegmentSize(), e.dev.segmentBoundaryMask(), 0x1fff);
        return e.page(Zone.DMA32);
    }

    /**
     * Before 5.12 there is no {@code min_align_mask} to refuse: dma-iommu then fails a map only when no IOVA fits
     * under the device's limit. A 12-bit mask leaves only the page below 4 KiB, which the allocator never hands out
     * (its start pfn is 1).
     */
    private static long noIovaFits(Env e) {
        e.dev.setDmaMask(Bits.dmaBitMask(12));
        return e.page(Zone.DMA32);
    }

    /** The physical address bus address {@code dma} reaches: through the IOMMU's tables when there is one. */
    private static long toPhys(Env e, long dma) {
        if (e.m.iommu() != null && e.m.iommu().domainOf(e.dev) != null) {
            return e.m.iommu().domainOf(e.dev).table().iovaToPhys(dma);
        }
        return DmaAddress.dmaToPhys(e.dev, dma);
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (KernelVersion v : DIRECT_VERSIONS) {
            out.add(new Case("dma-direct " + v + " x86-q35 e1000", () -> {
                Machine m = TestMachines.boot("x86-q35", v);
                Device dev = m.device("0000:00:05.0");
                assertThat(m.dma().getDmaOps(dev)).as("NULL ops = dma-direct").isNull();
                return new Env(
                        m, dev, m.direct(), List.of(Zone.DMA32), List.of(false), DmaMapOpsContractTest::narrowViaApi);
            }));
            out.add(new Case("dma-direct " + v + " arm64-noncoherent sata", () -> {
                Machine m = TestMachines.boot("arm64-noncoherent", v);
                Device dev = m.device("fa000000.sata");
                assertThat(m.dma().getDmaOps(dev)).isNull();
                assertThat(dev.dmaCoherent()).isFalse();
                return new Env(
                        m,
                        dev,
                        m.direct(),
                        List.of(Zone.DMA32, Zone.NORMAL),
                        List.of(false, true),
                        DmaMapOpsContractTest::narrowDirectly);
            }));
        }
        out.add(new Case("dma-direct 6.12 x86-q35 swiotlb=force", () -> {
            Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12, "swiotlb=force");
            Device dev = m.device("0000:00:04.0");
            return new Env(m, dev, m.direct(), List.of(Zone.DMA32), List.of(true), DmaMapOpsContractTest::narrowViaApi);
        }));
        for (String[] p : new String[][] {{"x86-q35-vtd", "strict"}, {"x86-q35-vtd-lazy", "lazy"}}) {
            out.add(new Case("dma-iommu 6.12 " + p[0] + " e1000e (" + p[1] + ")", () -> {
                Machine m = TestMachines.boot(p[0], KernelVersion.V6_12);
                Device dev = m.device("0000:00:04.0");
                assertThat(dev.dmaIommu()).as("use_dma_iommu").isTrue();
                return new Env(
                        m, dev, m.iommu(), List.of(Zone.DMA32), List.of(false), DmaMapOpsContractTest::unalignable);
            }));
        }
        out.add(new Case("iommu_dma_ops 5.4 x86-q35-vtd e1000", () -> {
            Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V5_4);
            Device dev = m.device("0000:00:05.0");
            assertThat(dev.dmaOps()).as("5.x: dev->dma_ops = &iommu_dma_ops").isSameAs(m.iommu());
            return new Env(m, dev, m.iommu(), List.of(Zone.DMA32), List.of(false), DmaMapOpsContractTest::noIovaFits);
        }));
        out.add(new Case("dma_direct_ops 4.20 x86-q35 e1000", () -> {
            Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
            Device dev = m.device("0000:00:05.0");
            assertThat(dev.dmaOps()).isNull();
            assertThat(m.dma().getDmaOps(dev)).as("x86 4.20 get_arch_dma_ops").isSameAs(m.direct());
            return new Env(
                    m, dev, m.direct(), List.of(Zone.DMA32), List.of(false), DmaMapOpsContractTest::narrowViaApi);
        }));
        out.add(new Case("swiotlb_dma_ops 4.20 arm64-noncoherent sata", () -> {
            Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
            Device dev = m.device("fa000000.sata");
            DmaMapOps ops = (DmaMapOps) dev.dmaOps();
            assertThat(ops.symbol()).isEqualTo("swiotlb_dma_ops");
            return new Env(
                    m,
                    dev,
                    ops,
                    List.of(Zone.DMA32, Zone.NORMAL),
                    List.of(false, true),
                    DmaMapOpsContractTest::narrowDirectly);
        }));
        out.add(new Case("swiotlb_dma_ops 4.20 x86-q35 swiotlb=force", () -> {
            Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20, "swiotlb=force");
            Device dev = m.device("0000:00:04.0");
            DmaMapOps ops = m.dma().getDmaOps(dev);
            assertThat(ops.symbol()).isEqualTo("swiotlb_dma_ops");
            return new Env(m, dev, ops, List.of(Zone.DMA32), List.of(true), DmaMapOpsContractTest::narrowViaApi);
        }));
        for (KernelVersion v : ARM_OPS_VERSIONS) {
            for (String[] d :
                    new String[][] {{"10040000.dma", "arm_dma_ops"}, {"10080000.cdma", "arm_coherent_dma_ops"}}) {
                out.add(new Case(d[1] + " " + v + " arm32", () -> {
                    Machine m = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, v, "");
                    Device dev = m.device(d[0]);
                    DmaMapOps ops = (DmaMapOps) dev.dmaOps();
                    assertThat(ops.symbol()).isEqualTo(d[1]);
                    return new Env(m, dev, ops, List.of(Zone.NORMAL), List.of(false), null);
                }));
            }
        }
        return out.stream();
    }

    /**
     * Cases where a map the device cannot reach fails cleanly. Not arm_dma_ops (it never checks), and not x86 on
     * 5.0-rc2/5.0: there the kernel never set swiotlb up (no RAM above 4 GiB), yet dma-direct still calls
     * swiotlb_map, whose search reads the unallocated slot table (see {@link #fiveZeroX86WithoutAPoolOopses}).
     */
    static Stream<Case> failingCases() {
        return cases().filter(c -> !c.name().startsWith("arm_") && !X86_FIVE_ZERO.contains(c.name()));
    }

    private static final List<String> X86_FIVE_ZERO =
            List.of("dma-direct 5.0-rc2 x86-q35 e1000", "dma-direct 5.0 x86-q35 e1000");

    @ParameterizedTest(name = "{0}")
    @MethodSource("x86FiveZeroCases")
    void fiveZeroX86WithoutAPoolOopses(Case c) {
        Env e = c.env().get();
        long page = e.fail.failingPage(e);
        assertThatThrownBy(() -> e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.BIDIRECTIONAL, 0))
                .isInstanceOf(KernelOops.class)
                .hasMessageContaining("NULL pointer dereference at virtual address 0x0 in swiotlb_tbl_map_single");
    }

    static Stream<Case> x86FiveZeroCases() {
        List<Case> out = cases().filter(c -> X86_FIVE_ZERO.contains(c.name())).toList();
        assertThat(out).hasSize(X86_FIVE_ZERO.size());
        return out.stream();
    }

    static Stream<Case> dummyCases() {
        return Stream.of(new Case("dummy_dma_ops 4.20 arm64-virt", () -> {
            Machine m = TestMachines.boot("arm64-virt", KernelVersion.V4_20);
            // A device nobody ran arch_setup_dma_ops for: get_dma_ops falls back to get_arch_dma_ops().
            Device dev = new Device("9000000.orphan", BusType.PLATFORM);
            DmaMapOps ops = m.dma().getDmaOps(dev);
            assertThat(ops.symbol()).isEqualTo("dummy_dma_ops");
            return new Env(m, dev, ops, List.of(Zone.DMA32), List.of(false), null);
        }));
    }

    // ---------------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void toDeviceTheDeviceReadsExactlyTheCpusBytes(Case c) {
        Env e = c.env().get();
        for (int z = 0; z < e.zones.size(); z++) {
            long page = e.page(e.zones.get(z));
            byte[] data = pattern(SIZE, 10 + z);
            cpuWritePhys(e.m, page + OFF, data); // dirty in the CPU cache on a non-coherent machine

            long dma = e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.TO_DEVICE, 0);

            assertThat(dma).isNotEqualTo(Bits.U64_MAX);
            assertThat(e.m.dma().mappingError(e.dev, dma)).isZero();
            assertBounce(e, z, page, dma);
            assertThat(deviceRead(e.m, e.dev, dma, SIZE)).isEqualTo(data);
            e.unmap(dma, SIZE, Direction.TO_DEVICE);
            assertThat(e.swiotlbUsed()).as("swiotlb slots after unmap").isZero();
            assertThat(cpuReadPhys(e.m, page + OFF, SIZE))
                    .as("TO_DEVICE leaves the CPU's data alone")
                    .isEqualTo(data);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fromDeviceTheCpuReadsExactlyTheDevicesBytesAfterUnmap(Case c) {
        Env e = c.env().get();
        for (int z = 0; z < e.zones.size(); z++) {
            long page = e.page(e.zones.get(z));
            byte[] guard = pattern(8192 - OFF - SIZE, 20 + z);
            cpuWritePhys(e.m, page + OFF + SIZE, guard); // CPU data sharing the buffer's last line
            cpuWritePhys(e.m, page + OFF, pattern(SIZE, 30 + z)); // stale CPU data in the buffer

            long dma = e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.FROM_DEVICE, 0);
            assertThat(dma).isNotEqualTo(Bits.U64_MAX);
            assertBounce(e, z, page, dma);
            // The CPU reads the line before the buffer: a next-line prefetcher pulls the buffer's first line in.
            cpuReadPhys(e.m, page + OFF - 64, 1);
            byte[] fromDevice = pattern(SIZE, 40 + z);
            deviceWrite(e.m, e.dev, dma, fromDevice);
            e.unmap(dma, SIZE, Direction.FROM_DEVICE);

            assertThat(cpuReadPhys(e.m, page + OFF, SIZE)).isEqualTo(fromDevice);
            assertThat(cpuReadPhys(e.m, page + OFF + SIZE, guard.length))
                    .as("CPU bytes next to the buffer")
                    .isEqualTo(guard);
            assertThat(e.swiotlbUsed()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fromDeviceSyncForCpuHandsEachTransferToTheCpu(Case c) {
        Env e = c.env().get();
        for (int z = 0; z < e.zones.size(); z++) {
            long page = e.page(e.zones.get(z));
            long dma = e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.FROM_DEVICE, 0);
            byte[] first = pattern(SIZE, 50 + z);
            byte[] second = pattern(SIZE, 60 + z);

            deviceWrite(e.m, e.dev, dma, first);
            e.syncForCpu(dma, SIZE, Direction.FROM_DEVICE);
            assertThat(cpuReadPhys(e.m, page + OFF, SIZE)).isEqualTo(first); // lines now cached on the CPU
            e.syncForDevice(dma, SIZE, Direction.FROM_DEVICE);
            deviceWrite(e.m, e.dev, dma, second);
            e.unmap(dma, SIZE, Direction.FROM_DEVICE);

            assertThat(cpuReadPhys(e.m, page + OFF, SIZE)).isEqualTo(second);
            assertThat(e.swiotlbUsed()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bidirectionalMovesDataBothWays(Case c) {
        Env e = c.env().get();
        for (int z = 0; z < e.zones.size(); z++) {
            long page = e.page(e.zones.get(z));
            byte[] guard = pattern(8192 - OFF - SIZE, 70 + z);
            byte[] toDevice = pattern(SIZE, 80 + z);
            byte[] fromDevice = pattern(SIZE, 90 + z);
            cpuWritePhys(e.m, page + OFF + SIZE, guard);
            cpuWritePhys(e.m, page + OFF, toDevice);

            long dma = e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.BIDIRECTIONAL, 0);
            assertBounce(e, z, page, dma);
            assertThat(deviceRead(e.m, e.dev, dma, SIZE)).isEqualTo(toDevice);
            deviceWrite(e.m, e.dev, dma, fromDevice);
            e.unmap(dma, SIZE, Direction.BIDIRECTIONAL);

            assertThat(cpuReadPhys(e.m, page + OFF, SIZE)).isEqualTo(fromDevice);
            assertThat(cpuReadPhys(e.m, page + OFF + SIZE, guard.length)).isEqualTo(guard);
            assertThat(e.swiotlbUsed()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void scatterlistsMapEveryEntryAndUnmapRestores(Case c) {
        Env e = c.env().get();
        int[] offsets = {256, 0, 1024, 64};
        int[] lengths = {1000, 4096, 2048, 3000};
        int n = offsets.length;
        long[] pages = new long[n];
        ScatterList sg = new ScatterList(n);
        for (int i = 0; i < n; i++) {
            pages[i] = e.page(e.zones.get(i % e.zones.size()));
            sg.add(pages[i], offsets[i], lengths[i]);
            cpuWritePhys(e.m, pages[i] + offsets[i], pattern(lengths[i], 100 + i));
        }

        assertThat(e.ops.mapSg(e.dev, sg, n, Direction.TO_DEVICE, 0)).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            assertThat(sg.dmaLength(i)).isEqualTo(lengths[i]);
            assertThat(deviceRead(e.m, e.dev, sg.dmaAddress(i), lengths[i]))
                    .as("entry %d", i)
                    .isEqualTo(pattern(lengths[i], 100 + i));
        }
        e.unmapSg(sg, n, Direction.TO_DEVICE);
        assertThat(e.swiotlbUsed()).isZero();

        sg.clear();
        for (int i = 0; i < n; i++) {
            sg.add(pages[i], offsets[i], lengths[i]);
        }
        assertThat(e.ops.mapSg(e.dev, sg, n, Direction.FROM_DEVICE, 0)).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            deviceWrite(e.m, e.dev, sg.dmaAddress(i), pattern(lengths[i], 110 + i));
        }
        e.unmapSg(sg, n, Direction.FROM_DEVICE);
        for (int i = 0; i < n; i++) {
            assertThat(cpuReadPhys(e.m, pages[i] + offsets[i], lengths[i]))
                    .as("entry %d", i)
                    .isEqualTo(pattern(lengths[i], 110 + i));
        }
        assertThat(e.swiotlbUsed()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failingCases")
    void aFailedMapReturnsTheErrorCookieAndLeavesNothingBehind(Case c) {
        Env e = c.env().get();
        long page = e.fail.failingPage(e);
        cpuWritePhys(e.m, page + OFF, pattern(SIZE, 120));

        long cookie = e.ops.mapPage(e.dev, page, OFF, SIZE, Direction.BIDIRECTIONAL, 0);

        assertThat(cookie).isEqualTo(Bits.U64_MAX);
        assertThat(e.m.dma().mappingError(e.dev, cookie)).isEqualTo(-Errno.ENOMEM);
        assertThat(e.swiotlbUsed()).isZero();
        assertThat(cpuReadPhys(e.m, page + OFF, SIZE)).isEqualTo(pattern(SIZE, 120));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void coherentMemoryIsZeroedSharedWithoutSyncsAndFullyFreed(Case c) {
        Env e = c.env().get();
        long freeBefore = e.m.memory().pages().totalFreePages();
        long size = 8192;
        long[] handle = new long[1];
        long va = e.ops.alloc(e.dev, size, handle, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        long firstHandle = handle[0];
        long phys = toPhys(e, firstHandle);
        e.ops.free(e.dev, size, va, firstHandle, 0);
        assertThat(e.m.memory().pages().totalFreePages()).isEqualTo(freeBefore);

        // Leave dirty junk in the CPU cache over those pages (their cacheable alias), then allocate them again.
        cpuWritePhys(e.m, phys, TestMachines.filled((int) size, 0xa5));
        va = e.ops.alloc(e.dev, size, handle, Gfp.GFP_KERNEL, 0);
        assertThat(toPhys(e, handle[0]))
                .as("the allocator hands the same pages back")
                .isEqualTo(phys);

        byte[] zeros = new byte[(int) size];
        assertThat(cpuRead(e.m, va, (int) size)).isEqualTo(zeros);
        assertThat(deviceRead(e.m, e.dev, handle[0], (int) size)).isEqualTo(zeros);
        evictAllCaches(e.m); // a dirty junk line left on the alias would now overwrite the zeros
        assertThat(deviceRead(e.m, e.dev, handle[0], (int) size)).isEqualTo(zeros);

        byte[] cpuData = pattern((int) size, 130);
        byte[] devData = pattern((int) size, 131);
        cpuWrite(e.m, va, cpuData);
        assertThat(deviceRead(e.m, e.dev, handle[0], (int) size)).isEqualTo(cpuData);
        deviceWrite(e.m, e.dev, handle[0], devData);
        assertThat(cpuRead(e.m, va, (int) size)).isEqualTo(devData);

        e.ops.free(e.dev, size, va, handle[0], 0);
        assertThat(e.m.memory().pages().totalFreePages()).isEqualTo(freeBefore);
        if (e.m.addressSpace().isVmalloc(va)) {
            assertThat(e.m.addressSpace().vmapAreaSize(va)).as("remap undone").isEqualTo(-1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aThirtyTwoBitMaskIsSupported(Case c) {
        Env e = c.env().get();
        // Every modelled platform keeps RAM a 32-bit device can reach (ZONE_DMA32 or all RAM below 4 GiB).
        assertThat(e.ops.dmaSupported(e.dev, Bits.dmaBitMask(32))).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void repeatedMapsLeaveNoState(Case c) {
        Env e = c.env().get();
        long[] pages = new long[e.zones.size()];
        for (int z = 0; z < pages.length; z++) {
            pages[z] = e.page(e.zones.get(z));
        }
        long freeBefore = e.m.memory().pages().totalFreePages();
        for (int round = 0; round < 40; round++) {
            for (int z = 0; z < pages.length; z++) {
                Direction dir = Direction.values()[round % 3];
                long dma = e.ops.mapPage(e.dev, pages[z], round * 64, 1024 + round * 32, dir, 0);
                assertThat(dma).isNotEqualTo(Bits.U64_MAX);
                e.unmap(dma, 1024 + round * 32, dir);
            }
        }
        assertThat(e.swiotlbUsed()).isZero();
        assertThat(e.m.memory().pages().totalFreePages()).isEqualTo(freeBefore);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dummyCases")
    void dummyOpsFailEveryOperation(Case c) {
        Env e = c.env().get();
        long page = e.page(Zone.DMA32);

        long cookie = e.ops.mapPage(e.dev, page, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(e.m.dma().mappingError(e.dev, cookie)).isEqualTo(-Errno.ENOMEM);
        // __dummy_mapping_error returns 1 for any address: nothing mapped through it can be used.
        assertThat(e.m.dma().mappingError(e.dev, page)).isEqualTo(-Errno.ENOMEM);
        assertThat(e.m.dma().mapPageAttrs(e.dev, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(cookie);

        ScatterList sg = new ScatterList(2).add(page, 0, 2048).add(page, 2048, 2048);
        assertThat(e.ops.mapSg(e.dev, sg, 2, Direction.FROM_DEVICE, 0)).isZero();
        assertThat(e.m.dma().mapSgAttrs(e.dev, sg, 2, Direction.FROM_DEVICE, 0)).isZero();

        long[] handle = {0x1234};
        assertThat(e.ops.alloc(e.dev, 4096, handle, Gfp.GFP_KERNEL, 0)).isZero();
        assertThat(e.m.dma().allocCoherent(e.dev, 4096, handle, Gfp.GFP_KERNEL)).isZero();

        assertThat(e.ops.dmaSupported(e.dev, Bits.dmaBitMask(32))).isZero();
        assertThat(e.ops.dmaSupported(e.dev, Bits.U64_MAX)).isZero();
        assertThat(e.m.dma().setMask(e.dev, Bits.dmaBitMask(64))).isEqualTo(-Errno.EIO);
        assertThat(e.ops.mmap(e.dev, null, 0, 0, 4096, 0)).isEqualTo(-Errno.ENXIO);
        assertThat(e.swiotlbUsed()).isZero();
    }

    private static void assertBounce(Env e, int zoneIndex, long page, long dma) {
        if (e.m.iommu() != null && e.m.iommu().domainOf(e.dev) != null) {
            assertThat(dma).as("an IOVA, not the physical address").isNotEqualTo(page + OFF);
            assertThat(toPhys(e, dma))
                    .as("the IOMMU translates it to the buffer")
                    .isEqualTo(page + OFF);
            return;
        }
        long direct = DmaAddress.physToDma(e.dev, page + OFF);
        if (e.bounces.get(zoneIndex)) {
            assertThat(dma).as("bounced through swiotlb").isNotEqualTo(direct);
            assertThat(e.m.swiotlb().findPool(e.dev, DmaAddress.dmaToPhys(e.dev, dma)))
                    .isNotNull();
        } else {
            assertThat(dma).as("mapped in place").isEqualTo(direct);
        }
    }
}
