package dev.dmalab.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.driver.DriverCore;
import dev.dmalab.driver.PciDriver;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.WorkloadContext;
import dev.dmalab.testing.Seeds;
import dev.dmalab.util.SeededRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Focused tests of the DMA checker. The expected values are worked out from the rules of the kernel's {@code
 * kernel/dma/debug.c} (6.x, spec §4) — its message texts with their fields, {@code err_printk}'s reporting, the
 * best-fit lookup, {@code dma_mapping_error()} marking — and from the checker's own contract for the checks only a
 * model can make (CPU ownership, device accesses, arch-aware cache-line checks). Where the checker departs from the
 * kernel the test that states the kernel's behaviour would fail.
 *
 * <p>x86-q35 devices are coherent and on dma-direct with no DMA offset, so a DMA address is the buffer's physical
 * address; arm64-noncoherent's devices are not coherent, and buffers come from the lowest zone so that nothing
 * bounces.
 */
class DmaCheckerTest {
    static final String X86 = "x86-q35";
    static final String ARM = "arm64-noncoherent";
    /** x86-q35: e1000e, 64-bit mask. */
    static final String NIC = "0000:00:04.0";
    /** x86-q35: ICH9 AHCI, 64-bit mask. */
    static final String SATA = "0000:00:1f.2";

    static final CheckOptions ALL = CheckOptions.DEFAULT.withAllErrors(true);
    static final int LEN = 2048;

    // ---------------------------------------------------------------------------------------------------------
    // Rig

    /** A booted 6.12 machine with the checker attached, and a driver task to run as. */
    static final class Rig {
        final Machine m;
        final WorkloadContext ctx;
        final DmaChecker checker;
        final long pageBytes;
        final int lineBytes;

        Rig(String platform, CheckOptions options) {
            m = Machine.boot(Platforms.builtIn(platform), KernelVersion.V6_12);
            checker = m.attachChecker(options);
            ctx = new WorkloadContext(m, 7);
            ctx.task("dmalab-test", 700, 0);
            pageBytes = m.memory().pageSize().bytes();
            lineBytes = m.caches().geometry().lineBytes();
        }

        Device dev(String name) {
            return m.device(name);
        }

        /** The platform's device for the arch-aware tests: the NIC on x86-q35, the first non-coherent one else. */
        Device testDevice() {
            for (Device d : m.devices()) {
                if (!d.dmaCoherent()) {
                    return d;
                }
            }
            return m.device(NIC);
        }

        /** A buffer in fresh pages of its own, from the lowest zone with room. */
        long buffer(long len) {
            IllegalStateException last = null;
            for (Zone z : new Zone[] {Zone.DMA, Zone.DMA32, Zone.NORMAL}) {
                try {
                    return ctx.kmallocLike(len, 0, z);
                } catch (IllegalStateException e) {
                    last = e;
                }
            }
            throw last;
        }

        long phys(long va) {
            return m.addressSpace().virtToPhys(va);
        }

        /** Maps and checks the result, as a careful driver does. */
        long map(Device d, long va, long len, Direction dir) {
            return map(d, va, len, dir, 0);
        }

        long map(Device d, long va, long len, Direction dir, long attrs) {
            long addr = m.dma().mapSingleAttrs(d, va, len, dir, attrs);
            assertThat(m.dma().mappingError(d, addr))
                    .as("dma_map_single(%d bytes) on %s", len, d.name())
                    .isZero();
            return addr;
        }

        /** Maps without calling dma_mapping_error(). */
        long mapUnchecked(Device d, long va, long len, Direction dir) {
            return m.dma().mapSingleAttrs(d, va, len, dir, 0);
        }

        void unmap(Device d, long addr, long len, Direction dir) {
            m.dma().unmapSingleAttrs(d, addr, len, dir, 0);
        }

        void deviceWrite(Device d, long addr, int len) {
            ctx.tick();
            m.busMaster(d).write(addr, ctx.pattern(len), 0, len);
            ctx.tick();
        }

        void deviceRead(Device d, long addr, int len) {
            ctx.tick();
            m.busMaster(d).read(addr, new byte[len], 0, len);
            ctx.tick();
        }

        void cpuRead(long va, int len) {
            ctx.cpuRead(va, len);
        }

        void cpuWrite(long va, int len) {
            ctx.cpuWrite(va, ctx.pattern(len));
        }

        List<DmaFinding> findings() {
            return checker.findings();
        }

        /** The dma-debug lines of the log. */
        List<String> apiLines() {
            return m.kernel().printk().lines().stream()
                    .map(Printk.Line::text)
                    .filter(t -> t.startsWith("DMA-API: "))
                    .toList();
        }

        /** A scatterlist over {@code n} page-sized buffers of their own. */
        ScatterList pages(int n) {
            ScatterList sg = new ScatterList(n);
            for (int i = 0; i < n; i++) {
                long va = buffer(pageBytes);
                sg.add(phys(va), 0, (int) pageBytes);
            }
            return sg;
        }
    }

    /** {@code 0x%016llx}. */
    static String hex16(long v) {
        return String.format(Locale.ROOT, "0x%016x", v);
    }

    /** Exactly one finding, of {@code category}, with the kernel's {@code message}, and its line in the log. */
    private static DmaFinding assertOnly(Rig r, Device d, Category category, String message) {
        assertThat(r.findings()).as("%s", r.findings()).hasSize(1);
        DmaFinding f = r.findings().get(0);
        assertThat(f.category()).isEqualTo(category);
        assertThat(f.message()).isEqualTo(message);
        assertThat(f.device()).isEqualTo(d.name());
        assertThat(f.driver()).isEqualTo(d.driverName());
        assertThat(r.apiLines()).containsExactly("DMA-API: " + d.driverName() + " " + d.name() + ": " + message);
        return f;
    }

    // ---------------------------------------------------------------------------------------------------------
    // dma-debug messages

    @Test
    void unmapWithDifferentSizeNamesBothSizes() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        assertThat(addr).as("dma-direct, no offset").isEqualTo(r.phys(va));
        r.deviceWrite(d, addr, 1500);
        r.unmap(d, addr, 1500, Direction.FROM_DEVICE);

        DmaFinding f = assertOnly(
                r,
                d,
                Category.UNMAP_WRONG_SIZE,
                "device driver frees DMA memory with different size [device address=" + hex16(addr)
                        + "] [map size=2048 bytes] [unmap size=1500 bytes]");
        assertThat(f.driver()).isEqualTo("e1000e");
        assertThat(f.call()).isEqualTo("dma_unmap_page");
        assertThat(r.checker.errorCount()).isEqualTo(1);
        assertThat(r.checker.liveEntries())
                .as("the entry is removed all the same")
                .isZero();
    }

    @Test
    void unmapWithDifferentDirectionNamesBothDirections() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);

        assertOnly(
                r,
                d,
                Category.UNMAP_WRONG_DIRECTION,
                "device driver frees DMA memory with different direction [device address=" + hex16(addr)
                        + "] [size=2048 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]");
    }

    /** check_unmap's order: size, type, sg count, direction, map error; every [size=] after the first is ref->size. */
    @Test
    void oneUnmapWithSeveralMistakesReportsThemInTheKernelsOrder() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.mapUnchecked(d, va, LEN, Direction.FROM_DEVICE);
        r.unmap(d, addr, 1500, Direction.TO_DEVICE);

        String at = "[device address=" + hex16(addr) + "]";
        assertThat(r.findings())
                .extracting(DmaFinding::category)
                .containsExactly(
                        Category.UNMAP_WRONG_SIZE, Category.UNMAP_WRONG_DIRECTION, Category.UNCHECKED_MAP_ERROR);
        assertThat(r.findings())
                .extracting(DmaFinding::message)
                .containsExactly(
                        "device driver frees DMA memory with different size " + at
                                + " [map size=2048 bytes] [unmap size=1500 bytes]",
                        "device driver frees DMA memory with different direction " + at
                                + " [size=1500 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]",
                        "device driver failed to check map error" + at + " [size=1500 bytes] [mapped as single]");
        assertThat(r.checker.errorCount()).isEqualTo(3);
        assertThat(r.apiLines()).hasSize(3);
    }

    @Test
    void uncheckedMapErrorHasNoSpaceBeforeTheBracket() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.mapUnchecked(d, va, LEN, Direction.TO_DEVICE);
        r.deviceRead(d, addr, LEN);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);

        assertOnly(
                r,
                d,
                Category.UNCHECKED_MAP_ERROR,
                "device driver failed to check map error[device address=" + hex16(addr)
                        + "] [size=2048 bytes] [mapped as single]");
    }

    @Test
    void freeOfMemoryNeverMapped() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long never = r.phys(r.buffer(LEN));
        r.unmap(d, never, LEN, Direction.TO_DEVICE);

        assertOnly(
                r,
                d,
                Category.UNMAP_NOT_MAPPED,
                "device driver tries to free DMA memory it has not allocated [device address=" + hex16(never)
                        + "] [size=2048 bytes]");
    }

    @Test
    void secondUnmapHasTheKernelsNotAllocatedText() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);

        assertOnly(
                r,
                d,
                Category.DOUBLE_UNMAP,
                "device driver tries to free DMA memory it has not allocated [device address=" + hex16(addr)
                        + "] [size=2048 bytes]");
    }

    @Test
    void freeOfDmaMappingErrorIsAnInvalidAddress() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        r.m.dma().unmapSingleAttrs(d, -1L, LEN, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);

        DmaFinding f =
                assertOnly(r, d, Category.INVALID_FREE, "device driver tries to free an invalid DMA memory address");
        assertThat(f.dmaAddr()).isEqualTo(-1L);
    }

    /** check_sync: [device address=] is the sync's address, [size=] the entry's. */
    @Test
    void syncForCpuWithDifferentDirection() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(4096);
        long addr = r.map(d, va, 4096, Direction.FROM_DEVICE);
        r.deviceWrite(d, addr, 4096);
        // FROM_DEVICE entry, for_cpu, TO_DEVICE ref: only "different direction" (the read-only rule needs an entry
        // that is not FROM_DEVICE).
        r.m.dma().syncSingleForCpu(d, addr + 1024, 512, Direction.TO_DEVICE);

        assertOnly(
                r,
                d,
                Category.SYNC_WRONG_DIRECTION,
                "device driver syncs DMA memory with different direction [device address=" + hex16(addr + 1024)
                        + "] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]");
        assertThat(r.checker.errorCount()).isEqualTo(1);
    }

    @Test
    void syncForDeviceWithDifferentDirection() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        // TO_DEVICE entry, for_device, FROM_DEVICE ref: only "different direction" (the write-only rule needs an
        // entry that is not TO_DEVICE).
        r.m.dma().syncSingleForDevice(d, addr, LEN, Direction.FROM_DEVICE);

        assertOnly(
                r,
                d,
                Category.SYNC_WRONG_DIRECTION,
                "device driver syncs DMA memory with different direction [device address=" + hex16(addr)
                        + "] [size=2048 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]");
        assertThat(r.checker.errorCount()).isEqualTo(1);
    }

    /**
     * sync_for_cpu(FROM_DEVICE) of a TO_DEVICE mapping is two errors in check_sync: "different direction", then
     * "device read-only DMA memory for cpu". With the default num_errors=1 only the first is shown.
     */
    @Test
    void syncReadOnlyMemoryForCpuShowsDifferentDirectionFirst() {
        Rig r = new Rig(X86, CheckOptions.DEFAULT);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        r.m.dma().syncSingleForCpu(d, addr, LEN, Direction.FROM_DEVICE);

        assertOnly(
                r,
                d,
                Category.SYNC_WRONG_DIRECTION,
                "device driver syncs DMA memory with different direction [device address=" + hex16(addr)
                        + "] [size=2048 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]");
    }

    @Test
    void syncReadOnlyMemoryForCpuIsASecondError() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        r.m.dma().syncSingleForCpu(d, addr, LEN, Direction.FROM_DEVICE);

        String fields = " [device address=" + hex16(addr)
                + "] [size=2048 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]";
        // Both of check_sync's errors count and reach the log; the finding list keeps one per category and call.
        assertThat(r.checker.errorCount()).isEqualTo(2);
        assertThat(r.m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .containsSubsequence(
                        "DMA-API: e1000e " + d.name() + ": device driver syncs DMA memory with different direction"
                                + fields,
                        "DMA-API: e1000e " + d.name() + ": device driver syncs device read-only DMA memory for cpu"
                                + fields);
        assertThat(r.findings())
                .extracting(DmaFinding::message)
                .containsExactly("device driver syncs DMA memory with different direction" + fields);
    }

    @Test
    void syncWriteOnlyMemoryToDeviceIsASecondError() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.m.dma().syncSingleForDevice(d, addr, LEN, Direction.TO_DEVICE);

        String fields = " [device address=" + hex16(addr)
                + "] [size=2048 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]";
        // Both of check_sync's errors count and reach the log; the finding list keeps one per category and call.
        assertThat(r.checker.errorCount()).isEqualTo(2);
        assertThat(r.m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .containsSubsequence(
                        "DMA-API: e1000e " + d.name() + ": device driver syncs DMA memory with different direction"
                                + fields,
                        "DMA-API: e1000e " + d.name() + ": device driver syncs device write-only DMA memory to device"
                                + fields);
        assertThat(r.findings())
                .extracting(DmaFinding::message)
                .containsExactly("device driver syncs DMA memory with different direction" + fields);
    }

    @Test
    void unmapSgWithDifferentEntryCount() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        ScatterList sg = r.pages(2);
        int ents = r.m.dma().mapSgAttrs(d, sg, 2, Direction.TO_DEVICE, 0);
        assertThat(ents).as("dma-direct maps each entry").isEqualTo(2);
        r.m.dma().unmapSgAttrs(d, sg, 1, Direction.TO_DEVICE, 0);

        assertOnly(
                r,
                d,
                Category.UNMAP_SG_WRONG_NENTS,
                "device driver frees DMA sg list with different entry count [map count=2] [unmap count=1]");
    }

    @Test
    void unmapSgWithFewerEntriesLeavesTheOthersMapped() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        ScatterList sg = r.pages(2);
        r.m.dma().mapSgAttrs(d, sg, 2, Direction.TO_DEVICE, 0);
        r.m.dma().unmapSgAttrs(d, sg, 1, Direction.TO_DEVICE, 0);

        assertThat(r.checker.liveEntries()).isEqualTo(1);
    }

    /** Binds a driver whose probe maps {@code count} RX buffers and whose remove() forgets them; unbinds it. */
    private static long[] leakAtUnbind(Rig r, Device d, int count) {
        DriverCore core = new DriverCore(r.m.kernel(), r.m.dma(), List.of(d));
        long[] vas = new long[count];
        for (int i = 0; i < count; i++) {
            vas[i] = r.buffer(LEN);
        }
        long[] addrs = new long[count];
        PciDriver drv = new PciDriver("dmalab-rx") {
            @Override
            public boolean matches(Device dev) {
                return dev == d;
            }

            @Override
            public int probe(Device dev) {
                for (int i = 0; i < count; i++) {
                    addrs[i] = r.map(dev, vas[i], LEN, Direction.FROM_DEVICE);
                }
                return 0;
            }
        };
        assertThat(core.pciRegisterDriver(drv)).isZero();
        assertThat(core.driverOf(d)).isSameAs(drv);
        core.releaseDriver(d);
        return addrs;
    }

    @Test
    void leakAtUnbindCountsTheEntriesAndDetailsOne() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long addr = leakAtUnbind(r, d, 1)[0];

        assertThat(r.findings()).hasSize(1);
        DmaFinding f = r.findings().get(0);
        assertThat(f.category()).isEqualTo(Category.LEAK_AT_UNBIND);
        assertThat(f.message())
                .startsWith("device driver has pending DMA allocations while released from device [count=1]")
                .endsWith("One of leaked entries details: [device address=" + hex16(addr)
                        + "] [size=2048 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]");
        assertThat(r.apiLines()).singleElement().asString().endsWith(" " + d.name() + ": " + f.message());
        assertThat(r.checker.errorCount()).isEqualTo(1);
    }

    /** device_dma_allocations() keeps the last entry met walking the hash from bucket 0. */
    @Test
    void leakDetailsTheLastEntryInHashOrder() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long[] addrs = leakAtUnbind(r, d, 2);
        int b0 = (int) ((addrs[0] >>> 13) & 16383);
        int b1 = (int) ((addrs[1] >>> 13) & 16383);
        assertThat(b0).as("two buckets").isNotEqualTo(b1);
        long last = b0 > b1 ? addrs[0] : addrs[1];

        assertThat(r.findings()).singleElement().satisfies(f -> assertThat(f.message())
                .startsWith("device driver has pending DMA allocations while released from device [count=2]")
                .endsWith("[device address=" + hex16(last) + "] [size=2048 bytes] [mapped with DMA_FROM_DEVICE]"
                        + " [mapped as single]"));
    }

    @Test
    void leakAtUnbindAsTheKernelPrintsIt() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long addr = leakAtUnbind(r, d, 1)[0];

        String message = "device driver has pending DMA allocations while released from device [count=1]\n"
                + "One of leaked entries details: [device address=" + hex16(addr)
                + "] [size=2048 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]";
        assertThat(r.findings()).hasSize(1);
        SoftAssertions.assertSoftly(soft -> {
            soft.assertThat(r.findings().get(0).driver()).isEqualTo("pci");
            soft.assertThat(r.findings().get(0).message()).isEqualTo(message);
            soft.assertThat(r.apiLines()).containsExactly("DMA-API: pci " + d.name() + ": " + message);
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Reporting switches

    /** Unmaps a never-mapped address: one dma-debug error on {@code d}. */
    private static long strayUnmap(Rig r, Device d) {
        long never = r.phys(r.buffer(LEN));
        r.unmap(d, never, LEN, Direction.TO_DEVICE);
        return never;
    }

    @Test
    void byDefaultOnlyTheFirstErrorIsReportedAndAllAreCounted() {
        Rig r = new Rig(X86, CheckOptions.DEFAULT);
        Device d = r.dev(NIC);
        long first = strayUnmap(r, d);
        strayUnmap(r, d);
        strayUnmap(r, d);

        assertThat(r.findings()).singleElement().satisfies(f -> assertThat(f.dmaAddr())
                .isEqualTo(first));
        assertThat(r.checker.errorCount()).isEqualTo(3);
        assertThat(r.checker.suppressed()).isEqualTo(2);
        assertThat(r.apiLines()).hasSize(1);
    }

    @Test
    void allErrorsReportsEveryError() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long first = strayUnmap(r, d);
        long second = strayUnmap(r, d);

        assertThat(r.findings()).extracting(DmaFinding::dmaAddr).containsExactly(first, second);
        assertThat(r.checker.errorCount()).isEqualTo(2);
        assertThat(r.checker.suppressed()).isZero();
        assertThat(r.apiLines()).hasSize(2);
    }

    @Test
    void numErrorsShowsThatMany() {
        Rig r = new Rig(X86, new CheckOptions(false, 2, null, true));
        Device d = r.dev(NIC);
        for (int i = 0; i < 4; i++) {
            strayUnmap(r, d);
        }

        assertThat(r.findings()).hasSize(2);
        assertThat(r.checker.errorCount()).isEqualTo(4);
        assertThat(r.checker.suppressed()).isEqualTo(2);
    }

    /** err_printk decrements num_errors for every error, the filtered-out ones included. */
    @Test
    void aFilteredOutErrorStillUsesUpNumErrors() {
        Rig r = new Rig(X86, CheckOptions.DEFAULT.withDriverFilter("ahci"));
        Device nic = r.dev(NIC);
        Device sata = r.dev(SATA);
        assertThat(nic.driverName()).isEqualTo("e1000e");
        assertThat(sata.driverName()).isEqualTo("ahci");
        strayUnmap(r, nic);
        strayUnmap(r, sata);

        assertThat(r.findings()).isEmpty();
        assertThat(r.apiLines()).isEmpty();
        assertThat(r.checker.errorCount()).isEqualTo(2);
        assertThat(r.checker.suppressed()).isEqualTo(2);
    }

    @Test
    void theFilteredDriversFirstErrorIsReported() {
        Rig r = new Rig(X86, CheckOptions.DEFAULT.withDriverFilter("ahci"));
        Device nic = r.dev(NIC);
        Device sata = r.dev(SATA);
        long addr = strayUnmap(r, sata);
        strayUnmap(r, nic);

        assertOnly(
                r,
                sata,
                Category.UNMAP_NOT_MAPPED,
                "device driver tries to free DMA memory it has not allocated [device address=" + hex16(addr)
                        + "] [size=2048 bytes]");
        assertThat(r.checker.errorCount()).isEqualTo(2);
        assertThat(r.checker.suppressed()).isEqualTo(1);
    }

    @Test
    void allErrorsWithAFilterReportsEveryErrorOfThatDriverOnly() {
        Rig r = new Rig(X86, ALL.withDriverFilter("ahci"));
        Device nic = r.dev(NIC);
        Device sata = r.dev(SATA);
        strayUnmap(r, nic);
        long a = strayUnmap(r, sata);
        strayUnmap(r, nic);
        long b = strayUnmap(r, sata);

        assertThat(r.findings()).extracting(DmaFinding::dmaAddr).containsExactly(a, b);
        assertThat(r.findings()).extracting(DmaFinding::driver).containsOnly("ahci");
        assertThat(r.checker.errorCount()).isEqualTo(4);
        assertThat(r.checker.suppressed()).isEqualTo(2);
    }

    /** The model's own checks are not dma-debug's: num_errors does not hold them back, nor do they use it up. */
    @Test
    void checksBeyondDmaDebugAreNotSubjectToNumErrors() {
        Rig r = new Rig(X86, CheckOptions.DEFAULT);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.cpuRead(va, 64); // device-owned
        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);
        strayUnmap(r, d);

        assertThat(r.findings())
                .extracting(DmaFinding::category)
                .containsExactly(Category.CPU_READ_DEVICE_OWNED, Category.UNMAP_NOT_MAPPED);
        assertThat(r.checker.errorCount()).isEqualTo(1);
        assertThat(r.apiLines()).hasSize(1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Best fit and map-error marking

    @Test
    void theSameBufferMappedTwiceIsUnmappedByPerfectFit() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long rx = r.map(d, va, LEN, Direction.FROM_DEVICE);
        long tx = r.map(d, va, LEN, Direction.TO_DEVICE);
        assertThat(tx).as("dma-direct gives the same address").isEqualTo(rx);
        assertThat(r.checker.liveEntries()).isEqualTo(2);

        r.unmap(d, tx, LEN, Direction.TO_DEVICE); // perfect fit with the second entry
        assertThat(r.checker.liveEntries()).isEqualTo(1);
        r.unmap(d, rx, LEN, Direction.FROM_DEVICE); // the only match left
        assertThat(r.checker.liveEntries()).isZero();

        assertThat(r.findings()).isEmpty();
        assertThat(r.checker.errorCount()).isZero();
    }

    @Test
    void severalMatchesAndNoPerfectFitIsNoMatch() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.map(d, va, LEN, Direction.TO_DEVICE);
        r.unmap(d, addr, LEN, Direction.BIDIRECTIONAL); // both match at level 3

        assertOnly(
                r,
                d,
                Category.UNMAP_NOT_MAPPED,
                "device driver tries to free DMA memory it has not allocated [device address=" + hex16(addr)
                        + "] [size=2048 bytes]");
        assertThat(r.checker.liveEntries()).as("nothing removed").isEqualTo(2);

        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);
        assertThat(r.findings()).hasSize(1);
        assertThat(r.checker.liveEntries()).isZero();
    }

    /** One unmatched entry is a match whatever its score: the fields then tell what differs. */
    @Test
    void aSingleMatchIsFoundEvenWithNothingElseInCommon() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.unmap(d, addr, 100, Direction.TO_DEVICE);

        assertThat(r.findings())
                .extracting(DmaFinding::category)
                .containsExactly(Category.UNMAP_WRONG_SIZE, Category.UNMAP_WRONG_DIRECTION);
        assertThat(r.checker.liveEntries()).isZero();
    }

    @Test
    void dmaMappingErrorMarksTheMappingChecked() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long addr = r.mapUnchecked(d, va, LEN, Direction.FROM_DEVICE);
        assertThat(r.m.dma().mappingError(d, addr)).isZero();
        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);

        assertThat(r.findings()).isEmpty();
    }

    /**
     * debug_dma_mapping_error marks the first NOT_CHECKED entry of the bucket; an unmap takes the first perfect
     * fit. Two identical mappings checked once: the first unmap takes the checked one, the second is unchecked.
     */
    @Test
    void dmaMappingErrorMarksOnlyTheFirstUncheckedEntry() {
        Rig r = new Rig(X86, ALL);
        Device d = r.dev(NIC);
        long va = r.buffer(LEN);
        long a = r.mapUnchecked(d, va, LEN, Direction.TO_DEVICE);
        long b = r.mapUnchecked(d, va, LEN, Direction.TO_DEVICE);
        assertThat(b).isEqualTo(a);
        assertThat(r.m.dma().mappingError(d, a)).isZero();

        r.unmap(d, a, LEN, Direction.TO_DEVICE);
        assertThat(r.findings()).isEmpty();
        r.unmap(d, a, LEN, Direction.TO_DEVICE);
        assertOnly(
                r,
                d,
                Category.UNCHECKED_MAP_ERROR,
                "device driver failed to check map error[device address=" + hex16(a)
                        + "] [size=2048 bytes] [mapped as single]");
    }

    /** A 512 KiB buffer above 4 GiB for a 32-bit device must bounce and is over swiotlb's 256 KiB limit. */
    @Test
    void aFailedMapCreatesNoEntry() {
        Rig r = new Rig(ARM, ALL);
        Device d = null;
        for (Device x : r.m.devices()) {
            if (x.dmaMask() == 0xffff_ffffL) {
                d = x;
                break;
            }
        }
        assertThat(d).as("a 32-bit device").isNotNull();
        long va = r.ctx.kmallocLike(512 * 1024, 0, Zone.NORMAL);
        assertThat(r.phys(va)).as("above 4 GiB").isGreaterThan(0xffff_ffffL);

        long addr = r.mapUnchecked(d, va, 512 * 1024, Direction.TO_DEVICE);
        assertThat(addr).as("DMA_MAPPING_ERROR").isEqualTo(-1L);
        assertThat(r.checker.liveEntries()).isZero();
        assertThat(r.m.dma().mappingError(d, addr)).isNotZero();
        assertThat(r.findings()).isEmpty();
        assertThat(r.checker.errorCount()).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------
    // CPU ownership

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void cpuOwnsOnlyWhatWasSyncedForIt(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(4096);
        long pa = r.phys(va);
        long addr = r.map(d, va, 4096, Direction.FROM_DEVICE);
        r.deviceWrite(d, addr, 4096);

        r.m.dma().syncSingleForCpu(d, addr + 1024, 512, Direction.FROM_DEVICE);
        r.cpuRead(va + 1024, 512);
        assertThat(r.findings()).as("inside the synced range").isEmpty();

        r.cpuRead(va + 1536, 64);
        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.CPU_READ_DEVICE_OWNED);
            assertThat(f.phys()).isEqualTo(pa + 1536);
            assertThat(f.size()).isEqualTo(64);
            assertThat(f.dmaAddr()).isEqualTo(addr);
        });

        r.m.dma().syncSingleForDevice(d, addr + 1024, 512, Direction.FROM_DEVICE);
        r.cpuRead(va + 1024, 64);
        assertThat(r.findings()).hasSize(2);
        assertThat(r.findings().get(1).category()).isEqualTo(Category.CPU_READ_DEVICE_OWNED);
        assertThat(r.findings().get(1).phys()).isEqualTo(pa + 1024);

        r.m.dma().syncSingleForCpu(d, addr, 4096, Direction.FROM_DEVICE);
        r.cpuRead(va, 4096);
        r.unmap(d, addr, 4096, Direction.FROM_DEVICE);
        r.cpuRead(va, 4096);
        assertThat(r.findings()).hasSize(2);
        assertThat(r.checker.errorCount()).as("not dma-debug checks").isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void aToDeviceMappingMayBeReadButNotWritten(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        r.cpuRead(va, LEN);
        assertThat(r.findings()).isEmpty();

        r.cpuWrite(va + 16, 16);
        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.CPU_WRITE_DEVICE_OWNED);
            assertThat(f.phys()).isEqualTo(r.phys(va) + 16);
            assertThat(f.size()).isEqualTo(16);
        });
        r.deviceRead(d, addr, LEN);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);
        assertThat(r.findings()).hasSize(1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Device accesses

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void deviceWriteToAToDeviceMapping(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        long addr = r.map(d, va, LEN, Direction.TO_DEVICE);
        r.deviceRead(d, addr, LEN);
        assertThat(r.findings()).isEmpty();
        r.deviceWrite(d, addr + 64, 64);
        r.unmap(d, addr, LEN, Direction.TO_DEVICE);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.DEVICE_WRITE_TO_DEVICE_MAPPING);
            assertThat(f.dmaAddr()).isEqualTo(addr + 64);
            assertThat(f.size()).isEqualTo(64);
            assertThat(f.cpu()).isEqualTo(-1);
            assertThat(f.message()).contains("64 bytes", "DMA_TO_DEVICE");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void deviceWritePastTheEndOfAMapping(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(2 * LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.deviceWrite(d, addr, LEN);
        assertThat(r.findings()).as("the whole mapping").isEmpty();
        r.deviceWrite(d, addr, 2 * LEN);
        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.DEVICE_WRITE_PAST_END);
            assertThat(f.dmaAddr()).isEqualTo(addr);
            assertThat(f.size()).isEqualTo(2 * LEN);
            assertThat(f.message()).contains(LEN + " bytes past the end");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void wildDma(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        long wild = r.phys(r.buffer(LEN)); // programmed with a physical address that was never mapped
        r.deviceWrite(d, wild, 256);
        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.WILD_DMA);
            assertThat(f.dmaAddr()).isEqualTo(wild);
            assertThat(f.size()).isEqualTo(256);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void deviceUseAfterUnmap(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(LEN);
        long addr = r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.unmap(d, addr, LEN, Direction.FROM_DEVICE);
        r.deviceWrite(d, addr + 128, 256);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.category()).isEqualTo(Category.USE_AFTER_UNMAP);
            assertThat(f.dmaAddr()).isEqualTo(addr + 128);
            assertThat(f.phys()).isEqualTo(r.phys(va));
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Arch awareness

    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void cachelineSharingOnlyWhereTheDeviceIsNotCoherent(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long va = r.buffer(200);
        r.ctx.liveData(va + 200, 8, "rx_ctx.state"); // a live field right after the buffer, in its last line
        long addr = r.map(d, va, 200, Direction.FROM_DEVICE);
        r.deviceWrite(d, addr, 200);
        r.unmap(d, addr, 200, Direction.FROM_DEVICE);

        if (d.dmaCoherent()) {
            assertThat(r.findings()).isEmpty();
        } else {
            assertThat(r.findings()).singleElement().satisfies(f -> {
                assertThat(f.category()).isEqualTo(Category.CACHELINE_SHARING);
                assertThat(f.phys()).isEqualTo(r.phys(va));
                assertThat(f.size()).isEqualTo(200);
            });
        }
    }

    @Test
    void theNonCoherentPlatformHasANonCoherentDevice() {
        assertThat(new Rig(ARM, ALL).testDevice().dmaCoherent()).isFalse();
        assertThat(new Rig(X86, ALL).testDevice().dmaCoherent()).isTrue();
    }

    /** Two device-writable mappings whose first cache line is the same one. */
    @ParameterizedTest
    @ValueSource(strings = {X86, ARM})
    void overlappingCachelineOnlyWhereTheDeviceIsNotCoherent(String platform) {
        Rig r = new Rig(platform, ALL);
        Device d = r.testDevice();
        long page = r.buffer(r.pageBytes);
        long a = r.map(d, page + 256, 512, Direction.FROM_DEVICE);
        long b = r.map(d, page + 256 + 32, 512, Direction.FROM_DEVICE);
        r.unmap(d, b, 512, Direction.FROM_DEVICE);
        r.unmap(d, a, 512, Direction.FROM_DEVICE);

        if (d.dmaCoherent()) {
            assertThat(r.findings()).isEmpty();
            assertThat(r.checker.errorCount()).isZero();
        } else {
            DmaFinding f = assertOnly(
                    r,
                    d,
                    Category.OVERLAPPING_CACHELINE,
                    "cacheline tracking EEXIST, overlapping mappings aren't supported");
            assertThat(f.dmaAddr()).isEqualTo(b);
        }
    }

    /** add_dma_entry: no EEXIST report with DMA_ATTR_SKIP_CPU_SYNC; DMA_TO_DEVICE mappings are not tracked. */
    @Test
    void overlappingCachelineKeepsTheKernelsExemptions() {
        Rig r = new Rig(ARM, ALL);
        Device d = r.testDevice();
        long page = r.buffer(r.pageBytes);
        long a = r.map(d, page + 256, 512, Direction.FROM_DEVICE);
        long b = r.map(d, page + 256 + 32, 512, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        long c = r.map(d, page + 256 + 64, 512, Direction.TO_DEVICE);
        r.unmap(d, c, 512, Direction.TO_DEVICE);
        r.m.dma().unmapSingleAttrs(d, b, 512, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        r.unmap(d, a, 512, Direction.FROM_DEVICE);
        assertThat(r.findings()).isEmpty();

        // All three gone: the line is free again, and a new mapping there is alone.
        long e = r.map(d, page + 256 + 16, 512, Direction.FROM_DEVICE);
        r.unmap(d, e, 512, Direction.FROM_DEVICE);
        assertThat(r.findings()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Randomized: valid sequences are silent; one misuse is one finding

    static Stream<Arguments> seedsAndPlatforms() {
        List<Arguments> out = new ArrayList<>();
        for (long seed : Seeds.seeds()) {
            out.add(Arguments.of(seed, X86));
            out.add(Arguments.of(seed, ARM));
        }
        return out.stream();
    }

    /** A live mapping of the random driver. */
    static final class Live {
        final boolean sg;
        final long va;
        final long addr;
        final int len;
        final Direction dir;
        final ScatterList list;
        final long[] vas;
        final int nents;

        Live(long va, long addr, int len, Direction dir) {
            this.sg = false;
            this.va = va;
            this.addr = addr;
            this.len = len;
            this.dir = dir;
            this.list = null;
            this.vas = null;
            this.nents = 0;
        }

        Live(ScatterList list, long[] vas, int nents, Direction dir) {
            this.sg = true;
            this.va = vas[0];
            this.addr = list.dmaAddress(0);
            this.len = list.dmaLength(0);
            this.dir = dir;
            this.list = list;
            this.vas = vas;
            this.nents = nents;
        }
    }

    /** The misuses injected, each with the one finding it must yield. */
    enum Misuse {
        WRONG_SIZE(Category.UNMAP_WRONG_SIZE),
        WRONG_DIRECTION(Category.UNMAP_WRONG_DIRECTION),
        UNCHECKED(Category.UNCHECKED_MAP_ERROR),
        NOT_MAPPED(Category.UNMAP_NOT_MAPPED),
        DOUBLE(Category.DOUBLE_UNMAP),
        INVALID(Category.INVALID_FREE),
        SYNC_DIRECTION(Category.SYNC_WRONG_DIRECTION),
        SYNC_NOT_MAPPED(Category.SYNC_NOT_MAPPED),
        SG_NENTS(Category.UNMAP_SG_WRONG_NENTS),
        CPU_READ(Category.CPU_READ_DEVICE_OWNED),
        CPU_WRITE(Category.CPU_WRITE_DEVICE_OWNED),
        DEVICE_WRITE_TO_DEVICE(Category.DEVICE_WRITE_TO_DEVICE_MAPPING),
        PAST_END(Category.DEVICE_WRITE_PAST_END),
        WILD(Category.WILD_DMA),
        AFTER_UNMAP(Category.USE_AFTER_UNMAP);

        final Category category;

        Misuse(Category category) {
            this.category = category;
        }
    }

    /** A driver making random correct DMA calls, and one mistake on request. */
    static final class RandomDriver {
        private static final Direction[] DIRS = {Direction.TO_DEVICE, Direction.FROM_DEVICE, Direction.BIDIRECTIONAL};
        private static final int SLACK = 256;

        final Rig r;
        final Device d;
        final SeededRandom rnd;
        final List<Live> live = new ArrayList<>();
        final StringBuilder log = new StringBuilder();

        RandomDriver(Rig r, Device d, SeededRandom rnd) {
            this.r = r;
            this.d = d;
            this.rnd = rnd;
        }

        private void note(String s) {
            log.append(s).append('\n');
        }

        /** A single mapping of a random line-multiple length of at least 256 bytes (no kmalloc bounce). */
        Live mapSingle(Direction dir, boolean check) {
            int len = r.lineBytes * rnd.nextInt(256 / r.lineBytes, 8192 / r.lineBytes + 1);
            long va = r.buffer(len + SLACK);
            if (dir != Direction.FROM_DEVICE) {
                r.cpuWrite(va, len);
            }
            long addr = check ? r.map(d, va, len, dir) : r.mapUnchecked(d, va, len, dir);
            Live l = new Live(va, addr, len, dir);
            live.add(l);
            note("map " + Long.toHexString(addr) + "+" + len + " " + dir + (check ? "" : " unchecked"));
            return l;
        }

        Live mapSg(Direction dir, int n) {
            ScatterList sg = new ScatterList(n);
            long[] vas = new long[n];
            for (int i = 0; i < n; i++) {
                vas[i] = r.buffer(r.pageBytes);
                if (dir != Direction.FROM_DEVICE) {
                    r.cpuWrite(vas[i], (int) r.pageBytes);
                }
                sg.add(r.phys(vas[i]), 0, (int) r.pageBytes);
            }
            int ents = r.m.dma().mapSgAttrs(d, sg, n, dir, 0);
            assertThat(ents).as("dma_map_sg").isEqualTo(n);
            Live l = new Live(sg, vas, n, dir);
            live.add(l);
            note("map_sg " + n + " " + dir);
            return l;
        }

        void deviceAccess(Live l) {
            boolean write = l.dir == Direction.FROM_DEVICE || (l.dir == Direction.BIDIRECTIONAL && rnd.nextBoolean());
            int n = l.sg ? l.nents : 1;
            for (int i = 0; i < n; i++) {
                long addr = l.sg ? l.list.dmaAddress(i) : l.addr;
                int len = l.sg ? l.list.dmaLength(i) : l.len;
                int off = r.lineBytes * rnd.nextInt(len / r.lineBytes);
                int cnt = r.lineBytes * rnd.nextInt(1, (len - off) / r.lineBytes + 1);
                if (write) {
                    r.deviceWrite(d, addr + off, cnt);
                } else {
                    r.deviceRead(d, addr + off, cnt);
                }
            }
            note("device " + (write ? "write" : "read") + " " + Long.toHexString(l.addr));
        }

        /** sync_for_cpu, CPU use of what was synced, sync_for_device. */
        void syncWindow(Live l) {
            boolean cpuWrites = l.dir != Direction.FROM_DEVICE && rnd.nextBoolean();
            if (l.sg) {
                r.m.dma().syncSgForCpu(d, l.list, l.nents, l.dir);
                for (long va : l.vas) {
                    r.cpuRead(va, (int) r.pageBytes);
                    if (cpuWrites) {
                        r.cpuWrite(va, 64);
                    }
                }
                r.m.dma().syncSgForDevice(d, l.list, l.nents, l.dir);
                note("sync_sg window " + Long.toHexString(l.addr));
                return;
            }
            int off = r.lineBytes * rnd.nextInt(l.len / r.lineBytes);
            int cnt = r.lineBytes * rnd.nextInt(1, (l.len - off) / r.lineBytes + 1);
            r.m.dma().syncSingleForCpu(d, l.addr + off, cnt, l.dir);
            r.cpuRead(l.va + off, cnt);
            if (cpuWrites) {
                r.cpuWrite(l.va + off, cnt);
            }
            r.m.dma().syncSingleForDevice(d, l.addr + off, cnt, l.dir);
            note("sync window " + Long.toHexString(l.addr) + " +" + off + " " + cnt);
        }

        void unmap(Live l) {
            if (l.sg) {
                r.m.dma().unmapSgAttrs(d, l.list, l.nents, l.dir, 0);
            } else {
                r.unmap(d, l.addr, l.len, l.dir);
            }
            live.remove(l);
            note("unmap " + Long.toHexString(l.addr));
        }

        void validSteps(int steps) {
            for (int s = 0; s < steps; s++) {
                int op = rnd.nextInt(10);
                if (live.isEmpty() || (op < 3 && live.size() < 8)) {
                    Direction dir = DIRS[rnd.nextInt(DIRS.length)];
                    if (rnd.nextInt(4) == 0) {
                        mapSg(dir, rnd.nextInt(1, 4));
                    } else {
                        mapSingle(dir, true);
                    }
                    continue;
                }
                Live l = live.get(rnd.nextInt(live.size()));
                if (op < 6) {
                    deviceAccess(l);
                } else if (op < 9) {
                    syncWindow(l);
                } else {
                    unmap(l);
                }
            }
        }

        /** A live single mapping whose direction passes {@code ok}, mapped afresh if there is none. */
        Live single(Predicate<Direction> ok, Direction fresh) {
            for (Live l : live) {
                if (!l.sg && ok.test(l.dir)) {
                    return l;
                }
            }
            return mapSingle(fresh, true);
        }

        void inject(Misuse misuse) {
            note("inject " + misuse);
            switch (misuse) {
                case WRONG_SIZE -> {
                    Live l = single(dir -> true, Direction.FROM_DEVICE);
                    r.unmap(d, l.addr, l.len - r.lineBytes, l.dir);
                    live.remove(l);
                }
                case WRONG_DIRECTION -> {
                    Live l = single(dir -> dir != Direction.BIDIRECTIONAL, Direction.FROM_DEVICE);
                    r.unmap(
                            d,
                            l.addr,
                            l.len,
                            l.dir == Direction.TO_DEVICE ? Direction.FROM_DEVICE : Direction.TO_DEVICE);
                    live.remove(l);
                }
                case UNCHECKED -> {
                    Live l = mapSingle(DIRS[rnd.nextInt(DIRS.length)], false);
                    deviceAccess(l);
                    unmap(l);
                }
                case NOT_MAPPED -> r.unmap(d, r.phys(r.buffer(LEN)), LEN, Direction.TO_DEVICE);
                case DOUBLE -> {
                    Live l = single(dir -> true, Direction.TO_DEVICE);
                    unmap(l);
                    r.unmap(d, l.addr, l.len, l.dir);
                }
                case INVALID -> r.m.dma().unmapSingleAttrs(d, -1L, LEN, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
                case SYNC_DIRECTION -> {
                    // the two combinations debug.c reports once: FROM_DEVICE synced for the CPU as TO_DEVICE, and
                    // TO_DEVICE synced for the device as FROM_DEVICE
                    Live l = single(dir -> dir != Direction.BIDIRECTIONAL, Direction.FROM_DEVICE);
                    if (l.dir == Direction.FROM_DEVICE) {
                        r.m.dma().syncSingleForCpu(d, l.addr, l.len, Direction.TO_DEVICE);
                    } else {
                        r.m.dma().syncSingleForDevice(d, l.addr, l.len, Direction.FROM_DEVICE);
                    }
                }
                case SYNC_NOT_MAPPED -> r.m.dma()
                        .syncSingleForCpu(d, r.phys(r.buffer(LEN)), LEN, Direction.FROM_DEVICE);
                case SG_NENTS -> {
                    Live l = null;
                    for (Live x : live) {
                        if (x.sg && x.nents >= 2) {
                            l = x;
                        }
                    }
                    if (l == null) {
                        l = mapSg(DIRS[rnd.nextInt(DIRS.length)], rnd.nextInt(2, 4));
                    }
                    r.m.dma().unmapSgAttrs(d, l.list, l.nents - 1, l.dir, 0);
                    live.remove(l);
                }
                case CPU_READ -> {
                    Live l = single(dir -> dir != Direction.TO_DEVICE, Direction.FROM_DEVICE);
                    r.cpuRead(l.va, r.lineBytes);
                }
                case CPU_WRITE -> {
                    Live l = single(dir -> dir == Direction.TO_DEVICE, Direction.TO_DEVICE);
                    r.cpuWrite(l.va, 16);
                }
                case DEVICE_WRITE_TO_DEVICE -> {
                    Live l = single(dir -> dir == Direction.TO_DEVICE, Direction.TO_DEVICE);
                    r.deviceWrite(d, l.addr, r.lineBytes);
                }
                case PAST_END -> {
                    Live l = single(dir -> dir != Direction.TO_DEVICE, Direction.FROM_DEVICE);
                    r.deviceWrite(d, l.addr, l.len + r.lineBytes);
                }
                case WILD -> r.deviceWrite(d, r.phys(r.buffer(LEN)), r.lineBytes);
                case AFTER_UNMAP -> {
                    Live l = single(dir -> dir != Direction.TO_DEVICE, Direction.FROM_DEVICE);
                    unmap(l);
                    r.deviceWrite(d, l.addr, r.lineBytes);
                }
            }
        }

        void unmapAll() {
            while (!live.isEmpty()) {
                unmap(live.get(rnd.nextInt(live.size())));
            }
        }
    }

    /**
     * Per seed and platform, one round per misuse in a seeded random order: a fresh machine, 60 random valid calls
     * (no finding, no dma-debug error), then the misuse and a clean teardown: exactly its one finding.
     */
    @ParameterizedTest(name = "seed={0} {1}")
    @MethodSource("seedsAndPlatforms")
    void validSequencesAreSilentAndOneMisuseIsOneFinding(long seed, String platform) {
        SeededRandom rnd = Seeds.random("DmaCheckerTest.randomSequences " + platform, seed);
        if (platform.equals(ARM)) {
            rnd = rnd.split(); // another sequence than x86's for the same seed
        }
        List<Misuse> order = new ArrayList<>(List.of(Misuse.values()));
        for (int i = order.size() - 1; i > 0; i--) {
            Collections.swap(order, i, rnd.nextInt(i + 1));
        }
        for (int round = 0; round < order.size(); round++) {
            Rig r = new Rig(platform, ALL);
            Device d = r.testDevice();
            RandomDriver drv = new RandomDriver(r, d, rnd.split());
            drv.validSteps(60);
            assertThat(r.findings())
                    .as("seed=%d %s round %d: valid calls\n%s", seed, platform, round, drv.log)
                    .isEmpty();
            assertThat(r.checker.errorCount()).isZero();

            Misuse misuse = order.get(round);
            drv.inject(misuse);
            drv.unmapAll();
            String why =
                    String.format(Locale.ROOT, "seed=%d %s round %d: %s\n%s", seed, platform, round, misuse, drv.log);
            assertThat(r.findings()).as(why).hasSize(1);
            assertThat(r.findings().get(0).category()).as(why).isEqualTo(misuse.category);
            assertThat(r.checker.errorCount()).as(why).isEqualTo(misuse.category.dmaDebug() ? 1 : 0);
            if (misuse != Misuse.SG_NENTS) { // debug.c would keep the segments past nents (see the disabled test)
                assertThat(r.checker.liveEntries()).as(why).isZero();
            }
        }
    }

    /**
     * The physical-address index is built on its first read (see {@code DmaChecker.physIndexed}): a checker that
     * built it at attach must report exactly what the lazy one reports, message for message, over the random valid
     * calls and every misuse.
     */
    @ParameterizedTest(name = "seed={0} {1}")
    @MethodSource("seedsAndPlatforms")
    void theLazyPhysIndexReportsWhatAnEagerOneReports(long seed, String platform) {
        List<String> lazy = randomRun(seed, platform, false);
        List<String> eager = randomRun(seed, platform, true);
        assertThat(lazy).as("seed=%d %s", seed, platform).isNotEmpty().isEqualTo(eager);
    }

    private static List<String> randomRun(long seed, String platform, boolean eager) {
        SeededRandom rnd = Seeds.random("DmaCheckerTest.lazyIndex " + platform, seed);
        List<String> out = new ArrayList<>();
        for (Misuse misuse : Misuse.values()) {
            Rig r = new Rig(platform, ALL);
            if (eager) {
                r.checker.indexEagerly();
            }
            RandomDriver drv = new RandomDriver(r, r.testDevice(), rnd.split());
            drv.validSteps(40);
            drv.inject(misuse);
            drv.unmapAll();
            for (DmaFinding f : r.findings()) {
                out.add(misuse + ": " + f.category() + " " + f.dmaAddr() + " " + f.phys() + " " + f.message());
            }
        }
        return out;
    }

    /**
     * Two live mappings of one buffer (here the same DMA address, told apart by direction) share a chain of the
     * physical-address index; the CPU write is judged against the newer first, so its finding names that mapping —
     * with the index built lazily at the write as with one built at attach.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aLazilyBuiltIndexKeepsTheNewestMappingFirst(boolean eager) {
        Rig r = new Rig(ARM, ALL);
        if (eager) {
            r.checker.indexEagerly();
        }
        Device d = r.testDevice();
        long va = r.buffer(LEN);
        r.cpuWrite(va, LEN);
        r.map(d, va, LEN, Direction.BIDIRECTIONAL);
        r.map(d, va, LEN, Direction.FROM_DEVICE);
        r.cpuWrite(va, 8);
        List<DmaFinding> cpu = r.findings().stream()
                .filter(f -> f.category() == Category.CPU_WRITE_DEVICE_OWNED)
                .toList();
        assertThat(cpu).singleElement().satisfies(f -> assertThat(f.message())
                .contains("of a DMA_FROM_DEVICE")
                .doesNotContain("DMA_BIDIRECTIONAL"));
    }
}
