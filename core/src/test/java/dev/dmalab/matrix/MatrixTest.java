package dev.dmalab.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.ScenarioLoader;
import dev.dmalab.scenario.ScenarioWorkload;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.WorkloadContext;
import dev.dmalab.scenario.Workloads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Matrix}: order, determinism across runs and parallelism, unsupported cells, classification. */
class MatrixTest {
    static final List<KernelVersion> ALL_KERNELS = KernelVersion.builtIn();

    static List<PlatformProfile> platforms(String... names) {
        List<PlatformProfile> out = new ArrayList<>();
        for (String n : names) {
            out.add(Platforms.builtIn(n));
        }
        return out;
    }

    static Matrix.Request request(String workload, List<PlatformProfile> platforms, String cmdline) {
        return new Matrix.Request(
                new Subject.OfWorkload(Workloads.byName(workload)), platforms, ALL_KERNELS, cmdline, 1);
    }

    /** The one cell of {@code subject} on {@code platform} with Linux 6.12. */
    static Cell cell(Subject subject, String platform, String cmdline) {
        Matrix.Request req = new Matrix.Request(subject, platforms(platform), List.of(KernelVersion.V6_12), cmdline, 1);
        return Matrix.run(req, Matrix.Progress.NONE).cells().get(0);
    }

    static List<String> labels(MatrixResult r) {
        List<String> out = new ArrayList<>();
        for (Cell c : r.cells()) {
            out.add(c.platform() + " " + c.kernel() + " " + c.label());
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Order and determinism

    @Test
    void cellsComeInPlatformThenKernelOrderEvenWhenTheFirstFinishesLast() {
        // the first cell waits until every other cell has run: it finishes last, and must still come first
        List<PlatformProfile> ps = platforms("x86-q35", "arm64-virt");
        List<KernelVersion> ks = List.of(KernelVersion.V5_0, KernelVersion.V6_12);
        CountDownLatch others = new CountDownLatch(3);
        List<String> finished = Collections.synchronizedList(new ArrayList<>());
        Workload w = new Workload() {
            @Override
            public String name() {
                return "first-finishes-last";
            }

            @Override
            public String description() {
                return "the first cell waits for the others";
            }

            @Override
            public void run(WorkloadContext ctx) {
                String cell = ctx.machine().profile().name() + " "
                        + ctx.machine().version().name();
                if (cell.equals("x86-q35 5.0")) {
                    try {
                        assertThat(others.await(5, TimeUnit.MINUTES)).isTrue();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    finished.add(cell);
                } else {
                    finished.add(cell); // before the count-down, so that the first cell is surely added last
                    others.countDown();
                }
            }
        };
        List<int[]> progress = new ArrayList<>();
        MatrixResult r = Matrix.run(
                new Matrix.Request(new Subject.OfWorkload(w), ps, ks, "", 1),
                4,
                (done, total) -> progress.add(new int[] {done, total}));
        assertThat(finished).hasSize(4).endsWith("x86-q35 5.0");
        assertThat(labels(r))
                .containsExactly("x86-q35 5.0 ok", "x86-q35 6.12 ok", "arm64-virt 5.0 ok", "arm64-virt 6.12 ok");
        assertThat(progress).extracting(p -> p[0]).containsExactly(1, 2, 3, 4);
        assertThat(progress).extracting(p -> p[1]).containsOnly(4);
    }

    @Test
    void theSameRequestGivesAnEqualResultTwiceAndAtAnyParallelism() {
        Matrix.Request req = request(
                "streaming-roundtrip-nosync",
                platforms("x86-q35", "arm64-noncoherent", "rpi4", "juno-r2-xen-dom0", "x86-xen-pv-dom0"),
                "");
        MatrixResult serial = Matrix.run(req, 1, Matrix.Progress.NONE);
        MatrixResult parallel = Matrix.run(req, 4, Matrix.Progress.NONE);
        MatrixResult again = Matrix.run(req, 4, Matrix.Progress.NONE);
        assertThat(serial.cells()).hasSize(25);
        assertThat(parallel).isEqualTo(serial);
        assertThat(again).isEqualTo(serial);
        assertThat(again.toString()).isEqualTo(serial.toString());
        assertThat(serial.summary()).isEqualTo("25 cells: 24 findings, 1 oops");
    }

    @Test
    void aRequestNeedsPlatformsKernelsAndPositiveParallelism() {
        assertThatThrownBy(() -> new Matrix.Request(
                        new Subject.OfWorkload(Workloads.byName("streaming-roundtrip")), List.of(), ALL_KERNELS, "", 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Matrix.run(request("streaming-roundtrip", platforms("x86-q35"), ""), 0, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Unsupported cells

    @Test
    void aWorkloadThatDoesNotApplyIsUnsupportedWithItsReason() {
        // the vmalloc check of the DMA checker is modelled from 6.12 on
        MatrixResult r = Matrix.run(request("check-map-vmalloc", platforms("x86-q35"), ""), Matrix.Progress.NONE);
        assertThat(labels(r))
                .containsExactly(
                        "x86-q35 4.20 unsupported",
                        "x86-q35 5.0-rc2 unsupported",
                        "x86-q35 5.0 unsupported",
                        "x86-q35 5.4 unsupported",
                        "x86-q35 6.12 findings 1");
        Cell old = r.cells().get(0);
        assertThat(old.detail()).startsWith("Linux 4.20 lacks ");
        assertThat(old.outcome().failing()).isFalse();
        assertThat(old.bounceBytes()).isZero();
        assertThat(r.summary()).isEqualTo("5 cells: 1 findings, 4 unsupported");
    }

    @Test
    void aMachineThatCannotBootIsUnsupportedNotAnError(@TempDir Path dir) throws IOException {
        // a 64 MiB pool at 0x7d000000 runs into x86-q35's early boot allocations at 0x7d800000
        String profile = Platforms.text("x86-q35").replace("name: x86-q35", "name: no-room")
                + "swiotlb: {slots: 32768, force: true, base: 0x7d000000}\n";
        Path p = dir.resolve("no-room.yaml");
        Files.writeString(p, profile);
        MatrixResult r = Matrix.run(
                new Matrix.Request(
                        new Subject.OfWorkload(Workloads.byName("streaming-roundtrip")),
                        List.of(Platforms.load(p.toString()), Platforms.builtIn("x86-q35")),
                        List.of(KernelVersion.V6_12),
                        "",
                        1),
                Matrix.Progress.NONE);
        assertThat(labels(r)).containsExactly("no-room 6.12 unsupported", "x86-q35 6.12 ok");
        assertThat(r.cells().get(0).detail()).startsWith("cannot boot: ").contains("not free RAM");
        assertThat(r.failed()).isFalse();
        assertThat(r.summary()).isEqualTo("2 cells: 1 ok, 1 unsupported");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Classification

    static RunResult result(Outcome o, List<String> failures, List<String> findings, long failedMaps) {
        TreeMap<String, Long> counters = new TreeMap<>();
        counters.put("swiotlb_failed_maps", failedMaps);
        counters.put("swiotlb_bytes_to_bounce", 3000L);
        counters.put("swiotlb_bytes_from_bounce", 1000L);
        counters.put("swiotlb_used_hiwater_slots", 7L);
        return new RunResult(
                "w",
                "p",
                "k",
                1,
                o,
                failures,
                counters,
                null,
                findings,
                List.of(),
                0,
                o == Outcome.UNSUPPORTED ? "why not" : null);
    }

    @Test
    void outcomesFollowTheirPrecedence() {
        Cell ok = Matrix.classify(result(Outcome.OK, List.of(), List.of(), 0), 128);
        assertThat(ok).isEqualTo(new Cell("p", "k", CellOutcome.OK, 0, null, 4000, 7, 128));

        Cell failed = Matrix.classify(result(Outcome.FAILED, List.of("bytes differ", "more"), List.of(), 0), 128);
        assertThat(failed.label()).isEqualTo("failed");
        assertThat(failed.detail()).isEqualTo("bytes differ");

        Cell findings = Matrix.classify(
                result(Outcome.FAILED, List.of("bytes differ"), List.of("stale read [x]", "leak [y]"), 0), 128);
        assertThat(findings.label()).isEqualTo("findings 2");
        assertThat(findings.detail()).isEqualTo("stale read [x]");

        Cell exhausted =
                Matrix.classify(result(Outcome.FAILED, List.of("map failed"), List.of("unchecked [z]"), 3), 128);
        assertThat(exhausted.label()).isEqualTo("pool exhausted");
        assertThat(exhausted.findings()).isEqualTo(1);
        assertThat(exhausted.detail()).isEqualTo("swiotlb failed 3 mappings; first failure: map failed");

        Cell copedButDry = Matrix.classify(result(Outcome.OK, List.of(), List.of(), 1), 128);
        assertThat(copedButDry.outcome()).isEqualTo(CellOutcome.POOL_EXHAUSTED);
        assertThat(copedButDry.detail()).isEqualTo("swiotlb failed 1 mapping");

        Cell unsupported = Matrix.classify(result(Outcome.UNSUPPORTED, List.of(), List.of(), 0), 128);
        assertThat(unsupported).isEqualTo(Cell.unsupported("p", "k", "why not"));

        assertThat(List.of(ok, failed, findings, exhausted, unsupported))
                .extracting(c -> c.outcome().failing())
                .containsExactly(false, true, true, true, false);
    }

    @Test
    void realWorkloadsGiveEachOutcome() {
        MatrixResult nosync = Matrix.run(
                new Matrix.Request(
                        new Subject.OfWorkload(Workloads.byName("streaming-roundtrip-nosync")),
                        platforms("arm64-noncoherent", "juno-r2-xen-dom0"),
                        List.of(KernelVersion.V5_0_RC2, KernelVersion.V6_12),
                        "",
                        1),
                Matrix.Progress.NONE);
        assertThat(labels(nosync))
                .containsExactly(
                        "arm64-noncoherent 5.0-rc2 findings 4",
                        "arm64-noncoherent 6.12 findings 4",
                        "juno-r2-xen-dom0 5.0-rc2 oops",
                        "juno-r2-xen-dom0 6.12 findings 2");
        Cell arm = nosync.cells().get(1);
        assertThat(arm.bounceBytes()).isPositive();
        assertThat(arm.peakSlots()).isPositive().isLessThanOrEqualTo(arm.poolSlots());
        assertThat(arm.detail()).endsWith("[cpu-read-device-owned]");
        assertThat(nosync.cells().get(2).detail())
                .contains("NULL pointer dereference")
                .contains("xen_swiotlb");
        assertThat(nosync.failed()).isTrue();
    }

    @Test
    void aSmallForcedPoolRunsDryEvenWhenTheDriverCopes() {
        // pool-hog maps 100 buffers of 8 KiB (4 slots each) and keeps them; its error path returns quietly at the
        // first failure, the 33rd
        ScenarioWorkload hog = new ScenarioWorkload(ScenarioLoader.load(resource("pool-hog.yaml")), "default");
        Cell c = cell(new Subject.OfWorkload(hog), "x86-q35", "swiotlb=128,force");
        assertThat(c.label()).isEqualTo("pool exhausted");
        assertThat(c.peakSlots()).isEqualTo(128);
        assertThat(c.poolSlots()).isEqualTo(128);
        assertThat(c.bounceBytes()).isEqualTo(256 * 1024);
        assertThat(c.detail()).isEqualTo("swiotlb failed 1 mapping");
        assertThat(cell(new Subject.OfWorkload(hog), "x86-q35", "").label()).isEqualTo("ok");
    }

    static Path resource(String name) {
        return Path.of("src/test/resources/matrix", name);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Traces

    static final String MAP_LINE = "          dd-1     [000] .....    1.%06d: dma_map_page: 0000:00:02.0 dir=TO_DEVICE"
            + " dma_addr=%x size=8192 phys_addr=%x attrs=\n";

    /** A trace of 100 mappings of 8 KiB at 0x2000000 + 8 KiB × i, never unmapped. */
    static Path hogTrace(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("# tracer: nop\n");
        for (int i = 0; i < 100; i++) {
            long pa = 0x2000000L + 0x2000L * i;
            sb.append(String.format(MAP_LINE, i, pa, pa));
        }
        Path t = dir.resolve("hog.txt");
        Files.writeString(t, sb.toString());
        return t;
    }

    @Test
    void aTraceIsOkWhereTheModelMakesEveryMappingAndUnsupportedWhereItsPagesAreNotRam(@TempDir Path dir)
            throws IOException {
        Path t = hogTrace(dir);
        Matrix.Request req = new Matrix.Request(
                new Subject.OfTrace(t), platforms("x86-q35", "arm64-virt"), List.of(KernelVersion.V6_12), "", 1);
        MatrixResult r = Matrix.run(req, Matrix.Progress.NONE);
        assertThat(labels(r)).containsExactly("x86-q35 6.12 ok", "arm64-virt 6.12 unsupported");
        assertThat(r.cells().get(1).detail())
                .isEqualTo("the trace maps phys 0x2000000 (line 2), not RAM on arm64-virt");
        assertThat(Matrix.run(req, 1, Matrix.Progress.NONE)).isEqualTo(r);
    }

    @Test
    void aTraceOnATooSmallForcedPoolIsPoolExhausted(@TempDir Path dir) throws IOException {
        Cell c = cell(new Subject.OfTrace(hogTrace(dir)), "x86-q35", "swiotlb=128,force");
        assertThat(c.label()).isEqualTo("pool exhausted");
        assertThat(c.peakSlots()).isEqualTo(128);
        assertThat(c.detail())
                .isEqualTo("the model failed 68 of the mappings the kernel made; first at trace line 34:"
                        + " 0000:00:02.0, 8192 bytes, swiotlb 128 of 128 slots in use");
    }

    @Test
    void aTraceOnMoreCpusThanThePlatformHasIsUnsupported(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("cpu3.txt");
        Files.writeString(t, String.format(MAP_LINE, 0, 0x2000000, 0x2000000).replace("[000]", "[003]"));
        Cell c = cell(new Subject.OfTrace(t), "x86-q35", "");
        assertThat(c.outcome()).isEqualTo(CellOutcome.UNSUPPORTED);
        assertThat(c.detail()).isEqualTo("the trace runs on CPU 3 (line 1), x86-q35 has 1 CPU");
    }
}
