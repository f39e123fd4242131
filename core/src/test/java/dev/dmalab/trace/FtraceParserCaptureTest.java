package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The parser reads all six vendored captures end to end in strict mode, and counts what their summaries say. */
class FtraceParserCaptureTest {

    static java.util.List<String> captures() {
        return CaptureLines.ALL;
    }

    /** What one strict pass over a capture saw. */
    record Tally(Map<String, Long> events, Map<String, Long> functions, long records, long other, long malformed) {}

    static Tally tally(String capture) throws IOException {
        Map<String, Long> events = new TreeMap<>();
        Map<String, Long> functions = new TreeMap<>();
        long records = 0;
        try (FtraceParser p = FtraceParser.open(CaptureLines.trace(capture), true)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                records++;
                if (r.event() instanceof TraceEvent.Other o) {
                    if (o.event().equals("function")) {
                        functions.merge(o.payload(), 1L, Long::sum);
                    } else {
                        events.merge("other:" + o.event(), 1L, Long::sum);
                    }
                } else {
                    events.merge(r.eventName(), 1L, Long::sum);
                }
            }
            return new Tally(events, functions, records, p.otherEvents(), p.malformedLines());
        }
    }

    @ParameterizedTest
    @MethodSource("captures")
    void strictParseOfTheWholeCaptureMatchesItsSummary(String capture) throws IOException {
        Tally t = tally(capture);
        assertThat(t.malformed()).isZero();
        Map<String, Long> summary = CaptureSummary.eventCounts(capture);
        for (Map.Entry<String, Long> e : summary.entrySet()) {
            assertThat(t.events().get(e.getKey()))
                    .as(capture + " " + e.getKey())
                    .isEqualTo(e.getValue());
        }
        // nothing else but markers (which the arm64 summaries leave out)
        Map<String, Long> rest = new TreeMap<>(t.events());
        rest.keySet().removeAll(summary.keySet());
        rest.remove("tracing_mark_write");
        assertThat(rest).as(capture + ": events the summary does not list").isEmpty();
        long functionLines =
                t.functions().values().stream().mapToLong(Long::longValue).sum();
        assertThat(t.other()).isEqualTo(functionLines);
        for (Map.Entry<String, Long> f : CaptureSummary.functionCounts(capture).entrySet()) {
            assertThat(t.functions().get(f.getKey()))
                    .as(capture + " " + f.getKey())
                    .isEqualTo(f.getValue());
        }
    }

    @Test
    void totalsOfTheX86Captures() throws IOException {
        Tally direct = tally("x86-q35/direct-2g");
        assertThat(direct.records()).isEqualTo(23679); // summary: trace lines (excluding # header)
        assertThat(direct.events())
                .containsEntry("dma_map_page", 11436L)
                .containsEntry("dma_map_sg", 316L)
                .containsEntry("dma_alloc", 23L)
                .containsEntry("dma_free", 23L)
                .containsEntry("tracing_mark_write", 129L)
                .doesNotContainKey("swiotlb_bounced");
        Tally force = tally("x86-q35/swiotlb-force");
        assertThat(force.records()).isEqualTo(44564);
        assertThat(force.events())
                .containsEntry("swiotlb_bounced", 19569L)
                .containsEntry("dma_sync_single_for_cpu", 524L);
        assertThat(tally("x86-q35/iommu-strict").records()).isEqualTo(24125);
    }

    @Test
    void totalsOfTheArm64Captures() throws IOException {
        Tally dom0 = tally("arm64-virt/xen-arm64-dom0");
        assertThat(dom0.events()).containsEntry("dma_map_page", 9849L).containsEntry("dma_free", 2L);
        assertThat(dom0.functions())
                .containsEntry("xen_swiotlb_map_page <-dma_map_page_attrs", 9849L)
                .containsEntry("xen_swiotlb_dma_supported <-dma_supported", 12L);
        // the header says how many entries the ring buffer held: every one is a record
        assertThat(dom0.records()).isEqualTo(64663);
        Tally force = tally("arm64-virt/arm64-native-swiotlb-force-32M");
        assertThat(force.events()).containsEntry("swiotlb_bounced", 8943L).containsEntry("dma_map_sg", 73L);
        long total = force.events().entrySet().stream()
                .filter(e -> !e.getKey().equals("tracing_mark_write"))
                .mapToLong(Map.Entry::getValue)
                .sum();
        assertThat(total).isEqualTo(22567); // summary: TOTAL
    }
}
