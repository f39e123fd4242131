package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.dma.DmaEvent;
import dev.dmalab.kernel.KernelVersion;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FtraceWriter must print what the real 6.12.95 kernels printed, byte for byte: every event line of the six vendored
 * captures is parsed, rebuilt as the {@link DmaEvent} the model would emit (same device name and stamp), and
 * formatted again.
 */
class FtraceWriterCaptureTest {

    static List<String> captures() {
        return CaptureLines.ALL;
    }

    static List<String> x86Captures() {
        return CaptureLines.X86;
    }

    private static FtraceWriter writer612(int cpus) {
        return new FtraceWriter(KernelVersion.V6_12, cpus);
    }

    @ParameterizedTest
    @MethodSource("captures")
    void everyDmaLineOfTheCaptureIsReproducedByteForByte(String capture) {
        FtraceParser parser = CaptureLines.lineParser(capture);
        CaptureLines.Rebuilder rebuilder = new CaptureLines.Rebuilder();
        FtraceWriter writer = writer612(2);
        Map<String, Integer> compared = new TreeMap<>();
        List<String> mismatches = new ArrayList<>();
        int[] functionLines = {0};
        CaptureLines.forEachRawLine(capture, raw -> {
            if (raw.text().startsWith("#")) {
                return;
            }
            TraceRecord r = parser.parseLine(raw.text());
            DmaEvent e = rebuilder.rebuild(r);
            if (e == null) {
                assertThat(r.event()).isInstanceOf(TraceEvent.Other.class);
                assertThat(r.eventName()).as(raw.text()).isEqualTo("function");
                functionLines[0]++;
                return;
            }
            compared.merge(r.eventName(), 1, Integer::sum);
            String line = writer.format(e);
            if (!raw.text().equals(line) && mismatches.size() < 5) {
                mismatches.add("line " + raw.lineNo() + "\n  real:  " + raw.text() + "\n  model: " + line);
            }
        });
        assertThat(mismatches).as(capture).isEmpty();
        // Every DMA event line of the capture was compared (the summary's counts are checked in
        // FtraceParserCaptureTest).
        Map<String, Long> expected = CaptureSummary.eventCounts(capture);
        for (Map.Entry<String, Long> c : expected.entrySet()) {
            assertThat(compared.getOrDefault(c.getKey(), 0).longValue())
                    .as(capture + " " + c.getKey())
                    .isEqualTo(c.getValue());
        }
        if (capture.startsWith("x86")) {
            assertThat(functionLines[0]).isZero();
        } else {
            assertThat(functionLines[0]).isPositive();
        }
    }

    /** The x86 captures hold only DMA events and markers: the writer reproduces the whole file, header included. */
    @ParameterizedTest
    @MethodSource("x86Captures")
    void wholeX86CaptureIsReproducedIncludingTheHeader(String capture) throws IOException {
        CaptureLines.Rebuilder rebuilder = new CaptureLines.Rebuilder();
        FtraceWriter writer = writer612(1);
        try (FtraceParser p = FtraceParser.open(CaptureLines.trace(capture), true)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                writer.onEvent(rebuilder.rebuild(r));
            }
        }
        StringWriter out = new StringWriter();
        writer.writeTo(out);
        String real;
        try (var in = FtraceParser.openText(CaptureLines.trace(capture))) {
            StringWriter sw = new StringWriter();
            in.transferTo(sw);
            real = sw.toString();
        }
        String model = out.toString();
        if (!model.equals(real)) {
            String[] a = real.split("\n", -1);
            String[] b = model.split("\n", -1);
            for (int i = 0; i < Math.min(a.length, b.length); i++) {
                assertThat(b[i]).as(capture + " line " + (i + 1)).isEqualTo(a[i]);
            }
            assertThat(b.length).as(capture + " line count").isEqualTo(a.length);
        }
        assertThat(model).isEqualTo(real);
    }

    /** Representative real lines, one per event form, copied from the captures (and checked to be in them). */
    @Test
    void representativeLinesFromTheCaptures() throws IOException {
        String[][] cases = {
            {
                "x86-q35/swiotlb-force",
                "    kworker/u4:7-210     [000] .....     3.616693: dma_map_page: 0000:00:03.0 dir=FROM_DEVICE"
                        + " dma_addr=79804000 size=4096 phys_addr=ddd4000 attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "    kworker/u4:7-210     [000] d.h..     3.617444: dma_unmap_page: 0000:00:03.0 dir=FROM_DEVICE"
                        + " dma_addr=79804000 size=4096 attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "       scsi_eh_0-194     [000] d..1.     3.432828: dma_map_sg: 0000:00:1f.2 dir=FROM_DEVICE nents=1/1"
                        + " ents=1/1 dma_addrs={0x79800000} sizes={0x200} phys_addrs={0xd9a28c0} attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "       scsi_eh_0-194     [000] d.h2.     3.433765: dma_unmap_sg: 0000:00:1f.2 dir=FROM_DEVICE"
                        + " phys_addrs={0xd9a28c0} attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "          insmod-193     [000] .....     3.100391: dma_alloc: 0000:00:1f.2 dir=BIDIRECTIONAL"
                        + " dma_addr=dcc0000 size=91392 virt_addr=ffff88800dcc0000 flags=GFP_KERNEL attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "              ip-597     [000] .....    12.119462: dma_free: 0000:00:04.0 dir=BIDIRECTIONAL"
                        + " dma_addr=db93000 size=4096 virt_addr=ffff88800db93000 attrs="
            },
            {
                // dma_free_coherent(dev, 0, NULL, 0): the tracepoint fires before the NULL check
                "x86-q35/direct-2g",
                "           rmmod-630     [000] .....    14.600580: dma_free: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=0"
                        + " size=0 virt_addr=0000000000000000 attrs="
            },
            {
                "x86-q35/swiotlb-force",
                "          <idle>-0       [000] ..s1.    13.178599: dma_sync_single_for_cpu: 0000:00:05.0"
                        + " dir=FROM_DEVICE dma_addr=7ad3f000 size=68"
            },
            {
                "x86-q35/swiotlb-force",
                "       scsi_eh_0-194     [000] d..1.     3.432081: swiotlb_bounced: dev_name: 0000:00:1f.2"
                        + " dma_mask=ffffffffffffffff dev_addr=d9a28c0 size=512 FORCE"
            },
            {
                "x86-q35/swiotlb-force",
                "            init-1       [000] .....     2.813433: tracing_mark_write: TRACECAP BEGIN run=swiotlb-force"
            },
            {
                "arm64-virt/arm64-native-swiotlb-force-32M",
                "          insmod-152     [000] .....     2.130435: dma_alloc: 0000:00:02.0 dir=BIDIRECTIONAL"
                        + " dma_addr=b9ac0000 size=6726 virt_addr=00000000582ccb78"
                        + " flags=GFP_KERNEL|__GFP_NOWARN|__GFP_ZERO attrs=NO_WARN"
            },
            {
                "arm64-virt/arm64-native-swiotlb-force-32M",
                "    kworker/u8:2-113     [001] .....     2.282640: swiotlb_bounced: dev_name: 0000:00:03.0"
                        + " dma_mask=ffffffffffffffff dev_addr=498c5000 size=4096 FORCE"
            },
        };
        for (String[] c : cases) {
            assertThat(captureContains(c[0], c[1]))
                    .as("in " + c[0] + ": " + c[1])
                    .isTrue();
            assertThat(roundTrip(c[0], c[1])).isEqualTo(c[1]);
        }
    }

    /** AHCI with 168 segments: the 6.12.y form truncates the arrays at 128 and says so. */
    @Test
    void truncatedScatterlistLinesOfDirect2gAreReproduced() {
        List<String> truncated = new ArrayList<>();
        CaptureLines.forEachRawLine("x86-q35/direct-2g", raw -> {
            if (raw.text().contains(" [TRUNCATED] ")) {
                truncated.add(raw.text());
            }
        });
        assertThat(truncated).hasSize(7);
        assertThat(truncated).anyMatch(l -> l.contains(" nents=128/168 ents=128/168 [TRUNCATED] dma_addrs={"));
        FtraceParser parser = CaptureLines.lineParser("direct-2g");
        for (String line : truncated) {
            TraceEvent.MapSg sg = (TraceEvent.MapSg) parser.parseLine(line).event();
            assertThat(sg.truncated()).isTrue();
            assertThat(sg.nents()).isGreaterThan(FtraceWriter.SG_TRACE_MAX);
            assertThat(sg.phys()).hasSize(FtraceWriter.SG_TRACE_MAX);
            assertThat(sg.dmaAddrs()).hasSize(Math.min(sg.ents(), FtraceWriter.SG_TRACE_MAX));
            assertThat(roundTrip("direct-2g", line)).isEqualTo(line);
        }
    }

    /** The writer's own truncation: a 168-entry scatterlist prints 128 entries per array and both counts. */
    @Test
    void writerTruncatesLongScatterlistsAt128Entries() {
        CaptureLines.Rebuilder rb = new CaptureLines.Rebuilder();
        int n = 168;
        long[] phys = new long[n];
        long[] dma = new long[n];
        int[] len = new int[n];
        for (int i = 0; i < n; i++) {
            phys[i] = 0x2b00000L + i * 0x1000L;
            dma[i] = phys[i];
            len[i] = 0x1000;
        }
        DmaEvent.MapSg e = new DmaEvent.MapSg(
                new DmaEvent.Stamp(6_384_046_000L, 0, "dd", 472, "d..1."),
                rb.device("0000:00:1f.2"),
                true,
                dev.dmalab.dma.Direction.TO_DEVICE,
                n,
                n,
                phys,
                len,
                dma,
                len,
                0);
        String line = writer612(1).format(e);
        assertThat(line)
                .startsWith("              dd-472     [000] d..1.     6.384046: dma_map_sg: 0000:00:1f.2 dir=TO_DEVICE"
                        + " nents=128/168 ents=128/168 [TRUNCATED] dma_addrs={0x2b00000,0x2b01000,");
        TraceEvent.MapSg back =
                (TraceEvent.MapSg) CaptureLines.lineParser("t").parseLine(line).event();
        assertThat(back.dmaAddrs()).hasSize(128).containsExactly(java.util.Arrays.copyOf(dma, 128));
        assertThat(back.phys()).hasSize(128);
        assertThat(back.sizes()).hasSize(128);
        assertThat(back.nents()).isEqualTo(168);
        assertThat(back.ents()).isEqualTo(168);
        // exactly 128: no truncation marker
        DmaEvent.MapSg e128 = new DmaEvent.MapSg(
                e.stamp(),
                e.device(),
                true,
                e.dir(),
                128,
                128,
                java.util.Arrays.copyOf(phys, 128),
                java.util.Arrays.copyOf(len, 128),
                java.util.Arrays.copyOf(dma, 128),
                java.util.Arrays.copyOf(len, 128),
                0);
        assertThat(writer612(1).format(e128))
                .contains(" nents=128/128 ents=128/128 dma_addrs={")
                .doesNotContain("TRUNCATED");
    }

    @Test
    void eventsThatAreNotTracedAreNotWritten() {
        CaptureLines.Rebuilder rb = new CaptureLines.Rebuilder();
        DmaEvent.Stamp s = new DmaEvent.Stamp(1_000_000L, 0, "t", 1, ".....");
        FtraceWriter w = writer612(1);
        w.onEvent(new DmaEvent.SyncSingle(s, rb.device("a"), false, true, dev.dmalab.dma.Direction.FROM_DEVICE, 1, 2));
        w.onEvent(new DmaEvent.MappingErrorCheck(s, rb.device("a"), true, 0x1000));
        assertThat(w.lines()).isEmpty();
        w.onEvent(new DmaEvent.SyncSingle(s, rb.device("a"), true, true, dev.dmalab.dma.Direction.FROM_DEVICE, 1, 2));
        assertThat(w.lines())
                .containsExactly("               t-1       [000] .....     0.001000: dma_sync_single_for_cpu: a"
                        + " dir=FROM_DEVICE dma_addr=1 size=2");
    }

    private static String roundTrip(String file, String line) {
        TraceRecord r = CaptureLines.lineParser(file).parseLine(line);
        return writer612(2).format(new CaptureLines.Rebuilder().rebuild(r));
    }

    private static boolean captureContains(String capture, String line) throws IOException {
        boolean[] found = {false};
        CaptureLines.forEachRawLine(capture, raw -> found[0] |= raw.text().equals(line));
        return found[0] && Files.exists(CaptureLines.trace(capture));
    }
}
