package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.trace.FtraceParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6: a device's {@code min_align_mask} inferred from the trace's bounced mappings ({@link
 * ReplaySetup.MinAlignEvidence}), a general rule checked on both swiotlb captures and on hand-made traces.
 */
class MinAlignInferenceTest {
    private static final CaptureReplayTest.Case X86 =
            new CaptureReplayTest.Case("x86-q35/swiotlb-force", "x86-q35", 1.0, 1.0);
    private static final CaptureReplayTest.Case ARM =
            new CaptureReplayTest.Case("arm64-virt/arm64-native-swiotlb-force-32M", "arm64-virt", 1.0, 1.0);
    private static final String NVME = "0000:00:03.0";

    private static Map<String, Long> masks(Supplier<FtraceParser> trace) {
        Map<String, Long> out = new TreeMap<>();
        ReplaySetup.scanBouncedMaps(trace).forEach((dev, ev) -> out.put(dev, ev.mask(12)));
        return out;
    }

    /** nvme sets 0xfff (NVME_CTRL_PAGE_SIZE - 1); virtio, e1000(e) and ahci set none: the trace shows exactly that. */
    @Test
    void theSwiotlbCapturesShowNvmesMaskAndNoOther() {
        assertThat(masks(CaptureReplayTest.opener(X86)))
                .containsExactlyEntriesOf(new TreeMap<>(Map.of(
                        "0000:00:02.0",
                        0L,
                        NVME,
                        0xfffL,
                        "0000:00:04.0",
                        0L,
                        "0000:00:05.0",
                        0L,
                        "0000:00:06.0",
                        0L,
                        "0000:00:1f.2",
                        0L)));
        assertThat(masks(CaptureReplayTest.opener(ARM)))
                .containsExactlyEntriesOf(new TreeMap<>(
                        Map.of("0000:00:02.0", 0L, NVME, 0xfffL, "0000:00:05.0", 0L, "0000:00:06.0", 0L)));
    }

    /** The x86 profile with nvme's driver unknown (so no mask from the driver table). */
    private static PlatformProfile withoutNvmeDriver() {
        PlatformProfile base = Platforms.builtIn("x86-q35");
        List<PlatformProfile.DeviceSpec> devs = new ArrayList<>();
        for (PlatformProfile.DeviceSpec d : base.devices()) {
            devs.add(
                    d.name().equals(NVME)
                            ? new PlatformProfile.DeviceSpec(
                                    d.name(),
                                    d.bus(),
                                    "",
                                    d.dmaMask(),
                                    d.coherentDmaMask(),
                                    d.coherent(),
                                    d.busDmaLimit(),
                                    d.dmaRanges(),
                                    d.maxSegmentSize(),
                                    d.segmentBoundary(),
                                    0,
                                    d.coherentPool(),
                                    d.hardwareAddressBits(),
                                    d.pciId(),
                                    d.description())
                            : d);
        }
        return base.refined(base.ram(), base.reserved(), base.mmio(), base.cpus(), base.possibleCpus(), devs);
    }

    private static ReplaySetup setup(PlatformProfile p, boolean fromTrace) {
        return ReplaySetup.create(
                p,
                KernelVersion.V6_12,
                CaptureReplayTest.file(X86.capture(), "cmdline.txt"),
                CaptureReplayTest.file(X86.capture(), "iomem.txt"),
                CaptureReplayTest.file(X86.capture(), "dmesg.txt"),
                null,
                "",
                CaptureReplayTest.opener(X86),
                fromTrace);
    }

    private static TraceReplay replay(ReplaySetup s) {
        try (FtraceParser p = CaptureReplayTest.opener(X86).get()) {
            return new TraceReplay(X86.capture(), p, s.boot(), null).run();
        }
    }

    /**
     * Without the driver table's entry the trace alone gives nvme its mask, and the capture replays exactly; with
     * the trace's evidence ignored, nvme's bounced mappings land at the wrong offsets.
     */
    @Test
    void theTraceGivesTheMaskTheProfileDoesNotKnow() {
        ReplaySetup inferred = setup(withoutNvmeDriver(), true);
        assertThat(inferred.profile().device(NVME).minAlignMask()).isEqualTo(0xfff);
        assertThat(inferred.sources())
                .filteredOn(s -> s.parameter().equals("min_align_mask " + NVME))
                .singleElement()
                .satisfies(s -> {
                    assertThat(s.value()).isEqualTo("0xfff");
                    assertThat(s.from()).contains("kept their low 12 address bits", "the profile gives none");
                });
        TraceReplay exact = replay(inferred);
        assertThat(exact.fidelity()).isEqualTo(1.0);

        ReplaySetup ignored = setup(withoutNvmeDriver(), false);
        assertThat(ignored.profile().device(NVME).minAlignMask()).isZero();
        TraceReplay wrong = replay(ignored);
        assertThat(wrong.fidelity()).isLessThan(1.0);
        assertThat(wrong.mismatches()).isNotEmpty();
    }

    @Test
    void maskFromTheEvidence() {
        // a kept bit below the agreement proves the mask; it is capped at the page offset
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 12, 9, 0, 1, 0).mask(12))
                .isEqualTo(0xfff);
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 14, 4, 0, 1, 0).mask(12))
                .isEqualTo(0xfff);
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 11, 4, 7, 1, 0).mask(12))
                .isEqualTo(0x7ff);
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 14, 4, 0, 1, 0).mask(16))
                .isEqualTo(0x3fff);
        // a lost bit and no kept one: no mask
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 6, 6, 40, 1, 0).mask(12))
                .isZero();
        // every buffer aligned past what its bounce kept: open
        assertThat(new ReplaySetup.MinAlignEvidence("d", 3, 12, 12, 0, 1, 0).mask(12))
                .isEqualTo(-1);
    }

    private static final String HEADER = "# tracer: nop\n#\n";

    private static String line(String event, String payload) {
        return "    kworker/u4:7-210     [000] .....     3.616570: " + event + ": " + payload + "\n";
    }

    private static Supplier<FtraceParser> traceOf(Path dir, String text) throws IOException {
        Path f = dir.resolve("trace.txt");
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return () -> {
            try {
                return FtraceParser.open(f, true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /**
     * Hand-made bounces: the pairing needs the same CPU, device and buffer; a failed map, a map the bounce does not
     * announce and another device's map say nothing.
     */
    @Test
    void onlyAnnouncedBouncesOfTheSameDeviceCount(@TempDir Path dir) throws IOException {
        String dev = "0000:00:09.0";
        String t = HEADER
                + line("swiotlb_bounced", "dev_name: " + dev + " dma_mask=ffffffff dev_addr=1234200 size=512 FORCE")
                + line("dma_map_page", dev + " dir=TO_DEVICE dma_addr=79800200 size=512 phys_addr=1234200 attrs=")
                + line("swiotlb_bounced", "dev_name: " + dev + " dma_mask=ffffffff dev_addr=1235a40 size=64 FORCE")
                + line("dma_map_page", dev + " dir=TO_DEVICE dma_addr=79801a40 size=64 phys_addr=1235a40 attrs=")
                // another device's map of an announced buffer, and a map nothing announced
                + line("swiotlb_bounced", "dev_name: " + dev + " dma_mask=ffffffff dev_addr=1236010 size=64 FORCE")
                + line("dma_map_page", "0000:00:0a.0 dir=TO_DEVICE dma_addr=79803000 size=64 phys_addr=1236010 attrs=")
                + line("dma_map_page", dev + " dir=TO_DEVICE dma_addr=79804000 size=64 phys_addr=1237010 attrs=")
                // a failed map
                + line("swiotlb_bounced", "dev_name: " + dev + " dma_mask=ffffffff dev_addr=1238010 size=64 FORCE")
                + line(
                        "dma_map_page",
                        dev + " dir=TO_DEVICE dma_addr=ffffffffffffffff size=64 phys_addr=1238010 attrs=");
        Map<String, ReplaySetup.MinAlignEvidence> ev = ReplaySetup.scanBouncedMaps(traceOf(dir, t));
        assertThat(ev).containsOnlyKeys(dev);
        ReplaySetup.MinAlignEvidence e = ev.get(dev);
        assertThat(e.maps()).isEqualTo(2);
        assertThat(e.agree()).isEqualTo(14); // 0x1234200 ^ 0x79800200 = 0x78034000, and so for the other
        assertThat(e.lowestSetBit()).isEqualTo(6);
        assertThat(e.dmaMask()).isEqualTo(0xffffffffL);
        assertThat(e.mask(12)).isEqualTo(0xfff);
    }

    /** A device only the trace names, with a mask the trace proves, is added with it (and its bounce's DMA mask). */
    @Test
    void aDeviceOnlyTheTraceNamesIsAddedWithItsMask(@TempDir Path dir) throws IOException {
        String dev = "0000:00:09.0";
        String t = HEADER
                + line("swiotlb_bounced", "dev_name: " + dev + " dma_mask=ffffffff dev_addr=1234200 size=512 FORCE")
                + line("dma_map_page", dev + " dir=TO_DEVICE dma_addr=79800600 size=512 phys_addr=1234200 attrs=");
        ReplaySetup s = ReplaySetup.create(
                Platforms.builtIn("x86-q35"),
                KernelVersion.V6_12,
                new ReplaySetup.FileText("cmdline.txt", "swiotlb=force"),
                null,
                null,
                null,
                "",
                traceOf(dir, t));
        PlatformProfile.DeviceSpec d = s.profile().device(dev);
        assertThat(d).isNotNull();
        assertThat(d.minAlignMask()).isEqualTo(0x3ff); // bit 9 kept (0x200), bit 10 not (0x200 ^ 0x600 = 0x400)
        assertThat(d.dmaMask()).isEqualTo(0xffffffffL);
        assertThat(s.sources()).anySatisfy(src -> {
            assertThat(src.parameter()).isEqualTo("device " + dev);
            assertThat(src.from()).isEqualTo("trace: 1 bounced buffer (line 4) kept its low 10 address bits");
        });
    }
}
